//! Channels: connect a platform account with configuration and credentials,
//! read its health, change it, pause and resume it, disconnect it.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::activity;
use crate::auth::Principal;
use crate::db::channels::{ChannelChanges, ChannelRow};
use crate::db::posts::{PostRow, PostVariantRow};
use crate::db::{self, DbConn, is_unique_violation};
use crate::domain::activity::EventType;
use crate::domain::ids::{ChannelId, UserId, WorkspaceId, parse_stored};
use crate::domain::posting_slots::PostingSlot;
use crate::domain::roles::Permission;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{IdempotencyKey, IfMatch, Json, ListQuery, PageParams, Paginated, etag};
use crate::http::idempotency::{self, Created};
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem, WriteProblems};
use crate::http::views::utc;
use crate::plugins::LoadedPlugin;
use crate::plugins::bindings::Author;
use crate::plugins::channels::{self as calls, record_status_change, seal_credentials};
use crate::state::AppState;

/// A channel's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelStatus {
    /// Credentials work; posts go out.
    Connected,
    /// The platform refused the credentials: reconnect (new credentials or OAuth2).
    NeedsReconnect,
    /// Paused by a person: nothing is published or fetched.
    Paused,
}

impl ChannelStatus {
    /// The name stored and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::NeedsReconnect => "needs_reconnect",
            Self::Paused => "paused",
        }
    }

    fn parse(raw: &str) -> ApiResult<Self> {
        match raw {
            "connected" => Ok(Self::Connected),
            "needs_reconnect" => Ok(Self::NeedsReconnect),
            "paused" => Ok(Self::Paused),
            other => Err(ApiError::internal(anyhow::anyhow!(
                "stored channel status {other:?}"
            ))),
        }
    }
}

/// The platform account behind a channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelAccount {
    /// The platform's id for it.
    pub id: String,
    /// Its handle.
    pub handle: String,
    /// Its display name.
    pub display_name: Option<String>,
    /// Followers when last checked.
    pub followers: Option<i64>,
}

/// A connected platform account. Credentials are never shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct Channel {
    /// Channel id.
    pub id: ChannelId,
    /// The plugin that serves it (`mastodon`).
    pub plugin_id: String,
    /// Name people gave it.
    pub name: String,
    /// Configuration, valid against the plugin's config schema.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Health.
    pub status: ChannelStatus,
    /// Why it needs reconnecting.
    pub status_reason: Option<String>,
    /// The account.
    pub account: ChannelAccount,
    /// Whether credentials are stored (they are write-only).
    pub has_credentials: bool,
    /// When its OAuth2 access token expires; Plaza refreshes it before then.
    pub token_expires_at: Option<DateTime<Utc>>,
    /// Weekly posting slots used by the queue, in the workspace's time zone.
    pub posting_slots: Vec<PostingSlot>,
    /// Last time its credentials were checked.
    pub checked_at: Option<DateTime<Utc>>,
    /// Who connected it.
    pub created_by: UserId,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Channel {
    /// The view of a stored channel.
    pub fn from_row(row: ChannelRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            plugin_id: row.plugin_id,
            name: row.name,
            config: serde_json::from_str(&row.config).map_err(ApiError::internal)?,
            status: ChannelStatus::parse(&row.status)?,
            status_reason: row.status_reason,
            account: ChannelAccount {
                id: row.account_id,
                handle: row.account_handle,
                display_name: row.account_name,
                followers: row.account_followers,
            },
            has_credentials: row.credentials.is_some(),
            token_expires_at: row.token_expires_at.map(utc),
            posting_slots: serde_json::from_str(&row.posting_slots).map_err(ApiError::internal)?,
            checked_at: row.checked_at.map(utc),
            created_by: parse_stored(&row.created_by).map_err(ApiError::internal)?,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// A channel to connect with configuration and credentials.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "plugin_id": "mastodon",
    "name": "Acme on Mastodon",
    "config": {"instance": "https://mastodon.social"},
    "credentials": {"access_token": "…"}
}))]
pub struct ConnectChannel {
    /// The plugin that will serve it.
    pub plugin_id: String,
    /// A name for people; defaults to the account's handle.
    pub name: Option<String>,
    /// Configuration, valid against the plugin's config schema.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Credentials the plugin reads (`access_token`, `app_password`...).
    /// Write-only: stored encrypted, never shown again.
    #[serde(default)]
    pub credentials: HashMap<String, String>,
}

