//! Why the host did not deliver a request, mirroring the WIT `http-error`.

use std::fmt;

use crate::PluginError;

/// Why the host did not deliver a request or its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The host refused: not an allowed host, not https, a private address.
    Denied(String),
    /// The platform did not answer in time.
    Timeout,
    /// The response was larger than the host accepts.
    TooLarge,
    /// Too many requests in one plugin call.
    TooManyRequests,
    /// No connection could be made (DNS, TLS, refused).
    Connect(String),
    /// The URL does not parse.
    InvalidUrl(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Denied(reason) => write!(f, "denied: {reason}"),
            Self::Timeout => f.write_str("timeout"),
            Self::TooLarge => f.write_str("response too large"),
            Self::TooManyRequests => f.write_str("too many requests in one call"),
            Self::Connect(reason) => write!(f, "connect: {reason}"),
            Self::InvalidUrl(reason) => write!(f, "invalid url: {reason}"),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<HttpError> for PluginError {
    /// What retrying cannot fix (a denied host, a bad URL) is `Invalid`;
    /// the rest is `Transient`.
    fn from(error: HttpError) -> Self {
        match error {
            HttpError::Denied(_) | HttpError::InvalidUrl(_) => Self::Invalid(error.to_string()),
            HttpError::Timeout
            | HttpError::TooLarge
            | HttpError::TooManyRequests
            | HttpError::Connect(_) => Self::Transient(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_and_bad_urls_are_invalid_the_rest_transient() {
        assert_eq!(
            PluginError::from(HttpError::Denied("host not allowed".into())),
            PluginError::Invalid("denied: host not allowed".into())
        );
        assert_eq!(
            PluginError::from(HttpError::InvalidUrl("no scheme".into())),
            PluginError::Invalid("invalid url: no scheme".into())
        );
        assert_eq!(
            PluginError::from(HttpError::Timeout),
            PluginError::Transient("timeout".into())
        );
        assert!(PluginError::from(HttpError::Connect("refused".into())).is_retryable());
        assert!(PluginError::from(HttpError::TooManyRequests).is_retryable());
    }
}
