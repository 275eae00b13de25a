//! Writing to the server log. The host scrubs credentials from messages and
//! tags every line with the plugin and channel.

use crate::sys;

/// How much a log line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Step-by-step detail.
    Trace,
    /// Detail for debugging.
    Debug,
    /// Normal events.
    Info,
    /// Something unexpected that the plugin handled.
    Warn,
    /// Something failed.
    Error,
}

/// Writes `message` at `level`.
pub fn log(level: Level, message: impl AsRef<str>) {
    sys::log(level, message.as_ref());
}

/// Writes a trace line.
pub fn trace(message: impl AsRef<str>) {
    log(Level::Trace, message);
}

/// Writes a debug line.
pub fn debug(message: impl AsRef<str>) {
    log(Level::Debug, message);
}

/// Writes an info line.
pub fn info(message: impl AsRef<str>) {
    log(Level::Info, message);
}

/// Writes a warning.
pub fn warn(message: impl AsRef<str>) {
    log(Level::Warn, message);
}

/// Writes an error line.
pub fn error(message: impl AsRef<str>) {
    log(Level::Error, message);
}
