//! Platform plugins: what is loaded, uploads, enable and disable.
//!
//! Everyone signed in sees the enabled plugins; instance administrators see
//! all of them and manage them.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::disabled_plugins;
use crate::db::users::{INSTANCE_ADMIN, UserRow};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{Page, PageParams, Paginated};
use crate::plugins::manifest::PluginManifest;
use crate::plugins::registry::{LoadError, PluginHealth};
use crate::plugins::{LoadedPlugin, PluginSource};
use crate::state::AppState;

/// A loaded plugin.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    /// What the plugin says about itself.
    #[serde(flatten)]
    pub manifest: PluginManifest,
    /// SHA-256 of the loaded wasm: the exact version in use.
    pub sha256: String,
    /// Where it came from.
    pub source: PluginSource,
    /// Whether workspaces may use it.
    pub enabled: bool,
    /// Whether it is healthy or paused after repeated failures.
    pub health: PluginHealth,
}

impl PluginView {
    fn of(plugin: &LoadedPlugin) -> Self {
        Self {
            manifest: plugin.manifest.clone(),
            sha256: plugin.sha256.clone(),
            source: plugin.source,
            enabled: plugin.enabled(),
            health: plugin.health(),
        }
    }
}

/// Whether the caller administers this Plaza instance.
pub async fn is_instance_admin(state: &AppState, principal: &Principal) -> ApiResult<bool> {
    let Principal::User { user_id } = principal else {
        return Ok(false);
    };
    let id = user_id.to_string();
    let user = state
        .db
        .read(move |conn| UserRow::find(conn, &id).map_err(ApiError::from))
        .await?;
    Ok(user.is_some_and(|u| u.instance_role == INSTANCE_ADMIN))
}

/// Refuses everyone but instance administrators; `what` names the
/// administration refused ("manage plugins").
pub async fn require_instance_admin(
    state: &AppState,
    principal: &Principal,
    what: &str,
) -> ApiResult<()> {
    if is_instance_admin(state, principal).await? {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "instance_admin_required",
            format!("only instance administrators {what}"),
        ))
    }
}

/// The plugins this server offers.
#[utoipa::path(
    tag = "plugins",
    operation_id = "list_plugins",
    params(PageParams),
    responses(
        (status = 200, description = "A page of plugins, by id; administrators also see disabled ones", body = Paginated<PluginView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plugins")]
pub async fn list_plugins(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Paginated<PluginView>>> {
    let admin = is_instance_admin(&state, &principal).await?;
    let page = Page::from_params(params.into_inner())?;
    let rows: Vec<_> = state
        .plugins
        .list()
        .into_iter()
        .filter(|p| admin || p.enabled())
        .filter(|p| {
            page.after
                .as_ref()
                .is_none_or(|after| p.manifest.id > *after)
        })
        .take(usize::try_from(page.fetch()).unwrap_or(usize::MAX))
        .collect();
    page.finish(rows, |p| p.manifest.id.clone(), |p| Ok(PluginView::of(&p)))
        .map(web::Json)
}

async fn visible(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<std::sync::Arc<LoadedPlugin>> {
    let plugin = state.plugins.get(id).ok_or(ApiError::NotFound("plugin"))?;
    if plugin.enabled() || is_instance_admin(state, principal).await? {
        Ok(plugin)
    } else {
        Err(ApiError::NotFound("plugin"))
    }
}

/// One plugin, with its manifest and health.
#[utoipa::path(
    tag = "plugins",
    operation_id = "get_plugin",
    params(("plugin_id" = String, Path, description = "Plugin id, e.g. `mastodon`")),
    responses(
        (status = 200, description = "The plugin", body = PluginView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plugin (or disabled, for non-administrators)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plugins/{plugin_id}")]
pub async fn get_plugin(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> ApiResult<web::Json<PluginView>> {
    let plugin = visible(&state, &principal, &path).await?;
    Ok(web::Json(PluginView::of(&plugin)))
}

/// Upload a plugin (`application/wasm`): it must be a component exporting
/// the Plaza contract with a readable manifest. A plugin with the same id is
/// replaced. Instance administrators only.
#[utoipa::path(
    tag = "plugins",
    operation_id = "upload_plugin",
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "The plugin component"),
    responses(
        (status = 201, description = "Loaded", body = PluginView,
         headers(("Location" = String, description = "The plugin"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an instance administrator", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the upload limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/wasm`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a Plaza plugin, or its manifest is unusable (`validation_failed` on `body`, with the reason)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plugins")]
pub async fn upload_plugin(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    require_instance_admin(&state, &principal, "manage plugins").await?;
    let is_wasm = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/wasm"))
        });
    if !is_wasm {
        return Err(ApiError::UnsupportedBodyFormat("application/wasm"));
    }
    let limit = state.config.plugin_upload_limit_bytes;
    let mut wasm = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|err| ApiError::bad_request("unreadable_body", err.to_string()))?;
        if wasm.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        wasm.extend_from_slice(&chunk);
    }
    let plugin = state
        .plugins
        .load(wasm.clone(), PluginSource::Upload)
        .await
        .map_err(|err: LoadError| {
            ApiError::Validation(vec![crate::error::FieldError::new("body", err.to_string())])
        })?;
    let dir = crate::plugins::uploads_dir(&state.config);
    let path = dir.join(format!("{}.wasm", plugin.manifest.id));
    web::block(move || {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(path, wasm)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/plugins/{}", plugin.manifest.id),
        ))
        .json(PluginView::of(&plugin)))
}

async fn set_enabled(
    state: &AppState,
    principal: &Principal,
    id: &str,
    enabled: bool,
) -> ApiResult<web::Json<PluginView>> {
    require_instance_admin(state, principal, "manage plugins").await?;
    state.plugins.get(id).ok_or(ApiError::NotFound("plugin"))?;
    let (plugin_id, by) = (id.to_owned(), principal.user()?.to_string());
    state
        .db
        .write(move |conn| {
            if enabled {
                disabled_plugins::enable(conn, &plugin_id).map(drop)
            } else {
                disabled_plugins::disable(conn, &plugin_id, &by)
            }
            .map_err(ApiError::from)
        })
        .await?;
    let plugin = state
        .plugins
        .set_enabled(id, enabled)
        .ok_or(ApiError::NotFound("plugin"))?;
    tracing::info!(plugin = %id, enabled, "plugin availability changed");
    Ok(web::Json(PluginView::of(&plugin)))
}

/// Let workspaces use a plugin. Instance administrators only.
#[utoipa::path(
    tag = "plugins",
    operation_id = "enable_plugin",
    params(("plugin_id" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "Enabled", body = PluginView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an instance administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plugin", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plugins/{plugin_id}/enable")]
pub async fn enable_plugin(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> ApiResult<web::Json<PluginView>> {
    set_enabled(&state, &principal, &path, true).await
}

/// Stop workspaces from using a plugin. Instance administrators only.
#[utoipa::path(
    tag = "plugins",
    operation_id = "disable_plugin",
    params(("plugin_id" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "Disabled", body = PluginView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an instance administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plugin", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plugins/{plugin_id}/disable")]
pub async fn disable_plugin(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> ApiResult<web::Json<PluginView>> {
    set_enabled(&state, &principal, &path, false).await
}