/// Changes to a channel. New credentials or configuration are checked with
/// the platform before they are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme (EU)", "posting_slots": [{"weekday": "monday", "time": "09:30"}]}))]
pub struct UpdateChannel {
    /// New name.
    pub name: Option<String>,
    /// New configuration.
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
    /// New credentials (reconnects a channel that needs it).
    pub credentials: Option<HashMap<String, String>>,
    /// The weekly posting schedule used by the queue.
    pub posting_slots: Option<Vec<PostingSlot>>,
}

/// Filters of the channel list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChannelFilters {
    /// Only channels of this plugin.
    pub plugin_id: Option<String>,
    /// Only channels in this state.
    pub status: Option<ChannelStatus>,
}

/// Most credentials one channel holds, and the largest one.
const MAX_CREDENTIALS: usize = 16;
const MAX_CREDENTIAL_BYTES: usize = 16 * 1024;

fn check_credentials_shape(credentials: &HashMap<String, String>) -> ApiResult<()> {
    if credentials.len() > MAX_CREDENTIALS {
        return Err(ApiError::invalid_field(
            "credentials",
            "must hold at most 16 entries",
        ));
    }
    if let Some((name, _)) = credentials
        .iter()
        .find(|(k, v)| k.is_empty() || k.len() > 64 || v.len() > MAX_CREDENTIAL_BYTES)
    {
        return Err(ApiError::invalid_field(
            &format!("credentials.{name}"),
            "names are 1–64 characters and values at most 16 KiB",
        ));
    }
    Ok(())
}

/// The enabled plugin a request names.
pub fn enabled_plugin(
    state: &AppState,
    plugin_id: &str,
) -> ApiResult<std::sync::Arc<LoadedPlugin>> {
    state
        .plugins
        .get(plugin_id)
        .filter(|p| p.enabled())
        .ok_or_else(|| ApiError::invalid_field("plugin_id", "no enabled plugin has this id"))
}

/// Checks a configuration against the plugin's schema, then with the plugin.
pub async fn check_config(
    state: &AppState,
    plugin: &LoadedPlugin,
    config: &serde_json::Value,
) -> ApiResult<()> {
    if !config.is_object() {
        return Err(ApiError::invalid_field("config", "must be a JSON object"));
    }
    let violations = plugin.manifest.config_violations(config);
    if !violations.is_empty() {
        return Err(ApiError::Validation(
            violations
                .into_iter()
                .map(|v| FieldError::new(pointer_field("config", &v.pointer), v.message))
                .collect(),
        ));
    }
    let context = calls::context("", config.clone(), HashMap::new());
    match state.plugins.validate_config(plugin, context).await {
        Ok(()) => Ok(()),
        Err(crate::plugins::CallError::Plugin(crate::plugins::PluginFault::Invalid(reason))) => {
            Err(ApiError::invalid_field("config", &reason))
        }
        Err(err) => Err(ApiError::platform(&err)),
    }
}

/// `config` + `/a/0/b` → `config.a[0].b`.
pub fn pointer_field(root: &str, pointer: &str) -> String {
    let mut field = root.to_owned();
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            field.push_str(&format!("[{part}]"));
        } else {
            field.push('.');
            field.push_str(&part.replace("~1", "/").replace("~0", "~"));
        }
    }
    field
}

/// Asks the platform who the credentials belong to.
pub async fn identify(
    state: &AppState,
    plugin: &LoadedPlugin,
    channel_id: &str,
    config: &serde_json::Value,
    credentials: &HashMap<String, String>,
) -> ApiResult<Author> {
    let context = calls::context(channel_id, config.clone(), credentials.clone());
    state
        .plugins
        .check_credentials(plugin, context)
        .await
        .map_err(|err| ApiError::platform(&err))
}

