//! Listening queries: searches for the brand's name, its competitors'
//! names, keywords and hashtags, run through a channel whose plugin can
//! search. Hits land in the inbox as `listening_hit` items, tagged with the
//! query that found them.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::channels::ChannelRow;
use crate::db::inbox_rules::ListeningQueryRow;
use crate::db::{self, DbConn};
use crate::domain::ids::{ChannelId, ListeningQueryId, WorkspaceId, parse_stored};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Json;
use crate::http::problems::{ActionProblems, ReadProblems, WriteProblems};
use crate::http::views::utc;
use crate::plugins::bindings::Capabilities;
use crate::state::AppState;

/// Most listening queries a workspace may have.
const MAX_QUERIES: usize = 200;

/// What a query listens for: share of voice compares `brand` with `competitor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListeningSubject {
    /// The brand's own name and products.
    Brand,
    /// A competitor.
    Competitor,
    /// A topic, keyword or hashtag.
    Topic,
}

impl ListeningSubject {
    fn as_str(self) -> &'static str {
        match self {
            Self::Brand => "brand",
            Self::Competitor => "competitor",
            Self::Topic => "topic",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [Self::Brand, Self::Competitor, Self::Topic]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// A listening query.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-4444-7d7a-9c1e-2f4b3a5d6e7f",
    "channel_id": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f",
    "name": "Competitor: Acme",
    "query": "acme OR #acmefail",
    "subject": "competitor",
    "enabled": true,
    "created_at": "2026-02-01T10:00:00Z",
    "updated_at": "2026-02-01T10:00:00Z"
}))]
pub struct ListeningQuery {
    /// Query id: hits carry it as `listening_query_id`.
    pub id: ListeningQueryId,
    /// The channel whose plugin runs the search.
    pub channel_id: ChannelId,
    /// What the team calls it.
    pub name: String,
    /// The search, in the platform's syntax.
    pub query: String,
    /// What it listens for.
    pub subject: ListeningSubject,
    /// Whether it runs with each poll.
    pub enabled: bool,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl ListeningQuery {
    fn from_row(row: ListeningQueryRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            channel_id: parse_stored(&row.channel_id).map_err(ApiError::internal)?,
            subject: ListeningSubject::parse(&row.subject).ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("stored subject {:?}", row.subject))
            })?,
            name: row.name,
            query: row.query,
            enabled: row.enabled,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// A new listening query, or changes to one (absent fields stay).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"channel_id": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f", "name": "Competitor: Acme", "query": "acme", "subject": "competitor"}))]
pub struct ListeningQueryInput {
    /// A channel whose plugin can search (required to create; fixed after).
    pub channel_id: Option<ChannelId>,
    /// 1–100 characters (required to create).
    pub name: Option<String>,
    /// 1–500 characters (required to create).
    pub query: Option<String>,
    /// Default `topic`.
    pub subject: Option<ListeningSubject>,
    /// Default `true`.
    pub enabled: Option<bool>,
}

