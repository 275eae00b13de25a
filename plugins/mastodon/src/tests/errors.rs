//! What Mastodon's error answers become.

use plaza_sdk::http::{HttpError, Response};
use plaza_sdk::{Plugin, PluginError};
use serde_json::json;

use super::{Mastodon, channel, connected, url};
use crate::api::{link_cursor, mastodon_error};

fn error_for(status: u16, body: &serde_json::Value) -> PluginError {
    mastodon_error(&Response::json_body(status, body))
}

#[test]
fn statuses_map_to_plugin_errors() {
    let invalid_token = json!({ "error": "The access token is invalid" });
    assert_eq!(
        error_for(401, &invalid_token),
        PluginError::unauthorized("The access token is invalid")
    );
    assert_eq!(
        error_for(
            403,
            &json!({ "error": "This action is outside the authorized scopes" })
        ),
        PluginError::unauthorized("This action is outside the authorized scopes")
    );
    // Deleting someone else's status: the token is fine, the action is not.
    assert_eq!(
        error_for(403, &json!({ "error": "This action is not allowed" })),
        PluginError::invalid("This action is not allowed")
    );
    assert_eq!(
        error_for(404, &json!({ "error": "Record not found" })),
        PluginError::NotFound
    );
    assert_eq!(error_for(410, &json!({})), PluginError::NotFound);
    assert_eq!(
        error_for(
            422,
            &json!({ "error": "Validation failed: Text can't be blank" })
        ),
        PluginError::invalid("Validation failed: Text can't be blank")
    );
    assert_eq!(
        error_for(
            400,
            &json!({ "error": "invalid_grant", "error_description": "The provided authorization grant is invalid" })
        ),
        PluginError::invalid("The provided authorization grant is invalid")
    );
    assert_eq!(
        error_for(
            500,
            &json!({ "error": "Error processing thumbnail for uploaded media" })
        ),
        PluginError::transient("HTTP 500: Error processing thumbnail for uploaded media")
    );
    assert_eq!(
        mastodon_error(&Response::text_body(502, "<html>bad gateway</html>")),
        PluginError::transient("HTTP 502: HTTP 502")
    );
}

#[test]
fn rate_limits_wait_for_retry_after_or_the_reset_time() {
    let _host = plaza_sdk::testing::TestHost::new(); // now: 2023-11-14T22:13:20Z
    let retry_after = Response::json_body(429, &json!({ "error": "Too many requests" }))
        .with_header("Retry-After", "42");
    assert_eq!(
        mastodon_error(&retry_after),
        PluginError::RateLimited(Some(42))
    );

    // Mastodon sends the reset as an ISO 8601 time (rack-attack, `iso8601(6)`).
    let iso = Response::new(429)
        .with_header("X-RateLimit-Limit", "300")
        .with_header("X-RateLimit-Remaining", "0")
        .with_header("X-RateLimit-Reset", "2023-11-14T22:18:20.000000Z");
    assert_eq!(mastodon_error(&iso), PluginError::RateLimited(Some(300)));

    // Some Mastodon-API servers send Unix seconds.
    let epoch = Response::new(429).with_header("X-RateLimit-Reset", "1700000090");
    assert_eq!(mastodon_error(&epoch), PluginError::RateLimited(Some(90)));

    let past = Response::new(429).with_header("X-RateLimit-Reset", "2023-11-14T22:00:00Z");
    assert_eq!(mastodon_error(&past), PluginError::RateLimited(Some(0)));

    let unknown = Response::new(429).with_header("X-RateLimit-Reset", "soon");
    assert_eq!(mastodon_error(&unknown), PluginError::RateLimited(None));
}

#[test]
fn a_rate_limited_call_reaches_the_host_as_rate_limited() {
    let host = connected();
    host.on(
        "GET",
        &url("/api/v1/accounts/verify_credentials"),
        Response::json_body(429, &json!({ "error": "Too many requests" }))
            .with_header("X-RateLimit-Reset", "2023-11-14T22:14:20.000Z"),
    );
    assert_eq!(
        Mastodon::account_metrics(&channel()),
        Err(PluginError::RateLimited(Some(60)))
    );
}

#[test]
fn unexpected_bodies_and_network_failures_are_transient() {
    let host = connected();
    host.on(
        "GET",
        &url("/api/v1/accounts/verify_credentials"),
        Response::text_body(200, "<html>maintenance</html>"),
    );
    assert!(matches!(
        Mastodon::account_metrics(&channel()),
        Err(PluginError::Transient(_))
    ));
    host.on_error(
        "GET",
        &url("/api/v1/accounts/verify_credentials"),
        HttpError::Timeout,
    );
    assert!(matches!(
        Mastodon::check_credentials(&channel()),
        Err(PluginError::Transient(_))
    ));
}

#[test]
fn link_headers_give_their_cursors() {
    // The documentation's example of paging `GET /api/v1/notifications`.
    let link = "<https://mastodon.example/api/v1/notifications?max_id=34975535>; rel=\"next\", \
                <https://mastodon.example/api/v1/notifications?min_id=34975861>; rel=\"prev\"";
    assert_eq!(
        link_cursor(link, "prev", "min_id").as_deref(),
        Some("34975861")
    );
    assert_eq!(
        link_cursor(link, "next", "max_id").as_deref(),
        Some("34975535")
    );
    assert_eq!(link_cursor(link, "prev", "max_id"), None);
    assert_eq!(link_cursor("garbage", "prev", "min_id"), None);
}