/// Account facts from a check, as column changes.
fn account_changes(author: Author) -> ChannelChanges {
    ChannelChanges {
        account_followers: Some(followers(&author)),
        account_id: Some(author.remote_id),
        account_handle: Some(author.handle),
        account_name: Some(author.display_name),
        checked_at: Some(Some(db::now())),
        ..ChannelChanges::default()
    }
}

fn followers(author: &Author) -> Option<i64> {
    author.followers.and_then(|f| i64::try_from(f).ok())
}

/// A channel about to be stored, before the platform said whose it is.
#[derive(Debug)]
pub struct NewChannel {
    /// Its id (the credentials are sealed for it).
    pub id: String,
    /// Its workspace.
    pub workspace_id: String,
    /// Who connects it.
    pub created_by: String,
    /// The plugin.
    pub plugin_id: String,
    /// A name from the request; the account's handle otherwise.
    pub name: Option<String>,
    /// Configuration (JSON).
    pub config: String,
    /// Sealed credentials and their key id.
    pub sealed: Option<(String, String)>,
    /// When its OAuth2 access token expires.
    pub token_expires_at: Option<chrono::NaiveDateTime>,
}

impl NewChannel {
    /// The row of a freshly connected channel for the account `author`.
    pub fn into_row(self, author: Author) -> ChannelRow {
        let now = db::now();
        let (credentials, credentials_key_id) = self.sealed.unzip();
        ChannelRow {
            id: self.id,
            workspace_id: self.workspace_id,
            plugin_id: self.plugin_id,
            name: self.name.unwrap_or_else(|| author.handle.clone()),
            config: self.config,
            status: ChannelStatus::Connected.as_str().to_owned(),
            status_reason: None,
            account_followers: followers(&author),
            account_id: author.remote_id,
            account_handle: author.handle,
            account_name: author.display_name,
            credentials,
            credentials_key_id,
            token_expires_at: self.token_expires_at,
            posting_slots: "[]".to_owned(),
            checked_at: Some(now),
            version: 1,
            created_by: self.created_by,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Stores a newly connected channel; the same account twice is a conflict.
pub fn insert_channel(conn: &mut DbConn, row: &ChannelRow) -> ApiResult<()> {
    row.insert(conn).map_err(|err| {
        if is_unique_violation(&err) {
            ApiError::conflict(
                "channel_exists",
                "this account is already connected in this workspace",
            )
        } else {
            err.into()
        }
    })?;
    record_status_change(conn, "", row)
}

fn load(conn: &mut DbConn, ws: &str, id: &str) -> ApiResult<ChannelRow> {
    ChannelRow::find(conn, ws, id)?.ok_or(ApiError::NotFound("channel"))
}

fn with_etag(row: ChannelRow) -> ApiResult<HttpResponse> {
    let tag = etag(row.version);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(Channel::from_row(row)?))
}

/// Connect a channel with configuration and credentials. The plugin checks
/// the configuration and the credentials with the platform first.
#[utoipa::path(
    tag = "channels",
    operation_id = "create_channel",
    request_body = ConnectChannel,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body answer the first response again"),
    ),
    responses(
        (status = 201, description = "Connected", body = Channel,
         headers(("Location" = String, description = "The channel"), ("ETag" = String, description = "Its version"))),
        (status = 409, description = "This account is already connected here (`channel_exists`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, configuration or credentials (`credentials_rejected`), or a plugin that does not exist", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 502, description = "The plugin failed", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The platform is down or rate-limiting (see Retry-After)", body = crate::error::Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/channels")]
pub async fn create_channel(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    key: IdempotencyKey,
    body: Json<ConnectChannel>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::ChannelsManage)
        .await?;
    let body = body.0;
    let location_base = format!("/v1/workspaces/{}/channels", access.workspace_id);
    let fingerprint = ("POST", &location_base, &body);
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let name = body
            .name
            .as_deref()
            .map(|n| Name::parse(n).map_err(|m| ApiError::invalid_field("name", m)))
            .transpose()?;
        check_credentials_shape(&body.credentials)?;
        let plugin = enabled_plugin(&state, &body.plugin_id)?;
        check_config(&state, &plugin, &body.config).await?;
        let id = ChannelId::new().to_string();
        let author = identify(&state, &plugin, &id, &body.config, &body.credentials).await?;
        let (sealed, kid) = if body.credentials.is_empty() {
            (None, None)
        } else {
            let (sealed, kid) = seal_credentials(&state.keys, &id, &body.credentials)?;
            (Some(sealed), Some(kid))
        };
        let row = NewChannel {
            id,
            workspace_id: access.workspace_id.to_string(),
            created_by: access.user_id.to_string(),
            plugin_id: plugin.manifest.id.clone(),
            name: name.map(Name::into_string),
            config: body.config.to_string(),
            sealed: sealed.zip(kid),
            token_expires_at: None,
        }
        .into_row(author);
        let row = state
            .db
            .write(move |conn| insert_channel(conn, &row).map(|()| row))
            .await?;
        let location = format!("{location_base}/{}", row.id);
        let tag = etag(row.version);
        Created::new(Channel::from_row(row)?, location).map(|c| c.header(&header::ETAG, tag))
    })
    .await
}

