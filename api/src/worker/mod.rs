//! The background worker: claims due jobs of every kind it knows, runs up
//! to `worker_concurrency` of them at once, renews each one's lease while it
//! runs, and settles it (done, retry later, or dead) under its fence.
//!
//! Every kind of job has one handler here ([`handler_for`]); the queue's
//! rules (leases, fences, backoff, dead letters) live in [`crate::jobs`].
//! Before each claim the worker runs its sweeps: work that finds jobs to
//! enqueue rather than being enqueued by a request (tokens about to expire,
//! the hourly housekeeping).
//!
//! A job whose heartbeat finds the lease lost (another worker rescued it
//! after this one stalled) is abandoned at once: its future is dropped, and
//! the write it would have made is refused by the fence anyway.

pub mod faults;
pub mod maintenance;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::NaiveDateTime;
use futures_util::future::{Either, select};
use tokio::sync::Notify;

use crate::db::now as db_now;
use crate::error::ApiError;
use crate::inbox;
use crate::jobs::{self, ClaimedJob, RandomJitter, Retry};
use crate::metrics;
use crate::publishing::{self, token_refresh};
use crate::state::AppState;
use crate::webhooks;

/// Why a job's attempt did not finish it.
#[derive(Debug)]
pub struct JobFailure {
    /// What went wrong, kept on the job.
    pub reason: String,
    /// When to try again; `None` backs off by the job's attempts.
    pub retry: Option<Retry>,
}

impl JobFailure {
    /// A failure retried with the default backoff.
    pub fn later(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            retry: None,
        }
    }

    /// A failure retried as `retry` says.
    pub fn with(reason: impl Into<String>, retry: Retry) -> Self {
        Self {
            reason: reason.into(),
            retry: Some(retry),
        }
    }
}

impl From<ApiError> for JobFailure {
    fn from(err: ApiError) -> Self {
        Self::later(err.to_string())
    }
}

/// What a job handler answers.
pub type JobOutcome = Result<(), JobFailure>;

type HandlerFuture<'a> = Pin<Box<dyn Future<Output = JobOutcome> + 'a>>;
type Handler = for<'a> fn(&'a AppState, &'a ClaimedJob) -> HandlerFuture<'a>;

/// The kinds of job this worker runs, with their handlers.
const HANDLERS: &[(&str, Handler)] = &[
    (publishing::PUBLISH_POST, |state, job| {
        Box::pin(publishing::handle(state, job))
    }),
    (token_refresh::REFRESH_TOKEN, |state, job| {
        Box::pin(token_refresh::handle(state, job))
    }),
    (maintenance::PRUNE, |state, job| {
        Box::pin(maintenance::handle(state, job))
    }),
    (webhooks::DELIVER_WEBHOOK, |state, job| {
        Box::pin(webhooks::delivery::handle(state, job))
    }),
    (inbox::polling::POLL, |state, job| {
        Box::pin(inbox::polling::handle(state, job))
    }),
    (inbox::replies::SEND_REPLY, |state, job| {
        Box::pin(inbox::replies::handle(state, job))
    }),
    (inbox::actions::PLATFORM_ACTION, |state, job| {
        Box::pin(inbox::actions::handle(state, job))
    }),
    (metrics::collection::COLLECT, |state, job| {
        Box::pin(metrics::collection::handle(state, job))
    }),
];

fn handler_for(kind: &str) -> Option<Handler> {
    HANDLERS
        .iter()
        .find(|(known, _)| *known == kind)
        .map(|&(_, handler)| handler)
}

fn kinds() -> Vec<&'static str> {
    HANDLERS.iter().map(|&(kind, _)| kind).collect()
}

/// How long a claim holds a job before it must be renewed.
pub fn lease(state: &AppState) -> Duration {
    Duration::from_secs(state.config.job_lease_secs)
}

/// Takes back expired leases, runs the sweeps, and claims up to `n` due
/// jobs for `worker`.
async fn claim(
    state: &AppState,
    worker: &str,
    n: usize,
    now: NaiveDateTime,
) -> anyhow::Result<Vec<ClaimedJob>> {
    let db = state.db.clone();
    let owner = worker.to_owned();
    let lease = lease(state);
    let poll_secs = state.config.inbox_poll_secs;
    let collect_secs = state.config.metrics_collect_secs;
    actix_web::web::block(move || -> anyhow::Result<Vec<ClaimedJob>> {
        let mut conn = db.write_conn()?;
        jobs::rescue_expired(&mut conn, now)?;
        token_refresh::enqueue_expiring(&mut conn, now)?;
        maintenance::plan(&mut conn, now)?;
        inbox::polling::enqueue_due(&mut conn, now, poll_secs)?;
        metrics::collection::enqueue_due(&mut conn, now, collect_secs)?;
        Ok(jobs::claim(&mut conn, &owner, &kinds(), n, lease, now)?)
    })
    .await?
}

