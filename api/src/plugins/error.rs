//! How a plugin call can fail, from the host's point of view.

use std::fmt;

use super::bindings::PluginError;

/// Why a plugin call did not return a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The plugin answered with one of the contract's errors.
    #[error("the plugin refused: {0}")]
    Plugin(PluginFault),
    /// The plugin panicked; the message is what it printed.
    #[error("the plugin panicked: {0}")]
    Panicked(String),
    /// The plugin trapped (an `unreachable`, a bad memory access...).
    #[error("the plugin crashed: {0}")]
    Trapped(String),
    /// The plugin ran past its CPU budget or the call's wall-clock timeout.
    #[error("the plugin ran out of time after {0} ms")]
    TimedOut(u64),
    /// The plugin tried to grow its memory past the limit.
    #[error("the plugin ran out of memory (limit {0} bytes)")]
    OutOfMemory(usize),
    /// The plugin answered with more data than the host accepts.
    #[error("the plugin's answer is too large ({0} bytes)")]
    OutputTooLarge(usize),
    /// The plugin does not declare the capability this call needs.
    #[error("the plugin does not support {0}")]
    Unsupported(&'static str),
    /// The plugin is paused after repeated failures, or disabled.
    #[error("the plugin is unavailable: {0}")]
    Unavailable(String),
    /// The host could not run the call (instantiation failed, pool closed).
    #[error("the plugin could not be run: {0}")]
    Host(String),
}

impl CallError {
    /// Whether this failure counts against the plugin's circuit breaker:
    /// crashes and overruns do, contract errors (a platform saying no) do not.
    pub fn is_misbehaviour(&self) -> bool {
        matches!(
            self,
            Self::Panicked(_)
                | Self::Trapped(_)
                | Self::TimedOut(_)
                | Self::OutOfMemory(_)
                | Self::OutputTooLarge(_)
        )
    }
}

/// A contract error, in host terms (the generated type is not `Eq`/`Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginFault {
    /// Credentials need refreshing or reconnecting.
    Unauthorized(String),
    /// Retry after this many seconds.
    RateLimited(Option<u32>),
    /// The input cannot be used as it is.
    Invalid(String),
    /// Try again later.
    Transient(String),
    /// The remote object does not exist.
    NotFound,
    /// Not supported by this plugin.
    Unsupported,
}

impl From<PluginError> for PluginFault {
    fn from(err: PluginError) -> Self {
        match err {
            PluginError::Unauthorized(m) => Self::Unauthorized(m),
            PluginError::RateLimited(s) => Self::RateLimited(s),
            PluginError::Invalid(m) => Self::Invalid(m),
            PluginError::Transient(m) => Self::Transient(m),
            PluginError::NotFound => Self::NotFound,
            PluginError::Unsupported => Self::Unsupported,
        }
    }
}

impl fmt::Display for PluginFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unauthorized(m) => write!(f, "unauthorized: {m}"),
            Self::RateLimited(Some(s)) => write!(f, "rate limited; retry after {s} s"),
            Self::RateLimited(None) => f.write_str("rate limited"),
            Self::Invalid(m) => write!(f, "invalid: {m}"),
            Self::Transient(m) => write!(f, "temporarily failed: {m}"),
            Self::NotFound => f.write_str("not found"),
            Self::Unsupported => f.write_str("unsupported"),
        }
    }
}
