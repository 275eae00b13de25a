//! The durable job table and its statements; the queue's rules (leases,
//! fences, retries) live in [`crate::jobs`].

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamp};

use super::DbConn;
use super::schema::jobs;

/// Where a job is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for `run_at` and a worker.
    Queued,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Done.
    Succeeded,
    /// Out of attempts (or failed for good); kept with its error until retried by hand.
    Dead,
}

impl JobStatus {
    /// The value stored in `jobs.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Dead => "dead",
        }
    }

    /// Reads a stored status.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Succeeded, Self::Dead]
            .into_iter()
            .find(|status| status.as_str() == raw)
    }
}

/// A job as stored. `payload` is JSON.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace it works for, when it works for one.
    pub workspace_id: Option<String>,
    /// What to do (`publish_post`, `refresh_token`, …); picks the handler.
    pub kind: String,
    /// The handler's input (JSON).
    pub payload: String,
    /// At most one unfinished job holds a key.
    pub unique_key: Option<String>,
    /// A [`JobStatus`].
    pub status: String,
    /// Claims so far (a claim counts even if its worker then vanished).
    pub attempts: i32,
    /// Claims allowed before the job is dead.
    pub max_attempts: i32,
    /// Not claimed before this.
    pub run_at: NaiveDateTime,
    /// The worker holding the lease.
    pub lease_owner: Option<String>,
    /// When the lease runs out unless renewed.
    pub lease_expires_at: Option<NaiveDateTime>,
    /// Bumped by every claim and rescue; a worker's writes count only while it matches.
    pub fence: i64,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// When it succeeded or died.
    pub finished_at: Option<NaiveDateTime>,
}

/// Changes to a job; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = jobs)]
pub struct JobChanges {
    /// New status.
    pub status: Option<&'static str>,
    /// New attempt count.
    pub attempts: Option<i32>,
    /// New due time.
    pub run_at: Option<NaiveDateTime>,
    /// New lease holder (`Some(None)` clears it).
    pub lease_owner: Option<Option<String>>,
    /// New lease expiry.
    pub lease_expires_at: Option<Option<NaiveDateTime>>,
    /// New error.
    pub last_error: Option<Option<String>>,
    /// New finishing time.
    pub finished_at: Option<Option<NaiveDateTime>>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
}

/// What the rescuer writes into a job whose lease ran out.
const LEASE_EXPIRED: &str = "lease expired before the worker finished";

/// Claims on PostgreSQL: concurrent workers skip each other's locked rows
/// instead of queueing behind them.
const CLAIM_POSTGRES: &str = "\
UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, \
fence = fence + 1, attempts = attempts + 1, updated_at = $3 \
WHERE id IN (\
SELECT id FROM jobs WHERE status = 'queued' AND run_at <= $3 AND kind = ANY($4) \
ORDER BY run_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) \
RETURNING *";

/// Claims on SQLite, run under `BEGIN IMMEDIATE` so that no other writer
/// can come between the choice of rows and their update.
const CLAIM_SQLITE: &str = "\
UPDATE jobs SET status = 'running', lease_owner = ?1, lease_expires_at = ?2, \
fence = fence + 1, attempts = attempts + 1, updated_at = ?3 \
WHERE id IN (\
SELECT id FROM jobs WHERE status = 'queued' AND run_at <= ?3 \
AND kind IN (SELECT value FROM json_each(?4)) \
ORDER BY run_at, id LIMIT ?5) \
RETURNING *";