/// The workspace's channels.
#[utoipa::path(
    tag = "channels",
    operation_id = "list_channels",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), ChannelFilters, PageParams),
    responses(
        (status = 200, description = "A page of channels, oldest first", body = Paginated<Channel>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/channels")]
pub async fn list_channels(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: ListQuery<ChannelFilters>,
) -> ApiResult<web::Json<Paginated<Channel>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::ChannelsRead)
        .await?;
    let ListQuery { page, filters } = query;
    let (ws, after, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            ChannelRow::list(
                conn,
                &ws,
                filters.plugin_id.as_deref(),
                filters.status.map(ChannelStatus::as_str),
                after.as_deref(),
                fetch,
            )
            .map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), Channel::from_row)
        .map(web::Json)
}

/// One channel, with its health.
#[utoipa::path(
    tag = "channels",
    operation_id = "get_channel",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("channel_id" = ChannelId, Path, description = "Channel id"),
    ),
    responses(
        (status = 200, description = "The channel", body = Channel,
         headers(("ETag" = String, description = "Its version"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/channels/{channel_id}")]
pub async fn get_channel(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ChannelId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, channel_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ChannelsRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), channel_id.to_string());
    let row = state.db.read(move |conn| load(conn, &ws, &id)).await?;
    with_etag(row)
}

/// Change a channel's name, configuration, credentials or posting slots.
/// New configuration or credentials are checked with the platform; new
/// credentials reconnect a channel that needed it.
#[utoipa::path(
    tag = "channels",
    operation_id = "update_channel",
    request_body = UpdateChannel,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("channel_id" = ChannelId, Path, description = "Channel id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "Updated", body = Channel,
         headers(("ETag" = String, description = "The new version"))),
        (status = 502, description = "The plugin failed", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The platform is down or rate-limiting", body = crate::error::Problem, content_type = "application/problem+json"),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/channels/{channel_id}")]
pub async fn update_channel(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ChannelId)>,
    if_match: IfMatch,
    body: Json<UpdateChannel>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, channel_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ChannelsManage)
        .await?;
    let body = body.0;
    let (ws, id) = (access.workspace_id.to_string(), channel_id.to_string());
    let current = {
        let (ws, id) = (ws.clone(), id.clone());
        state.db.read(move |conn| load(conn, &ws, &id)).await?
    };
    if !if_match.allows(&etag(current.version)) {
        return Err(ApiError::PreconditionFailed);
    }
    let mut changes = ChannelChanges {
        name: body
            .name
            .as_deref()
            .map(|n| Name::parse(n).map_err(|m| ApiError::invalid_field("name", m)))
            .transpose()?
            .map(Name::into_string),
        ..ChannelChanges::default()
    };
    if let Some(slots) = body.posting_slots {
        let slots = crate::domain::posting_slots::normalise(slots)
            .map_err(|m| ApiError::invalid_field("posting_slots", m))?;
        changes.posting_slots = Some(serde_json::to_string(&slots).map_err(ApiError::internal)?);
    }
    if body.config.is_some() || body.credentials.is_some() {
        let plugin = calls::plugin_for(&state, &current)?;
        let config = match body.config {
            Some(config) => {
                check_config(&state, &plugin, &config).await?;
                config
            }
            None => serde_json::from_str(&current.config).map_err(ApiError::internal)?,
        };
        let credentials = match &body.credentials {
            Some(credentials) => {
                check_credentials_shape(credentials)?;
                credentials.clone()
            }
            None => calls::open_credentials(&state.keys, &current)?,
        };
        let author = identify(&state, &plugin, &id, &config, &credentials).await?;
        if author.remote_id != current.account_id {
            return Err(ApiError::invalid_field(
                "credentials",
                "belong to another account; connect it as a new channel",
            ));
        }
        let account = account_changes(author);
        changes = ChannelChanges {
            config: Some(config.to_string()),
            account_handle: account.account_handle,
            account_name: account.account_name,
            account_followers: account.account_followers,
            checked_at: account.checked_at,
            ..changes
        };
        if let Some(credentials) = &body.credentials {
            let (sealed, kid) = seal_credentials(&state.keys, &id, credentials)?;
            changes.credentials = Some(Some(sealed));
            changes.credentials_key_id = Some(Some(kid));
            changes.token_expires_at = Some(None);
            if current.status == ChannelStatus::NeedsReconnect.as_str() {
                changes.status = Some(ChannelStatus::Connected.as_str().to_owned());
                changes.status_reason = Some(None);
            }
        }
    }
    let (version, before) = (current.version, current.status.clone());
    let row = state
        .db
        .write(move |conn| {
            let row = ChannelRow::update(conn, &ws, &id, &changes, Some(version))?
                .ok_or(ApiError::PreconditionFailed)?;
            record_status_change(conn, &before, &row)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    with_etag(row)
}

/// Check a channel's credentials with the platform now; its status follows
/// the answer (`connected`, or `needs_reconnect` if refused).
#[utoipa::path(
    tag = "channels",
    operation_id = "check_channel",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("channel_id" = ChannelId, Path, description = "Channel id"),
    ),
    responses(
        (status = 200, description = "Checked; see `status`", body = Channel,
         headers(("ETag" = String, description = "The new version"))),
        (status = 502, description = "The plugin failed", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The platform is down or rate-limiting", body = crate::error::Problem, content_type = "application/problem+json"),
        ActionProblems,
    )
)]
#[post("/workspaces/{workspace_id}/channels/{channel_id}/check")]
pub async fn check_channel(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ChannelId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, channel_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ChannelsManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), channel_id.to_string());
    let current = {
        let (ws, id) = (ws.clone(), id.clone());
        state.db.read(move |conn| load(conn, &ws, &id)).await?
    };
    let plugin = calls::plugin_for(&state, &current)?;
    let (context, current) = match calls::fresh_context(&state, &plugin, current).await {
        Ok(fresh) => fresh,
        // A refused refresh already marked the channel; show it.
        Err(ApiError::Platform {
            code: "credentials_rejected",
            ..
        }) => {
            let row = state.db.read(move |conn| load(conn, &ws, &id)).await?;
            return with_etag(row);
        }
        Err(err) => return Err(err),
    };
    let changes = match state.plugins.check_credentials(&plugin, context).await {
        Ok(author) => ChannelChanges {
            status: (current.status == ChannelStatus::NeedsReconnect.as_str())
                .then(|| ChannelStatus::Connected.as_str().to_owned()),
            status_reason: Some(None),
            ..account_changes(author)
        },
        Err(crate::plugins::CallError::Plugin(crate::plugins::PluginFault::Unauthorized(
            reason,
        ))) => ChannelChanges {
            status: (current.status != ChannelStatus::Paused.as_str())
                .then(|| ChannelStatus::NeedsReconnect.as_str().to_owned()),
            status_reason: Some(Some(reason.chars().take(500).collect())),
            checked_at: Some(Some(db::now())),
            ..ChannelChanges::default()
        },
        Err(err) => return Err(ApiError::platform(&err)),
    };
    let before = current.status.clone();
    let row = state
        .db
        .write(move |conn| {
            let row = ChannelRow::update(conn, &ws, &id, &changes, None)?
                .ok_or(ApiError::NotFound("channel"))?;
            record_status_change(conn, &before, &row)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    with_etag(row)
}

async fn set_paused(
    state: &AppState,
    principal: &Principal,
    path: (WorkspaceId, ChannelId),
    paused: bool,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(state, path.0, Permission::ChannelsManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), path.1.to_string());
    let row = state
        .db
        .write(move |conn| {
            let current = load(conn, &ws, &id)?;
            let is_paused = current.status == ChannelStatus::Paused.as_str();
            if is_paused == paused {
                return Ok(current);
            }
            // A resumed channel is connected until a call says otherwise;
            // `check` asks the platform at once.
            let status = if paused {
                ChannelStatus::Paused
            } else if current.status_reason.is_some() {
                ChannelStatus::NeedsReconnect
            } else {
                ChannelStatus::Connected
            };
            let changes = ChannelChanges {
                status: Some(status.as_str().to_owned()),
                ..ChannelChanges::default()
            };
            let row = ChannelRow::update(conn, &ws, &id, &changes, Some(current.version))?.ok_or(
                ApiError::conflict("concurrent_change", "the channel changed; retry"),
            )?;
            record_status_change(conn, &current.status, &row)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    with_etag(row)
}

/// Pause a channel: nothing is published to it or fetched from it until it resumes.
#[utoipa::path(
    tag = "channels",
    operation_id = "pause_channel",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("channel_id" = ChannelId, Path, description = "Channel id"),
    ),
    responses(
        (status = 200, description = "Paused (or already paused)", body = Channel),
        ActionProblems,
    )
)]
#[post("/workspaces/{workspace_id}/channels/{channel_id}/pause")]
pub async fn pause_channel(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ChannelId)>,
) -> ApiResult<HttpResponse> {
    set_paused(&state, &principal, path.into_inner(), true).await
}

