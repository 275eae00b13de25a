//! The job queue for instance administrators: what is waiting, running or
//! dead (the dead letters), and retrying a dead job by hand.

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::jobs::{JobRow, JobStatus};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ListQuery, PageParams, Paginated};
use crate::http::plugins::require_instance_admin;
use crate::http::problems::{ActionProblems, ReadProblems};
use crate::jobs::{self, RetriedDead};
use crate::state::AppState;

/// A background job.
#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    /// The job's id.
    pub id: String,
    /// What it does (`publish_post`, `refresh_token`, …).
    pub kind: String,
    /// Where it is in its life.
    pub status: JobStatus,
    /// The workspace it works for, if any.
    pub workspace_id: Option<String>,
    /// Its input.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Claims so far.
    pub attempts: i32,
    /// Claims allowed before it is dead.
    pub max_attempts: i32,
    /// Not run before this.
    pub run_at: DateTime<Utc>,
    /// The worker holding it, while it runs.
    pub lease_owner: Option<String>,
    /// When that worker's lease runs out.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it succeeded or died.
    pub finished_at: Option<DateTime<Utc>>,
}

impl Job {
    fn from_row(row: JobRow) -> Self {
        Self {
            payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
            status: JobStatus::parse(&row.status).unwrap_or(JobStatus::Dead),
            id: row.id,
            kind: row.kind,
            workspace_id: row.workspace_id,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            run_at: row.run_at.and_utc(),
            lease_owner: row.lease_owner,
            lease_expires_at: row.lease_expires_at.map(|t| t.and_utc()),
            last_error: row.last_error,
            created_at: row.created_at.and_utc(),
            finished_at: row.finished_at.map(|t| t.and_utc()),
        }
    }
}

/// Which jobs to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobFilters {
    /// Jobs in this state; `dead` (the default) lists the dead letters.
    pub status: Option<JobStatus>,
    /// Jobs of this kind only.
    pub kind: Option<String>,
}

const WHAT: &str = "see and retry background jobs";

/// List background jobs, by default the dead letters: jobs that used all
/// their attempts (or failed for good), with their last error.
#[utoipa::path(
    tag = "jobs",
    operation_id = "list_jobs",
    params(JobFilters, PageParams),
    responses(
        (status = 200, description = "A page of jobs, oldest first", body = Paginated<Job>),
        ReadProblems
    )
)]
#[get("/admin/jobs")]
pub async fn list_jobs(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery<JobFilters>,
) -> ApiResult<web::Json<Paginated<Job>>> {
    require_instance_admin(&state, &principal, WHAT).await?;
    let ListQuery { page, filters } = query;
    let status = filters.status.unwrap_or(JobStatus::Dead);
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = state
        .db
        .read(move |conn| {
            JobRow::list(
                conn,
                status,
                filters.kind.as_deref(),
                after.as_deref(),
                fetch,
            )
            .map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), |row| Ok(Job::from_row(row)))
        .map(web::Json)
}

/// One background job.
#[utoipa::path(
    tag = "jobs",
    operation_id = "get_job",
    params(("job_id" = String, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = Job), ReadProblems)
)]
#[get("/admin/jobs/{job_id}")]
pub async fn get_job(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> ApiResult<web::Json<Job>> {
    require_instance_admin(&state, &principal, WHAT).await?;
    let id = path.into_inner();
    let row = state
        .db
        .read(move |conn| JobRow::find(conn, &id).map_err(ApiError::from))
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    Ok(web::Json(Job::from_row(row)))
}

/// Put a dead job back in the queue, due now, with fresh attempts.
#[utoipa::path(
    tag = "jobs",
    operation_id = "retry_job",
    params(("job_id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job, queued again", body = Job),
        ActionProblems
    )
)]
#[post("/admin/jobs/{job_id}/retry")]
pub async fn retry_job(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> ApiResult<web::Json<Job>> {
    require_instance_admin(&state, &principal, WHAT).await?;
    let id = path.into_inner();
    let row = state
        .db
        .write(move |conn| {
            let Some(job) = JobRow::find(conn, &id)? else {
                return Err(ApiError::NotFound("job"));
            };
            match jobs::retry_dead(conn, &id, crate::db::now())? {
                RetriedDead::Requeued => {}
                RetriedDead::NotDead => {
                    return Err(ApiError::conflict(
                        "job_not_dead",
                        format!(
                            "the job is {}; only dead jobs are retried by hand",
                            job.status
                        ),
                    ));
                }
                RetriedDead::KeyTaken(holder) => {
                    return Err(ApiError::conflict(
                        "job_superseded",
                        format!("job {holder} already does the same work"),
                    ));
                }
            }
            JobRow::find(conn, &id)?.ok_or(ApiError::NotFound("job"))
        })
        .await?;
    Ok(web::Json(Job::from_row(row)))
}
