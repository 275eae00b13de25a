//! A small key-value store private to (plugin, channel): cursors, cached ids,
//! anything that must outlive one call.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{PluginError, sys};

/// The value under `key`, if any.
pub fn get(key: &str) -> Option<Vec<u8>> {
    sys::kv_get(key)
}

/// Stores `value` under `key`, replacing what was there.
pub fn set(key: &str, value: impl AsRef<[u8]>) {
    sys::kv_set(key, value.as_ref());
}

/// Removes `key`; removing a missing key is not an error.
pub fn delete(key: &str) {
    sys::kv_delete(key);
}

/// The value under `key` as UTF-8 text; `None` when missing or not text.
pub fn get_string(key: &str) -> Option<String> {
    String::from_utf8(get(key)?).ok()
}

/// The value under `key` parsed as JSON; a stored value that does not fit
/// `T` is [`PluginError::Transient`].
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, PluginError> {
    get(key)
        .map(|bytes| serde_json::from_slice(&bytes))
        .transpose()
        .map_err(|error| {
            PluginError::Transient(format!("stored value {key} is unreadable: {error}"))
        })
}

/// Stores `value` as JSON under `key`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), PluginError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|error| PluginError::Invalid(format!("value for {key} is not JSON: {error}")))?;
    set(key, bytes);
    Ok(())
}