fn check(input: &ListeningQueryInput, creating: bool) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut text = |value: &Option<String>, field: &str, max: usize| match value {
        Some(v) if v.trim().is_empty() || v.chars().count() > max => {
            errors.push(FieldError::new(
                field,
                format!("must be 1 to {max} characters"),
            ));
        }
        None if creating => errors.push(FieldError::new(field, "is required")),
        _ => {}
    };
    text(&input.name, "name", 100);
    text(&input.query, "query", 500);
    if creating && input.channel_id.is_none() {
        errors.push(FieldError::new("channel_id", "is required"));
    }
    if !creating && input.channel_id.is_some() {
        errors.push(FieldError::new(
            "channel_id",
            "cannot change; make a new query",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn load(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<ListeningQueryRow> {
    ListeningQueryRow::find(conn, workspace_id, id)?.ok_or(ApiError::NotFound("listening query"))
}

/// Add a listening query; it runs with the channel's next poll.
#[utoipa::path(
    tag = "listening",
    operation_id = "create_listening_query",
    request_body = ListeningQueryInput,
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 201, description = "Added", body = ListeningQuery,
         headers(("Location" = String, description = "The query"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/listening-queries")]
pub async fn create_listening_query(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    body: Json<ListeningQueryInput>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::RulesManage)
        .await?;
    let body = body.0;
    check(&body, true)?;
    let ws = access.workspace_id.to_string();
    let channel_id = body.channel_id.map(|c| c.to_string()).unwrap_or_default();
    let (ws_read, id_read) = (ws.clone(), channel_id.clone());
    let channel = state
        .db
        .read(move |conn| {
            ChannelRow::find(conn, &ws_read, &id_read)?.ok_or_else(|| {
                ApiError::Validation(vec![FieldError::new(
                    "channel_id",
                    "is not a channel of the workspace",
                )])
            })
        })
        .await?;
    let searches = state
        .plugins
        .get(&channel.plugin_id)
        .is_some_and(|p| p.manifest.can(Capabilities::SEARCH));
    if !searches {
        return Err(ApiError::invalid_field(
            "channel_id",
            format!("the channel's plugin ({}) cannot search", channel.plugin_id),
        ));
    }
    let now = db::now();
    let row = ListeningQueryRow {
        id: ListeningQueryId::new().to_string(),
        workspace_id: ws.clone(),
        channel_id,
        name: body.name.unwrap_or_default().trim().to_owned(),
        query: body.query.unwrap_or_default().trim().to_owned(),
        subject: body
            .subject
            .unwrap_or(ListeningSubject::Topic)
            .as_str()
            .to_owned(),
        enabled: body.enabled.unwrap_or(true),
        created_by: access.user_id.to_string(),
        created_at: now,
        updated_at: now,
    };
    let row = state
        .db
        .write(move |conn| {
            if ListeningQueryRow::all(conn, &ws)?.len() >= MAX_QUERIES {
                return Err(ApiError::conflict(
                    "too_many_queries",
                    format!("a workspace has at most {MAX_QUERIES} listening queries"),
                ));
            }
            row.insert(conn)?;
            Ok(row)
        })
        .await?;
    let location = format!(
        "/v1/workspaces/{}/listening-queries/{}",
        row.workspace_id, row.id
    );
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(ListeningQuery::from_row(row)?))
}

/// The workspace's listening queries, oldest first.
#[utoipa::path(
    tag = "listening",
    operation_id = "list_listening_queries",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "Every query", body = Vec<ListeningQuery>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/listening-queries")]
pub async fn list_listening_queries(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
) -> ApiResult<web::Json<Vec<ListeningQuery>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::InboxRead)
        .await?;
    let ws = access.workspace_id.to_string();
    let rows = state
        .db
        .read(move |conn| ListeningQueryRow::all(conn, &ws).map_err(ApiError::from))
        .await?;
    rows.into_iter()
        .map(ListeningQuery::from_row)
        .collect::<ApiResult<Vec<_>>>()
        .map(web::Json)
}

/// Change a listening query: name, query, subject, enabled.
#[utoipa::path(
    tag = "listening",
    operation_id = "update_listening_query",
    request_body = ListeningQueryInput,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("query_id" = ListeningQueryId, Path, description = "Query id"),
    ),
    responses(
        (status = 200, description = "The query as it now is", body = ListeningQuery),
        WriteProblems,
    )
)]
#[patch("/workspaces/{workspace_id}/listening-queries/{query_id}")]
pub async fn update_listening_query(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ListeningQueryId)>,
    body: Json<ListeningQueryInput>,
) -> ApiResult<web::Json<ListeningQuery>> {
    let (workspace_id, query_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::RulesManage)
        .await?;
    let body = body.0;
    check(&body, false)?;
    let (ws, id) = (access.workspace_id.to_string(), query_id.to_string());
    let row = state
        .db
        .write(move |conn| {
            let mut row = load(conn, &ws, &id)?;
            if let Some(name) = body.name {
                row.name = name.trim().to_owned();
            }
            if let Some(query) = body.query {
                row.query = query.trim().to_owned();
            }
            if let Some(subject) = body.subject {
                row.subject = subject.as_str().to_owned();
            }
            if let Some(enabled) = body.enabled {
                row.enabled = enabled;
            }
            row.updated_at = db::now();
            row.save(conn)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    ListeningQuery::from_row(row).map(web::Json)
}

/// Remove a listening query. Its hits stay in the inbox.
#[utoipa::path(
    tag = "listening",
    operation_id = "delete_listening_query",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("query_id" = ListeningQueryId, Path, description = "Query id"),
    ),
    responses((status = 204, description = "Removed"), ActionProblems)
)]
#[delete("/workspaces/{workspace_id}/listening-queries/{query_id}")]
pub async fn delete_listening_query(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ListeningQueryId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, query_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::RulesManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), query_id.to_string());
    state
        .db
        .write(move |conn| {
            if ListeningQueryRow::delete(conn, &ws, &id)? {
                Ok(())
            } else {
                Err(ApiError::NotFound("listening query"))
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
