//! Enqueueing, claiming, and settling jobs.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::de::DeserializeOwned;

use super::retry::{FailedAttempt, Retry, after_failure, later};
use crate::db::jobs::{JobChanges, JobRow, JobStatus};
use crate::db::{DbConn, is_unique_violation};

/// Attempts a job gets unless it says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

/// The longest error (in characters) a job keeps: a platform may answer a
/// failure with a whole web page.
pub const MAX_ERROR_CHARS: usize = 2_000;

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    kind: String,
    payload: String,
    workspace_id: Option<String>,
    unique_key: Option<String>,
    run_at: Option<NaiveDateTime>,
    max_attempts: i32,
}

impl NewJob {
    /// A job of `kind` with its handler's input, due now.
    pub fn new(kind: impl Into<String>, payload: &serde_json::Value) -> Self {
        Self {
            kind: kind.into(),
            payload: payload.to_string(),
            workspace_id: None,
            unique_key: None,
            run_at: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// The workspace the job works for (it goes when the workspace goes).
    #[must_use]
    pub fn in_workspace(mut self, workspace_id: impl Into<String>) -> Self {
        self.workspace_id = Some(workspace_id.into());
        self
    }

    /// A key that no other unfinished job may hold: enqueueing the same
    /// work twice answers the job already waiting.
    #[must_use]
    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    /// Not before `run_at`.
    #[must_use]
    pub fn run_at(mut self, run_at: NaiveDateTime) -> Self {
        self.run_at = Some(run_at);
        self
    }

    /// Claims allowed before the job is dead (at least one).
    #[must_use]
    pub fn max_attempts(mut self, max_attempts: i32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    fn row(&self, now: NaiveDateTime) -> JobRow {
        JobRow {
            id: uuid::Uuid::now_v7().to_string(),
            workspace_id: self.workspace_id.clone(),
            kind: self.kind.clone(),
            payload: self.payload.clone(),
            unique_key: self.unique_key.clone(),
            status: JobStatus::Queued.as_str().to_owned(),
            attempts: 0,
            max_attempts: self.max_attempts,
            run_at: self.run_at.unwrap_or(now),
            lease_owner: None,
            lease_expires_at: None,
            fence: 0,
            last_error: None,
            created_at: now,
            updated_at: now,
            finished_at: None,
        }
    }
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job, with this id.
    Created(String),
    /// An unfinished job already held the unique key; this is its id.
    Existing(String),
}

impl Enqueued {
    /// The job's id, new or existing.
    pub fn id(&self) -> &str {
        match self {
            Self::Created(id) | Self::Existing(id) => id,
        }
    }
}

/// A job a worker holds the lease of. Its writes ([`heartbeat`],
/// [`complete`], [`fail`]) count only while the job's fence still matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// The job's id.
    pub id: String,
    /// The workspace it works for.
    pub workspace_id: Option<String>,
    /// What to do.
    pub kind: String,
    /// The handler's input (JSON).
    pub payload: String,
    /// Attempts including this one.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// The fence this claim set.
    pub fence: i64,
    /// The worker holding the lease.
    pub worker: String,
    /// When the lease runs out unless renewed.
    pub lease_expires_at: NaiveDateTime,
}

impl ClaimedJob {
    /// The payload as the handler's input type.
    pub fn parse_payload<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.payload)
    }

    fn from_row(row: JobRow, worker: &str, lease_expires_at: NaiveDateTime) -> Self {
        Self {
            id: row.id,
            workspace_id: row.workspace_id,
            kind: row.kind,
            payload: row.payload,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            fence: row.fence,
            worker: worker.to_owned(),
            lease_expires_at: row.lease_expires_at.unwrap_or(lease_expires_at),
        }
    }
}

/// What [`retry_dead`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetriedDead {
    /// Back in the queue with fresh attempts.
    Requeued,
    /// No dead job has that id.
    NotDead,
    /// An unfinished job (this id) holds the dead job's unique key, so the
    /// dead one stays dead.
    KeyTaken(String),
}

/// Adds a job, inside the caller's transaction when there is one, so that
/// the job exists exactly when the change that caused it does. When an
/// unfinished job holds the same unique key, answers that job instead.
pub fn enqueue(conn: &mut DbConn, job: &NewJob, now: NaiveDateTime) -> QueryResult<Enqueued> {
    match insert(conn, job, now) {
        Ok(id) => Ok(Enqueued::Created(id)),
        Err(err) if is_unique_violation(&err) => {
            let Some(key) = &job.unique_key else {
                return Err(err);
            };
            match JobRow::find_unfinished_by_key(conn, key)? {
                Some(existing) => Ok(Enqueued::Existing(existing.id)),
                // The holder finished in between; the key is free again.
                None => insert(conn, job, now).map(Enqueued::Created),
            }
        }
        Err(err) => Err(err),
    }
}

/// Inserts under a savepoint: on PostgreSQL a failed statement would
/// otherwise abort the caller's whole transaction.
fn insert(conn: &mut DbConn, job: &NewJob, now: NaiveDateTime) -> QueryResult<String> {
    let row = job.row(now);
    conn.transaction(|conn| row.insert(conn))?;
    Ok(row.id)
}

