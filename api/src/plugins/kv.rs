//! The small key-value store each (plugin, channel) pair gets.

use std::collections::HashMap;
use std::sync::Mutex;

/// Most keys one scope may hold.
pub const MAX_KEYS: usize = 1_000;
/// Largest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Storage behind the `kv-*` imports; `scope` is `<plugin>/<channel>`.
pub trait KvStore: Send + Sync {
    /// A value, if set.
    fn get(&self, scope: &str, key: &str) -> Option<Vec<u8>>;
    /// Sets a value (silently refused past the size limits).
    fn set(&self, scope: &str, key: &str, value: Vec<u8>);
    /// Removes a value.
    fn delete(&self, scope: &str, key: &str);
}

/// A process-local store. Durable storage in the database comes with
/// channels (they own the scope); until then values live as long as the server.
#[derive(Debug, Default)]
pub struct MemoryKv {
    scopes: Mutex<HashMap<String, HashMap<String, Vec<u8>>>>,
}

impl KvStore for MemoryKv {
    fn get(&self, scope: &str, key: &str) -> Option<Vec<u8>> {
        let scopes = self.scopes.lock().ok()?;
        scopes.get(scope)?.get(key).cloned()
    }

    fn set(&self, scope: &str, key: &str, value: Vec<u8>) {
        if value.len() > MAX_VALUE_BYTES || key.len() > 256 {
            return;
        }
        if let Ok(mut scopes) = self.scopes.lock() {
            let entries = scopes.entry(scope.to_owned()).or_default();
            if entries.len() < MAX_KEYS || entries.contains_key(key) {
                entries.insert(key.to_owned(), value);
            }
        }
    }

    fn delete(&self, scope: &str, key: &str) {
        if let Ok(mut scopes) = self.scopes.lock()
            && let Some(entries) = scopes.get_mut(scope)
        {
            entries.remove(key);
        }
    }
}
