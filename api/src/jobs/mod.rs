//! The durable job queue: every piece of background work (publishing, the
//! follow-up parts of a thread, token refresh, later polling mentions and
//! collecting metrics) is a row of the `jobs` table.
//!
//! - **Enqueue** in the same transaction as the change that causes the job
//!   ([`enqueue`]), so a job exists exactly when its cause does. A unique key
//!   stops duplicates: while a job holding it is queued or running, enqueueing
//!   the same key answers that job. A finished (succeeded or dead) job keeps
//!   its key for the record but no longer holds it (a partial unique index).
//! - **Lease.** A worker [`claim`]s due jobs of the kinds it serves and holds
//!   each one until a lease expires, renewing it with [`heartbeat`] while it
//!   works. PostgreSQL claims with `FOR UPDATE SKIP LOCKED` so that replicas
//!   never take the same job or wait for one another; SQLite claims on its
//!   single writer under `BEGIN IMMEDIATE`.
//! - **Fence.** Every claim (and every rescue) bumps the job's `fence`. The
//!   worker's writes ([`heartbeat`], [`complete`], [`fail`]) name the fence
//!   and owner of their claim and change nothing once either moved: a worker
//!   that stalled past its lease, and whose job someone else now runs, learns
//!   it lost the job (`false`) and cannot overwrite the newer attempt.
//! - **Rescue.** [`rescue_expired`] returns running jobs whose lease ran out
//!   (their worker died or hung) to the queue, or buries them when they have
//!   used all their attempts: a claim counts as an attempt, so a job that
//!   kills its worker every time does not loop forever.
//! - **Retry.** A failed attempt goes back to the queue after exponential
//!   backoff with full jitter ([`backoff`]), or after the wait a rate-limited
//!   platform asked for ([`Retry::After`]); out of attempts, the job is dead
//!   and kept with its error (a dead letter) until [`retry_dead`] requeues it
//!   by hand.
//!
//! Time comes in as `now` arguments, read from a [`Clock`], so tests move a
//! [`ManualClock`] instead of sleeping.

mod clock;
mod queue;
mod retry;

pub use clock::{Clock, ManualClock, SystemClock};
pub use queue::{
    ClaimedJob, DEFAULT_MAX_ATTEMPTS, Enqueued, MAX_ERROR_CHARS, NewJob, RetriedDead, claim,
    complete, enqueue, fail, heartbeat, rescue_expired, retry_dead,
};
pub use retry::{BACKOFF_BASE, BACKOFF_CAP, Jitter, MAX_DELAY, RandomJitter, Retry, backoff};