/// Resume a paused channel.
#[utoipa::path(
    tag = "channels",
    operation_id = "resume_channel",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("channel_id" = ChannelId, Path, description = "Channel id"),
    ),
    responses(
        (status = 200, description = "Resumed (or was not paused)", body = Channel),
        ActionProblems,
    )
)]
#[post("/workspaces/{workspace_id}/channels/{channel_id}/resume")]
pub async fn resume_channel(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ChannelId)>,
) -> ApiResult<HttpResponse> {
    set_paused(&state, &principal, path.into_inner(), false).await
}

/// Disconnect a channel and forget its credentials. Drafts lose their
/// variant for it; refused while scheduled or sent posts target it (pause it
/// instead: their record needs the channel).
#[utoipa::path(
    tag = "channels",
    operation_id = "delete_channel",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("channel_id" = ChannelId, Path, description = "Channel id"),
    ),
    responses(
        (status = 204, description = "Disconnected"),
        ActionProblems,
    )
)]
#[delete("/workspaces/{workspace_id}/channels/{channel_id}")]
pub async fn delete_channel(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ChannelId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, channel_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ChannelsManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), channel_id.to_string());
    state
        .db
        .write(move |conn| {
            load(conn, &ws, &id)?;
            let used = PostRow::count_targeting(conn, &ws, &id)?;
            if used > 0 {
                return Err(ApiError::conflict(
                    "channel_in_use",
                    format!(
                        "{used} scheduled or sent post(s) target this channel; \
                         pause it instead, or unschedule them first"
                    ),
                ));
            }
            PostVariantRow::remove_channel(conn, &id)?;
            let gone = load(conn, &ws, &id)?;
            ChannelRow::delete(conn, &ws, &id)?;
            let data = serde_json::json!({ "channel_id": gone.id, "plugin_id": gone.plugin_id });
            activity::record(conn, &ws, EventType::ChannelDisconnected, Some(&id), &data)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
