//! The one error a plugin function answers with, mirroring the WIT
//! `plugin-error` variant case for case.

use std::fmt;

/// Why a plugin call failed. The host decides what to do from the case:
/// ask the account to reconnect, retry later, show the reason to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// Credentials need refreshing or the account must reconnect.
    Unauthorized(String),
    /// Rate limited; retry after this many seconds, if the platform said.
    RateLimited(Option<u32>),
    /// The input cannot be used as it is; the reason is for people.
    Invalid(String),
    /// Try again later.
    Transient(String),
    /// The remote object does not exist (any more).
    NotFound,
    /// The plugin does not implement this function.
    Unsupported,
}

impl PluginError {
    /// `Unauthorized` with a reason.
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Self::Unauthorized(reason.into())
    }

    /// `Invalid` with a reason meant for people.
    pub fn invalid(reason: impl Into<String>) -> Self {
        Self::Invalid(reason.into())
    }

    /// `Transient` with a reason.
    pub fn transient(reason: impl Into<String>) -> Self {
        Self::Transient(reason.into())
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited(_) | Self::Transient(_))
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unauthorized(reason) => write!(f, "unauthorized: {reason}"),
            Self::RateLimited(Some(secs)) => write!(f, "rate limited: retry after {secs}s"),
            Self::RateLimited(None) => f.write_str("rate limited"),
            Self::Invalid(reason) => write!(f, "invalid: {reason}"),
            Self::Transient(reason) => write!(f, "transient: {reason}"),
            Self::NotFound => f.write_str("not found"),
            Self::Unsupported => f.write_str("unsupported"),
        }
    }
}

impl std::error::Error for PluginError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_case() {
        assert_eq!(
            PluginError::RateLimited(Some(30)).to_string(),
            "rate limited: retry after 30s"
        );
        assert_eq!(
            PluginError::invalid("too long").to_string(),
            "invalid: too long"
        );
        assert_eq!(PluginError::NotFound.to_string(), "not found");
    }

    #[test]
    fn only_rate_limits_and_transient_errors_are_retryable() {
        assert!(PluginError::RateLimited(None).is_retryable());
        assert!(PluginError::transient("503").is_retryable());
        assert!(!PluginError::unauthorized("expired").is_retryable());
        assert!(!PluginError::Unsupported.is_retryable());
    }
}
