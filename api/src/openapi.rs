//! The OpenAPI document: the route table plus what utoipa cannot infer.

use actix_web::App;
use utoipa::openapi::OpenApi as Spec;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

/// The parts of the spec not attached to one operation.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Plaza API",
        description = "A headless platform for the people who run a brand's online community. \
            Authenticate with `Authorization: Bearer <token>`: an access token from \
            `POST /v1/auth/login`, or a workspace API token. Errors are RFC 9457 problem \
            details with a stable `code`. Lists are cursor-paginated. Updates take \
            `If-Match`; creates take `Idempotency-Key`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(
        Problem,
        FieldError,
        crate::http::metrics::ChartKind,
        crate::metrics::inbox_report::InboxGroupBy
    )),
    tags(
        (name = "auth", description = "Sign-up, login, token refresh and logout"),
        (name = "me", description = "The signed-in account"),
        (name = "workspaces", description = "Workspaces: one per brand or client"),
        (name = "members", description = "Who belongs to a workspace, in which role"),
        (name = "invitations", description = "Inviting people into a workspace"),
        (name = "api-tokens", description = "Workspace-scoped tokens for servers and scripts"),
        (name = "media", description = "The media library: images and videos for posts"),
        (name = "plugins", description = "Platform plugins: sandboxed WebAssembly components"),
        (name = "channels", description = "Connected platform accounts: credentials, OAuth2, health"),
        (name = "posts", description = "Posts with per-channel variants, the approval workflow, revisions and comments"),
        (name = "queue", description = "Posting slots and each channel's queue"),
        (name = "calendar", description = "Scheduled and published posts and events in a time range"),
        (name = "campaigns", description = "Campaigns: dated, budgeted work towards one objective, with default UTM values"),
        (name = "events", description = "Events the team runs, and who registered for them"),
        (name = "live", description = "What changes, as it happens: a Server-Sent Events stream per workspace, and the catalogue of event types webhooks subscribe to"),
        (name = "jobs", description = "Background jobs, for instance administrators: the queue and its dead letters"),
        (name = "webhooks", description = "Outgoing webhooks: endpoints subscribed to event types, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), retried for about a day, with a delivery log, replays and test deliveries"),
        (name = "inbox", description = "The unified inbox: mentions, comments, direct messages, reviews and listening hits from every channel; triage, assignment, SLAs, replies through the platform, moderation, the moderation log and crisis alerts"),
        (name = "inbox-rules", description = "Ordered, versioned rules run on every new item: watched words (one Aho-Corasick automaton, case- and accent-insensitive, whole words), linear-time regexes, sentiment, language, author; with a dry run"),
        (name = "saved-replies", description = "Answers written once, with variables filled for each item"),
        (name = "contacts", description = "The community's people across platforms, their history with the brand and their advocacy score"),
        (name = "listening", description = "Listening queries: the brand's and competitors' names, keywords and hashtags searched through plugins"),
        (name = "metrics", description = "What the platforms report about the brand's accounts and posts, collected through plugins on a decaying schedule and kept as time series with hourly and daily roll-ups: reports over time by channel, post, campaign or tag with the period before, as JSON, CSV and SVG charts"),
        (name = "objectives", description = "What the strategist aims for: a KPI (a metric's change, posts published, engagement rate, follower growth, response time, sentiment ratio, share of voice; formulas on `ObjectiveInput.kpi`), a target, a period and a scope, with progress, a projection to the period's end and a status"),
        (name = "reports", description = "Ready reports: the inbox (volume, response and resolution times in business hours, SLA hit rates, sentiment trend; per channel, kind or member) and the best time to post (also as an SVG heatmap)"),
        (name = "hooks", description = "Where platforms deliver webhooks for a channel, verified by its plugin"),
        (name = "system", description = "Health probes"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme every operation uses by default.
#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, spec: &mut Spec) {
        let components = spec.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or plzt_ API token")
                    .build(),
            ),
        );
    }
}

/// The complete spec, as served at `/openapi.json` and printed by `plaza openapi`.
pub fn spec() -> Spec {
    let (_, spec) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::http::routes)
        .split_for_parts();
    spec
}

/// The spec as the pretty JSON committed in `openapi.json`.
pub fn spec_json() -> anyhow::Result<String> {
    let mut json = spec().to_pretty_json()?;
    json.push('\n');
    Ok(json)
}