/// Runs one claimed job to its end, renewing its lease every third of it,
/// and records the outcome as of `settle_at` (the clock's time when the job
/// ends; tests that move time pass theirs). A job whose lease was lost is
/// dropped unsettled.
async fn run(state: &AppState, job: ClaimedJob, settle_at: Option<NaiveDateTime>) {
    let Some(handler) = handler_for(&job.kind) else {
        let failure = JobFailure::with(format!("no handler for {}", job.kind), Retry::Never);
        settle(state, job, Err(failure), settle_at).await;
        return;
    };
    let lease = lease(state);
    let work = handler(state, &job);
    let keep_alive = async {
        loop {
            actix_web::rt::time::sleep(lease / 3).await;
            let db = state.db.clone();
            let held = job.clone();
            let renewed = actix_web::web::block(move || -> anyhow::Result<bool> {
                Ok(jobs::heartbeat(
                    &mut *db.write_conn()?,
                    &held,
                    lease,
                    db_now(),
                )?)
            })
            .await;
            match renewed {
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => return,
                Ok(Err(err)) => tracing::warn!(job = %job.id, error = %err, "heartbeat failed"),
                Err(err) => tracing::warn!(job = %job.id, error = %err, "heartbeat failed"),
            }
        }
    };
    let outcome = match select(work, Box::pin(keep_alive)).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(((), _)) => {
            tracing::warn!(job = %job.id, kind = %job.kind, "lease lost; abandoning the job");
            return;
        }
    };
    settle(state, job, outcome, settle_at).await;
}

async fn settle(
    state: &AppState,
    job: ClaimedJob,
    outcome: JobOutcome,
    settle_at: Option<NaiveDateTime>,
) {
    let db = state.db.clone();
    let id = job.id.clone();
    let settled = actix_web::web::block(move || -> anyhow::Result<bool> {
        let mut conn = db.write_conn()?;
        let now = settle_at.unwrap_or_else(db_now);
        Ok(match outcome {
            Ok(()) => jobs::complete(&mut conn, &job, now)?,
            Err(failure) => {
                if failure.retry != Some(Retry::Never) {
                    tracing::info!(job = %job.id, kind = %job.kind, reason = %failure.reason, "job will be retried");
                }
                let retry = failure.retry.unwrap_or_else(|| {
                    Retry::backoff(u32::try_from(job.attempts).unwrap_or(1), &mut RandomJitter)
                });
                jobs::fail(&mut conn, &job, &failure.reason, retry, now)?
            }
        })
    })
    .await;
    match settled {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => tracing::warn!(job = %id, "lease lost before the job was settled"),
        Ok(Err(err)) => tracing::error!(job = %id, error = %err, "could not settle the job"),
        Err(err) => tracing::error!(job = %id, error = %err, "could not settle the job"),
    }
}

/// Claims every job due at `now` (in batches of the configured concurrency)
/// and runs each batch to its end; answers how many ran. Tests move `now`
/// instead of waiting; the background loop is [`start`].
pub async fn run_due(state: &AppState, worker: &str, now: NaiveDateTime) -> anyhow::Result<usize> {
    let mut ran = 0;
    loop {
        let batch = claim(state, worker, state.config.worker_concurrency, now).await?;
        if batch.is_empty() {
            return Ok(ran);
        }
        ran += batch.len();
        futures_util::future::join_all(batch.into_iter().map(|job| run(state, job, Some(now))))
            .await;
    }
}

/// Starts the background worker on the current actix runtime: it keeps up
/// to `worker_concurrency` jobs running, claims more as soon as a slot
/// frees, and otherwise looks for due jobs every `worker_poll_ms`.
pub fn start(state: AppState) {
    let worker = format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
    let running = Arc::new(AtomicUsize::new(0));
    let freed = Arc::new(Notify::new());
    let poll = Duration::from_millis(state.config.worker_poll_ms);
    actix_web::rt::spawn(async move {
        loop {
            let free = state
                .config
                .worker_concurrency
                .saturating_sub(running.load(Ordering::Acquire));
            let mut claimed = 0;
            if free > 0 {
                match claim(&state, &worker, free, db_now()).await {
                    Ok(batch) => {
                        claimed = batch.len();
                        for job in batch {
                            running.fetch_add(1, Ordering::AcqRel);
                            let (state, running, freed) =
                                (state.clone(), running.clone(), freed.clone());
                            actix_web::rt::spawn(async move {
                                run(&state, job, None).await;
                                running.fetch_sub(1, Ordering::AcqRel);
                                freed.notify_one();
                            });
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "could not claim jobs"),
                }
            }
            // A full batch suggests more are due: look again at once.
            if claimed == 0 || claimed < free {
                let _ = actix_web::rt::time::timeout(poll, freed.notified()).await;
            }
        }
    });
}