impl JobRow {
    /// Inserts a new job; fails with a unique violation when an unfinished
    /// job holds its `unique_key`.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(jobs::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A job by id.
    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        jobs::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The unfinished job holding `key`, if any.
    pub fn find_unfinished_by_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<Self>> {
        jobs::table
            .filter(jobs::unique_key.eq(key))
            .filter(jobs::status.eq_any([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A page of jobs by id, of one status and optionally one kind (the
    /// dead letters are `status = dead`).
    pub fn list(
        conn: &mut DbConn,
        status: JobStatus,
        kind: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = jobs::table
            .filter(jobs::status.eq(status.as_str()))
            .select(Self::as_select())
            .order(jobs::id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(kind) = kind {
            query = query.filter(jobs::kind.eq(kind.to_owned()));
        }
        if let Some(after) = after {
            query = query.filter(jobs::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// Forgets succeeded jobs that finished before `before` (dead ones stay
    /// until someone retries them); answers how many went.
    pub fn prune_succeeded(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(
            jobs::table
                .filter(jobs::status.eq(JobStatus::Succeeded.as_str()))
                .filter(jobs::finished_at.lt(before)),
        )
        .execute(conn)
    }

    /// Leases up to `limit` due queued jobs of `kinds` to `worker` until
    /// `lease_expires_at`, bumping their fence and attempts. On SQLite this
    /// opens its own `BEGIN IMMEDIATE` transaction, so `conn` must not be
    /// inside one.
    pub fn claim_due(
        conn: &mut DbConn,
        worker: &str,
        kinds: &[String],
        limit: i64,
        lease_expires_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        match conn {
            DbConn::Postgres(pg) => diesel::sql_query(CLAIM_POSTGRES)
                .bind::<Text, _>(worker)
                .bind::<Timestamp, _>(lease_expires_at)
                .bind::<Timestamp, _>(now)
                .bind::<Array<Text>, _>(kinds)
                .bind::<BigInt, _>(limit)
                .load(pg),
            DbConn::Sqlite(lite) => {
                let kinds = serde_json::to_string(kinds)
                    .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))?;
                lite.immediate_transaction(|lite| {
                    diesel::sql_query(CLAIM_SQLITE)
                        .bind::<Text, _>(worker)
                        .bind::<Timestamp, _>(lease_expires_at)
                        .bind::<Timestamp, _>(now)
                        .bind::<Text, _>(kinds)
                        .bind::<BigInt, _>(limit)
                        .load(lite)
                })
            }
        }
    }

    /// Applies changes to a running job only while `worker` still holds it
    /// under `fence`; false when it does not (its lease was lost).
    pub fn update_held(
        conn: &mut DbConn,
        id: &str,
        worker: &str,
        fence: i64,
        changes: &JobChanges,
    ) -> QueryResult<bool> {
        diesel::update(
            jobs::table
                .filter(jobs::id.eq(id))
                .filter(jobs::fence.eq(fence))
                .filter(jobs::lease_owner.eq(worker))
                .filter(jobs::status.eq(JobStatus::Running.as_str())),
        )
        .set(changes)
        .execute(conn)
        .map(|updated| updated == 1)
    }

    /// Takes running jobs whose lease ran out before `now` from their
    /// workers (bumping the fence): back to the queue, or dead when they
    /// have no attempts left. Answers how many it took.
    pub fn rescue_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
        let expired = jobs::table
            .filter(jobs::status.eq(JobStatus::Running.as_str()))
            .filter(jobs::lease_expires_at.lt(now));
        let released = || {
            (
                jobs::lease_owner.eq(None::<String>),
                jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                jobs::fence.eq(jobs::fence + 1),
                jobs::last_error.eq(LEASE_EXPIRED),
                jobs::updated_at.eq(now),
            )
        };
        let dead = diesel::update(expired.filter(jobs::attempts.ge(jobs::max_attempts)))
            .set((
                jobs::status.eq(JobStatus::Dead.as_str()),
                jobs::finished_at.eq(now),
                released(),
            ))
            .execute(conn)?;
        let queued = diesel::update(expired.filter(jobs::attempts.lt(jobs::max_attempts)))
            .set((
                jobs::status.eq(JobStatus::Queued.as_str()),
                jobs::run_at.eq(now),
                released(),
            ))
            .execute(conn)?;
        Ok(dead + queued)
    }

    /// Puts a dead job back in the queue with fresh attempts; false when it
    /// is not dead. Fails with a unique violation when an unfinished job
    /// holds its key.
    pub fn requeue_dead(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
        diesel::update(
            jobs::table
                .filter(jobs::id.eq(id))
                .filter(jobs::status.eq(JobStatus::Dead.as_str())),
        )
        .set((
            jobs::status.eq(JobStatus::Queued.as_str()),
            jobs::attempts.eq(0),
            jobs::run_at.eq(now),
            jobs::finished_at.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|updated| updated == 1)
    }
}
