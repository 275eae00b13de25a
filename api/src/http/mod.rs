//! The HTTP layer: one handler per operation, grouped by resource, and the
//! route table that registers them all (and so documents them all).

pub mod api_tokens;
pub mod auth;
pub mod calendar;
pub mod campaigns;
pub mod channel_oauth;
pub mod channels;
pub mod contacts;
pub mod events;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod inbox;
pub mod invitations;
pub mod jobs;
pub mod listening;
pub mod live;
pub mod me;
pub mod media;
pub mod members;
pub mod metrics;
pub mod objectives;
pub mod platform_hooks;
pub mod plugins;
pub mod posts;
pub mod problems;
pub mod queue;
pub mod registrations;
pub mod reports;
pub mod views;
pub mod webhooks;
pub mod workspaces;

use actix_web::{HttpResponse, web};
use utoipa_actix_web::scope::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;

/// Every documented route. Registering a handler here is what puts it in
/// `openapi.json`, so a served route cannot be missing from the spec.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            scope("/v1")
                .service(auth::signup)
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::logout)
                .service(auth::jwks)
                .service(me::get_me)
                .service(workspaces::create_workspace)
                .service(workspaces::list_workspaces)
                .service(workspaces::get_workspace)
                .service(workspaces::update_workspace)
                .service(workspaces::delete_workspace)
                .service(members::list_members)
                .service(members::get_member)
                .service(members::update_member)
                .service(members::delete_member)
                .service(invitations::create_invitation)
                .service(invitations::list_invitations)
                .service(invitations::delete_invitation)
                .service(invitations::accept_invitation)
                .service(api_tokens::create_api_token)
                .service(api_tokens::list_api_tokens)
                .service(api_tokens::delete_api_token)
                .service(media::upload_media)
                .service(media::list_media)
                .service(media::get_media)
                .service(media::update_media)
                .service(media::delete_media)
                .service(media::get_media_content)
                .service(plugins::list_plugins)
                .service(plugins::upload_plugin)
                .service(plugins::get_plugin)
                .service(plugins::enable_plugin)
                .service(plugins::disable_plugin)
                .service(channel_oauth::start_channel_oauth)
                .service(channel_oauth::complete_channel_oauth)
                .service(channels::create_channel)
                .service(channels::list_channels)
                .service(channels::get_channel)
                .service(channels::update_channel)
                .service(channels::delete_channel)
                .service(channels::check_channel)
                .service(channels::pause_channel)
                .service(channels::resume_channel)
                .service(queue::get_channel_queue)
                .service(queue::reorder_channel_queue)
                .service(posts::import::import_posts)
                .service(posts::create_post)
                .service(posts::list_posts)
                .service(posts::get_post)
                .service(posts::update_post)
                .service(posts::delete_post)
                .service(posts::preview_post)
                .service(posts::workflow::submit_post)
                .service(posts::workflow::withdraw_post)
                .service(posts::workflow::approve_post)
                .service(posts::workflow::request_post_changes)
                .service(posts::workflow::reopen_post)
                .service(posts::workflow::schedule_post)
                .service(posts::workflow::unschedule_post)
                .service(posts::workflow::cancel_post)
                .service(posts::workflow::retry_post)
                .service(posts::workflow::cancel_post_target)
                .service(posts::workflow::list_post_history)
                .service(queue::queue_post)
                .service(posts::revisions::list_post_revisions)
                .service(posts::revisions::restore_post_revision)
                .service(posts::comments::create_post_comment)
                .service(posts::comments::list_post_comments)
                .service(posts::comments::delete_post_comment)
                .service(calendar::get_calendar)
                .service(campaigns::create_campaign)
                .service(campaigns::list_campaigns)
                .service(campaigns::get_campaign)
                .service(campaigns::update_campaign)
                .service(campaigns::delete_campaign)
                .service(events::create_event)
                .service(events::list_events)
                .service(events::get_event)
                .service(events::update_event)
                .service(events::delete_event)
                .service(registrations::create_registration)
                .service(registrations::list_registrations)
                .service(registrations::export_registrations)
                .service(registrations::get_registration)
                .service(registrations::update_registration)
                .service(registrations::delete_registration)
                .service(live::list_event_types)
                .service(live::stream_events)
                .service(jobs::list_jobs)
                .service(jobs::get_job)
                .service(jobs::retry_job)
                .service(webhooks::create_webhook)
                .service(webhooks::list_webhooks)
                .service(webhooks::get_webhook)
                .service(webhooks::update_webhook)
                .service(webhooks::delete_webhook)
                .service(webhooks::rotate_webhook_secret)
                .service(webhooks::deliveries::test_webhook)
                .service(webhooks::deliveries::list_webhook_deliveries)
                .service(webhooks::deliveries::get_webhook_delivery)
                .service(webhooks::deliveries::replay_webhook_delivery)
                .service(inbox::items::list_inbox_items)
                .service(inbox::items::bulk_update_inbox_items)
                .service(inbox::items::get_inbox_item)
                .service(inbox::items::update_inbox_item)
                .service(inbox::items::poll_channel_inbox)
                .service(inbox::replies::create_inbox_reply)
                .service(inbox::replies::list_inbox_replies)
                .service(inbox::replies::review_inbox_reply)
                .service(inbox::moderation::moderate_inbox_item)
                .service(inbox::log::list_moderation_log)
                .service(inbox::log::list_inbox_item_log)
                .service(inbox::settings::get_inbox_settings)
                .service(inbox::settings::put_inbox_settings)
                .service(inbox::settings::list_inbox_alerts)
                .service(inbox::settings::acknowledge_inbox_alert)
                .service(inbox::rules::dry_run_inbox_rule)
                .service(inbox::rules::create_inbox_rule)
                .service(inbox::rules::list_inbox_rules)
                .service(inbox::rules::get_inbox_rule)
                .service(inbox::rules::update_inbox_rule)
                .service(inbox::rules::delete_inbox_rule)
                .service(inbox::rules::list_inbox_rule_versions)
                .service(inbox::saved_replies::create_saved_reply)
                .service(inbox::saved_replies::list_saved_replies)
                .service(inbox::saved_replies::get_saved_reply)
                .service(inbox::saved_replies::update_saved_reply)
                .service(inbox::saved_replies::delete_saved_reply)
                .service(contacts::list_contacts)
                .service(contacts::get_contact)
                .service(contacts::update_contact)
                .service(contacts::merge_contact)
                .service(contacts::split_contact)
                .service(listening::create_listening_query)
                .service(listening::list_listening_queries)
                .service(listening::update_listening_query)
                .service(listening::delete_listening_query)
                .service(metrics::get_metric_report)
                .service(metrics::export_metric_report)
                .service(metrics::chart_metric_report)
                .service(metrics::get_post_metrics)
                .service(metrics::list_metric_collections)
                .service(metrics::collect_channel_metrics)
                .service(reports::get_inbox_report)
                .service(reports::get_best_time_report)
                .service(reports::chart_best_time_report)
                .service(reports::get_share_of_voice_report)
                .service(objectives::create_objective)
                .service(objectives::list_objectives)
                .service(objectives::get_objective)
                .service(objectives::update_objective)
                .service(objectives::delete_objective)
                .service(platform_hooks::receive_platform_webhook),
        );
}

/// Extractor settings that turn actix's own errors into problem details.
pub fn extractor_config(cfg: &mut web::ServiceConfig) {
    // A path that does not parse (a malformed id, bad UTF-8) names nothing
    // that exists: 404, as for any other unknown resource.
    cfg.app_data(
        web::PathConfig::default().error_handler(|_, _| ApiError::NotFound("resource").into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _| ApiError::bad_request("invalid_query", err.to_string()).into()),
    );
}

/// The answer for a path no route serves.
pub async fn route_not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NoRoute)
}

/// `/docs` without the slash: the interactive docs live under `/docs/`.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}
