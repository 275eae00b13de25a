//! Credentials of the channel the current call acts for ("access_token",
//! "refresh_token", "app_password"); never of another channel.

use crate::PluginError;

/// The credential `name`, if the channel has one.
pub fn get(name: &str) -> Option<String> {
    crate::sys::credential(name)
}

/// The credential `name`; a missing one is [`PluginError::Unauthorized`]
/// so the account is asked to reconnect.
pub fn require(name: &str) -> Result<String, PluginError> {
    get(name).ok_or_else(|| PluginError::Unauthorized(format!("missing credential {name}")))
}
