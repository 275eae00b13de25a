//! Named points where a fault test can stop the worker dead.
//!
//! With `test_pause_at` set to a point's name, the job that reaches that
//! point prints `plaza: paused at <point>` on standard output and never goes
//! on; the test then kills the process (SIGKILL) and restarts it, to prove
//! that no post is lost or sent twice whatever instant the process dies at.
//! Unset (always, in production), a point costs one comparison.

use std::io::Write;

use crate::state::AppState;

/// After the target is marked `sending`, before the platform call.
pub const PUBLISH_BEFORE_CALL: &str = "publish.before_call";
/// After the platform answered, before its answer is recorded.
pub const PUBLISH_AFTER_CALL: &str = "publish.after_call";

/// Stops here for good when the configuration names this point.
pub async fn point(state: &AppState, name: &str) {
    if state.config.test_pause_at.as_deref() != Some(name) {
        return;
    }
    let mut out = std::io::stdout();
    // Nothing to do if stdout is gone: the test is not listening either.
    let _ = writeln!(out, "plaza: paused at {name}");
    let _ = out.flush();
    std::future::pending::<()>().await;
}
