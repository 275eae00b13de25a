//! The only clock a plugin has.

/// Milliseconds since the Unix epoch, as the host sees it.
pub fn now_ms() -> u64 {
    crate::sys::now_ms()
}