/// Leases up to `n` due jobs of `kinds` to `worker` for `lease`, oldest due
/// first; each claim bumps the job's fence and attempts.
///
/// PostgreSQL runs one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
/// LOCKED LIMIT n) RETURNING`, so concurrent workers never wait for nor take
/// each other's jobs. SQLite runs the same `UPDATE … RETURNING` under `BEGIN
/// IMMEDIATE`, so `conn` (the single writer) must not be inside a
/// transaction.
pub fn claim(
    conn: &mut DbConn,
    worker: &str,
    kinds: &[&str],
    n: usize,
    lease: Duration,
    now: NaiveDateTime,
) -> QueryResult<Vec<ClaimedJob>> {
    if kinds.is_empty() || n == 0 {
        return Ok(Vec::new());
    }
    let kinds: Vec<String> = kinds.iter().map(|&kind| kind.to_owned()).collect();
    let limit = i64::try_from(n).unwrap_or(i64::MAX);
    let lease_expires_at = later(now, lease);
    let mut rows = JobRow::claim_due(conn, worker, &kinds, limit, lease_expires_at, now)?;
    // RETURNING does not keep the subquery's order.
    rows.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
    Ok(rows
        .into_iter()
        .map(|row| ClaimedJob::from_row(row, worker, lease_expires_at))
        .collect())
}

/// Renews the lease for `lease` from `now`; false when the worker lost the
/// job (rescued, or claimed by another), and should stop working on it.
pub fn heartbeat(
    conn: &mut DbConn,
    claimed: &ClaimedJob,
    lease: Duration,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changes = JobChanges {
        lease_expires_at: Some(Some(later(now, lease))),
        updated_at: Some(now),
        ..JobChanges::default()
    };
    JobRow::update_held(conn, &claimed.id, &claimed.worker, claimed.fence, &changes)
}

/// Marks the job succeeded; false (and nothing changed) when the worker had
/// lost it.
pub fn complete(conn: &mut DbConn, claimed: &ClaimedJob, now: NaiveDateTime) -> QueryResult<bool> {
    let changes = JobChanges {
        status: Some(JobStatus::Succeeded.as_str()),
        finished_at: Some(Some(now)),
        ..released(now)
    };
    JobRow::update_held(conn, &claimed.id, &claimed.worker, claimed.fence, &changes)
}

/// Records a failed attempt with its error: the job goes back to the queue
/// as `retry` says, or is dead (kept with its error) when it is out of
/// attempts or `retry` is [`Retry::Never`]. False (and nothing changed)
/// when the worker had lost the job.
pub fn fail(
    conn: &mut DbConn,
    claimed: &ClaimedJob,
    error: &str,
    retry: Retry,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let base = JobChanges {
        last_error: Some(Some(bounded(error))),
        ..released(now)
    };
    let changes = match after_failure(claimed.attempts, claimed.max_attempts, retry, now) {
        FailedAttempt::Requeue { run_at, attempts } => JobChanges {
            status: Some(JobStatus::Queued.as_str()),
            run_at: Some(run_at),
            attempts: Some(attempts),
            ..base
        },
        FailedAttempt::Dead => JobChanges {
            status: Some(JobStatus::Dead.as_str()),
            finished_at: Some(Some(now)),
            ..base
        },
    };
    JobRow::update_held(conn, &claimed.id, &claimed.worker, claimed.fence, &changes)
}

/// `error`, cut to [`MAX_ERROR_CHARS`].
fn bounded(error: &str) -> String {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", error.get(..cut).unwrap_or(error)),
        None => error.to_owned(),
    }
}

/// The changes that end a worker's lease.
fn released(now: NaiveDateTime) -> JobChanges {
    JobChanges {
        lease_owner: Some(None),
        lease_expires_at: Some(None),
        updated_at: Some(now),
        ..JobChanges::default()
    }
}

/// Returns jobs whose lease ran out before `now` to the queue (dead when
/// they have no attempts left), bumping their fence so the worker that lost
/// them changes nothing. Answers how many it took back.
pub fn rescue_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    JobRow::rescue_expired(conn, now)
}

/// Puts a dead job back in the queue by hand, due now, with fresh attempts
/// and its last error kept for reference.
pub fn retry_dead(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<RetriedDead> {
    let Some(job) = JobRow::find(conn, id)? else {
        return Ok(RetriedDead::NotDead);
    };
    // A savepoint, as in `insert`: the key may be taken again by now.
    match conn.transaction(|conn| JobRow::requeue_dead(conn, id, now)) {
        Ok(true) => Ok(RetriedDead::Requeued),
        Ok(false) => Ok(RetriedDead::NotDead),
        Err(err) if is_unique_violation(&err) => {
            let holder = match &job.unique_key {
                Some(key) => JobRow::find_unfinished_by_key(conn, key)?,
                None => None,
            };
            match holder {
                Some(holder) => Ok(RetriedDead::KeyTaken(holder.id)),
                None => Err(err),
            }
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        assert_eq!(bounded("timeout"), "timeout");
        let exact = "é".repeat(MAX_ERROR_CHARS);
        assert_eq!(bounded(&exact), exact);
        let long = "é".repeat(MAX_ERROR_CHARS + 1);
        let cut = bounded(&long);
        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(cut.ends_with("é…"));
    }

    #[test]
    fn a_new_job_is_due_now_unless_told_otherwise() {
        let now = crate::db::now();
        let later = now + chrono::TimeDelta::minutes(5);
        let job = NewJob::new("refresh_token", &serde_json::json!({ "channel_id": "c1" }))
            .in_workspace("w1")
            .unique_key("refresh:c1")
            .max_attempts(0);
        let row = job.row(now);
        assert_eq!(row.run_at, now);
        assert_eq!(row.status, "queued");
        assert_eq!(row.max_attempts, 1);
        assert_eq!(row.workspace_id.as_deref(), Some("w1"));
        assert_eq!(row.unique_key.as_deref(), Some("refresh:c1"));
        assert_eq!(row.payload, r#"{"channel_id":"c1"}"#);
        assert_eq!(job.run_at(later).row(now).run_at, later);
    }
}
