//! Platform webhooks: where a platform delivers what happened on a
//! connected account (a Discord interaction, a Telegram update). No Plaza
//! token: the channel's plugin verifies the platform's signature or secret,
//! then reads the delivery into inbox items.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::channels::ChannelRow;
use crate::domain::ids::ChannelId;
use crate::error::{ApiError, ApiResult};
use crate::inbox::ingest::{IncomingItem, Source, take_in};
use crate::plugins::bindings::{Capabilities, WebhookRequest};
use crate::plugins::channels::{fresh_context, plugin_for};
use crate::plugins::runtime::sha256_hex;
use crate::plugins::{CallError, PluginFault};
use crate::state::AppState;

/// What Plaza took from a delivery (when the platform wants no answer of
/// its own).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"received": 1, "created": 1, "replayed": false}))]
pub struct HookReceipt {
    /// Items the delivery held.
    pub received: usize,
    /// Items new to the inbox.
    pub created: usize,
    /// The same delivery was taken before; nothing was stored again.
    pub replayed: bool,
}

/// Most bytes of a delivery.
const MAX_BODY: usize = 1024 * 1024;

/// Receive a platform's webhook for a channel. The channel's plugin checks
/// it came from the platform (signature, secret token, timestamp); a
/// delivery seen before creates nothing. Answers what the platform expects
/// (a PONG to a Discord PING), else a receipt.
#[utoipa::path(
    tag = "hooks",
    operation_id = "receive_platform_webhook",
    request_body(content = Vec<u8>, description = "The platform's delivery, as it sent it", content_type = "application/octet-stream"),
    params(("channel_id" = ChannelId, Path, description = "The channel the platform delivers for")),
    responses(
        (status = 200, description = "Taken (or a replay, taken before)", body = HookReceipt),
        (status = 400, description = "The plugin could not read the delivery", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "The delivery is not from the platform: bad signature, secret or timestamp", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such channel, or its plugin takes no webhooks", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 1 MiB", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The plugin is unavailable: the platform should retry", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/hooks/{channel_id}")]
pub async fn receive_platform_webhook(
    state: web::Data<AppState>,
    path: web::Path<ChannelId>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    if body.len() > MAX_BODY {
        return Err(ApiError::PayloadTooLarge { limit: MAX_BODY });
    }
    let id = path.into_inner().to_string();
    let channel = state
        .db
        .read(move |conn| ChannelRow::find_any(conn, &id)?.ok_or(ApiError::NotFound("channel")))
        .await?;
    let plugin = plugin_for(&state, &channel)?;
    if !plugin.manifest.can(Capabilities::WEBHOOKS) {
        return Err(ApiError::NotFound("channel"));
    }
    let request = WebhookRequest {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        headers: req
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
    };
    let (context, channel) = fresh_context(&state, &plugin, channel).await?;
    state
        .plugins
        .verify_webhook(&plugin, context.clone(), request.clone())
        .await
        .map_err(|err| match err {
            CallError::Plugin(PluginFault::Unauthorized(reason) | PluginFault::Invalid(reason)) => {
                tracing::info!(channel = %channel.id, %reason, "refused a platform webhook");
                ApiError::unauthorized(
                    "webhook_not_verified",
                    "the delivery is not from the platform: its signature, secret or timestamp did not check",
                )
            }
            other => ApiError::platform(&other),
        })?;
    let outcome = state
        .plugins
        .parse_webhook(&plugin, context, request)
        .await
        .map_err(|err| match err {
            CallError::Plugin(PluginFault::Invalid(reason)) => ApiError::bad_request(
                "webhook_unreadable",
                format!("the plugin could not read the delivery: {reason}"),
            ),
            other => ApiError::platform(&other),
        })?;
    let now = crate::db::now();
    let items: Vec<IncomingItem> = outcome
        .items
        .into_iter()
        .map(|item| IncomingItem::from_plugin(item, now, None))
        .collect();
    let digest = sha256_hex(&body);
    let taken = take_in(&state, &channel, Source::Webhook, items, Some(digest)).await?;
    if let Some(reply) = outcome.reply {
        let status = actix_web::http::StatusCode::from_u16(reply.status).map_err(|_| {
            ApiError::internal(anyhow::anyhow!(
                "the plugin answered status {}",
                reply.status
            ))
        })?;
        let mut response = HttpResponse::build(status);
        for (name, value) in reply.headers {
            response.insert_header((name, value));
        }
        return Ok(response.body(reply.body));
    }
    Ok(HttpResponse::Ok().json(HookReceipt {
        received: taken.received,
        created: taken.created.len(),
        replayed: taken.replayed,
    }))
}
