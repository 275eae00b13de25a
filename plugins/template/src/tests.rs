//! The template's logic, run natively against the SDK's test host.

use plaza_sdk::http::Response;
use plaza_sdk::testing::TestHost;
use plaza_sdk::{Capabilities, Channel, ItemKind, Metric, Plugin, PluginError, Post};
use serde_json::{Value, json};

use super::Template;

const BASE: &str = "https://social.example.com";

fn channel() -> Channel {
    Channel::with_config("ch-1", &json!({ "base_url": format!("{BASE}/") }))
}

/// A host with a token, as for a connected channel.
fn connected() -> TestHost {
    let host = TestHost::new();
    host.credential("access_token", "t0ken");
    host
}

fn me() -> Value {
    json!({ "id": "42", "handle": "acme", "name": "Acme Coffee", "followers_count": 1200 })
}

#[test]
fn describe_declares_what_the_plugin_does() {
    let manifest = Template::describe();
    assert_eq!(manifest.id, "template");
    assert_eq!(manifest.contract, plaza_sdk::CONTRACT_VERSION);
    assert_eq!(manifest.allowed_hosts, ["{config.base_url}"]);
    assert!(
        manifest.capabilities.contains(
            Capabilities::PUBLISH | Capabilities::MENTIONS | Capabilities::ACCOUNT_METRICS
        )
    );
    assert!(
        manifest
            .capabilities
            .contains(Capabilities::OAUTH2 | Capabilities::PUBLISH_MEDIA)
    );
    let schema: Value = serde_json::from_str(&manifest.config_schema).unwrap();
    assert_eq!(schema["required"], json!(["base_url"]));
    assert_eq!(schema["properties"]["base_url"]["type"], "string");
}

#[test]
fn validate_config_checks_the_base_url() {
    assert_eq!(
        Template::validate_config(r#"{"base_url": "https://social.example.com"}"#),
        Ok(())
    );
    assert!(matches!(
        Template::validate_config(r#"{"base_url": "ftp://social.example.com"}"#),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn check_credentials_answers_the_account() {
    let host = connected();
    host.on(
        "GET",
        &format!("{BASE}/api/me"),
        Response::json_body(200, &me()),
    );

    let author = Template::check_credentials(&channel()).unwrap();

    assert_eq!(author.remote_id, "42");
    assert_eq!(author.handle, "acme");
    assert_eq!(author.display_name.as_deref(), Some("Acme Coffee"));
    assert_eq!(author.followers, Some(1200));
    let request = host.last_request().unwrap();
    assert_eq!(request.header_value("authorization"), Some("Bearer t0ken"));
}

#[test]
fn publish_posts_the_text_with_the_idempotency_key() {
    let host = connected();
    host.on(
        "POST",
        &format!("{BASE}/api/posts"),
        Response::json_body(201, &json!({ "id": "p1", "url": format!("{BASE}/p/p1") })),
    );

    let published = Template::publish(
        &channel(),
        Post::new("Hello, world").idempotency_key("key-1"),
    )
    .unwrap();

    assert_eq!(published.remote_id, "p1");
    assert_eq!(
        published.url.as_deref(),
        Some("https://social.example.com/p/p1")
    );
    let request = host.last_request().unwrap();
    assert_eq!(request.method(), "POST");
    assert_eq!(request.header_value("idempotency-key"), Some("key-1"));
    assert_eq!(
        request.header_value("content-type"),
        Some("application/json")
    );
    assert_eq!(request.body_json(), Some(json!({ "text": "Hello, world" })));
    assert!(host.logs().iter().any(|line| line.message.contains("p1")));
}

#[test]
fn publish_of_a_thread_part_and_reply_name_the_answered_post() {
    let host = connected();
    host.on(
        "POST",
        &format!("{BASE}/api/posts"),
        Response::json_body(201, &json!({ "id": "p2" })),
    );

    let part = Template::publish(&channel(), Post::new("2/2").reply_to("p1")).unwrap();
    let reply =
        Template::reply(&channel(), "m9", Post::new("Thanks!").idempotency_key("k")).unwrap();

    assert_eq!(part.url, None);
    assert_eq!(reply.remote_id, "p2");
    let requests = host.requests();
    assert_eq!(
        requests[0].body_json(),
        Some(json!({ "text": "2/2", "reply_to": "p1" }))
    );
    assert_eq!(requests[0].header_value("idempotency-key"), None);
    assert_eq!(
        requests[1].body_json(),
        Some(json!({ "text": "Thanks!", "reply_to": "m9" }))
    );
}

#[test]
fn find_published_looks_the_idempotency_key_up() {
    let host = connected();
    host.on(
        "GET",
        &format!("{BASE}/api/posts?idempotency_key=plaza-p%201%2Fch"),
        Response::json_body(200, &json!({ "id": "p7", "url": format!("{BASE}/p/p7") })),
    );

    let found = Template::find_published(&channel(), "plaza-p 1/ch").unwrap();

    let found = found.expect("the platform has the post");
    assert_eq!(found.remote_id, "p7");
    assert_eq!(
        found.url.as_deref(),
        Some("https://social.example.com/p/p7")
    );
    let request = host.last_request().unwrap();
    assert_eq!(request.method(), "GET");
    assert_eq!(request.header_value("authorization"), Some("Bearer t0ken"));
    assert_eq!(host.requests().len(), 1, "a lookup never posts");
}

#[test]
fn find_published_answers_none_when_the_platform_has_no_such_post() {
    let host = connected();
    host.on(
        "GET",
        &format!("{BASE}/api/posts?idempotency_key=k1"),
        Response::json_body(404, &json!({ "error": "not_found" })),
    );

    assert_eq!(Template::find_published(&channel(), "k1"), Ok(None));
}

#[test]
fn find_published_fails_when_the_platform_cannot_tell() {
    let host = connected();
    host.push(Response::text_body(503, "maintenance"))
        .push(Response::json_body(
            401,
            &json!({ "error": "token expired" }),
        ))
        .push(Response::text_body(200, "<html>not json</html>"));

    // Each of these must stop a resend: none may read as "not there".
    assert_eq!(
        Template::find_published(&channel(), "k1"),
        Err(PluginError::Transient("HTTP 503: maintenance".into()))
    );
    assert_eq!(
        Template::find_published(&channel(), "k1"),
        Err(PluginError::Unauthorized("token expired".into()))
    );
    assert!(matches!(
        Template::find_published(&channel(), "k1"),
        Err(PluginError::Transient(_))
    ));
}

#[test]
fn find_published_without_a_key_cannot_tell_and_sends_nothing() {
    let host = connected();

    assert!(matches!(
        Template::find_published(&channel(), ""),
        Err(PluginError::Invalid(_))
    ));
    assert!(host.requests().is_empty());
}

#[test]
fn delete_post_encodes_the_id_and_maps_404() {
    let host = connected();
    host.on(
        "DELETE",
        &format!("{BASE}/api/posts/p%2F1"),
        Response::new(204),
    )
    .on(
        "DELETE",
        &format!("{BASE}/api/posts/gone"),
        Response::new(404),
    );

    assert_eq!(Template::delete_post(&channel(), "p/1"), Ok(()));
    assert_eq!(
        Template::delete_post(&channel(), "gone"),
        Err(PluginError::NotFound)
    );
}

#[test]
fn fetch_mentions_reads_a_page() {
    let host = connected();
    host.on(
        "GET",
        &format!("{BASE}/api/mentions?cursor=c%201&limit=20"),
        Response::json_body(
            200,
            &json!({
                "items": [{
                    "id": "m1",
                    "author": { "id": "7", "handle": "ada" },
                    "text": "@acme love it",
                    "created_at": "2024-05-01T10:00:00Z",
                    "thread_id": "t1",
                    "url": format!("{BASE}/m/m1")
                }],
                "next_cursor": "c2"
            }),
        ),
    );

    let page = Template::fetch_mentions(&channel(), Some("c 1"), 20).unwrap();

    assert_eq!(page.next_cursor.as_deref(), Some("c2"));
    let [item] = page.items.as_slice() else {
        panic!("expected one item, got {:?}", page.items);
    };
    assert_eq!(item.kind, ItemKind::Mention);
    assert_eq!(item.remote_id, "m1");
    assert_eq!(item.author.handle, "ada");
    assert_eq!(item.thread_id.as_deref(), Some("t1"));
    assert_eq!(item.created_at, "2024-05-01T10:00:00Z");
}

#[test]
fn fetch_mentions_without_cursor_clamps_the_limit() {
    let host = connected();
    host.push(Response::json_body(200, &json!({ "items": [] })));

    let page = Template::fetch_mentions(&channel(), None, 5_000).unwrap();

    assert!(page.items.is_empty());
    assert_eq!(page.next_cursor, None);
    assert_eq!(
        host.last_request().unwrap().url(),
        format!("{BASE}/api/mentions?limit=100")
    );
}

#[test]
fn account_metrics_reports_followers() {
    let host = connected();
    host.on(
        "GET",
        &format!("{BASE}/api/me"),
        Response::json_body(200, &me()),
    );

    let metrics = Template::account_metrics(&channel()).unwrap();

    assert_eq!(metrics, [Metric::followers(1200)]);
}

#[test]
fn post_metrics_reads_each_post_and_skips_deleted_ones() {
    let host = connected();
    host.on(
        "GET",
        &format!("{BASE}/api/posts/p%2F1/stats"),
        Response::json_body(
            200,
            &json!({ "likes": 7, "shares": 2, "comments": 3, "views": 90 }),
        ),
    )
    .on(
        "GET",
        &format!("{BASE}/api/posts/p2/stats"),
        Response::json_body(200, &json!({ "likes": 1 })),
    )
    .on(
        "GET",
        &format!("{BASE}/api/posts/gone/stats"),
        Response::new(404),
    );
    let ids = ["p/1", "gone", "p2"].map(str::to_owned);

    let metrics = Template::post_metrics(&channel(), &ids).unwrap();

    assert_eq!(
        metrics,
        [
            Metric::post("p/1", "likes", 7.0),
            Metric::post("p/1", "reposts", 2.0),
            Metric::post("p/1", "replies", 3.0),
            Metric::post("p/1", "impressions", 90.0),
            Metric::post("p2", "likes", 1.0),
            Metric::post("p2", "reposts", 0.0),
            Metric::post("p2", "replies", 0.0),
        ]
    );
    assert!(metrics.iter().all(Metric::has_known_name));
}

#[test]
fn post_metrics_fails_when_the_platform_does() {
    let host = connected();
    host.push(Response::json_body(500, &json!({ "error": "down" })));

    let err = Template::post_metrics(&channel(), &["p1".to_owned()]).unwrap_err();

    assert!(!matches!(err, PluginError::NotFound), "{err:?}");
}

#[test]
fn unauthorized_answers_carry_the_platform_message() {
    let host = connected();
    host.push(Response::json_body(
        401,
        &json!({ "error": "token expired" }),
    ));

    assert_eq!(
        Template::check_credentials(&channel()),
        Err(PluginError::Unauthorized("token expired".into()))
    );
}

#[test]
fn rate_limits_carry_retry_after() {
    let host = connected();
    host.push(
        Response::json_body(429, &json!({ "error": "slow down" })).with_header("Retry-After", "30"),
    );

    assert_eq!(
        Template::publish(&channel(), Post::new("hi")),
        Err(PluginError::RateLimited(Some(30)))
    );
}

#[test]
fn server_errors_are_transient() {
    let host = connected();
    host.push(Response::text_body(500, "upstream exploded"));

    let error = Template::publish(&channel(), Post::new("hi")).unwrap_err();

    assert_eq!(
        error,
        PluginError::Transient("HTTP 500: upstream exploded".into())
    );
    assert!(error.is_retryable());
}

#[test]
fn other_client_errors_are_invalid_with_the_reason() {
    let host = connected();
    host.push(Response::json_body(
        422,
        &json!({ "message": "text is too long" }),
    ));

    assert_eq!(
        Template::publish(&channel(), Post::new("hi")),
        Err(PluginError::Invalid("text is too long".into()))
    );
}

#[test]
fn unexpected_bodies_are_transient() {
    let host = connected();
    host.push(Response::text_body(200, "<html>maintenance</html>"));

    assert!(matches!(
        Template::check_credentials(&channel()),
        Err(PluginError::Transient(_))
    ));
}

#[test]
fn a_missing_token_is_unauthorized_and_sends_nothing() {
    let host = TestHost::new();

    assert_eq!(
        Template::publish(&channel(), Post::new("hi")),
        Err(PluginError::Unauthorized(
            "missing credential access_token".into()
        ))
    );
    assert!(host.requests().is_empty());
}

#[test]
fn a_bad_configuration_is_invalid_and_sends_nothing() {
    let host = connected();
    let channel = Channel::new("ch-1", r#"{"base_url": "ftp://social.example.com"}"#);

    assert!(matches!(
        Template::fetch_mentions(&channel, None, 10),
        Err(PluginError::Invalid(_))
    ));
    assert!(host.requests().is_empty());
}

#[test]
fn unsupported_functions_say_so() {
    let _host = connected();
    assert_eq!(
        Template::search(&channel(), "coffee", None, 10),
        Err(PluginError::Unsupported)
    );
    assert_eq!(
        Template::fetch_messages(&channel(), None, 10),
        Err(PluginError::Unsupported)
    );
}

fn oauth_channel() -> Channel {
    Channel::with_config("ch-1", &json!({ "base_url": BASE, "client_id": "plaza" }))
}

#[test]
fn oauth_sends_people_to_consent_with_a_pkce_challenge() {
    let _host = TestHost::new();
    let url = Template::oauth_authorize_url(
        &oauth_channel(),
        "st/ate",
        "chal",
        "https://app.example/back",
    )
    .unwrap();
    assert_eq!(
        url,
        "https://social.example.com/oauth/authorize?response_type=code&client_id=plaza\
         &redirect_uri=https%3A%2F%2Fapp.example%2Fback&scope=read%20write&state=st%2Fate\
         &code_challenge=chal&code_challenge_method=S256"
    );
    assert!(matches!(
        Template::oauth_authorize_url(&channel(), "s", "c", "https://a.example"),
        Err(PluginError::Invalid(reason)) if reason.contains("client_id")
    ));
}

#[test]
fn oauth_exchanges_codes_with_the_verifier_and_refreshes() {
    let host = TestHost::new();
    host.on(
        "POST",
        &format!("{BASE}/oauth/token"),
        Response::json_body(
            200,
            &json!({"access_token": "a1", "refresh_token": "r1", "expires_in": 7200, "scope": "read write"}),
        ),
    );
    let tokens = Template::oauth_exchange(
        &oauth_channel(),
        "code-1",
        "verifier-1",
        "https://app.example/back",
    )
    .unwrap();
    assert_eq!(tokens.access, "a1");
    assert_eq!(tokens.refresh.as_deref(), Some("r1"));
    assert_eq!(tokens.expires_in, Some(7200));
    let body = host.last_request().unwrap().body_text();
    assert!(body.contains("grant_type=authorization_code"));
    assert!(body.contains("code_verifier=verifier-1"));

    host.credential("refresh_token", "r1");
    Template::oauth_refresh(&oauth_channel()).unwrap();
    assert!(
        host.last_request()
            .unwrap()
            .body_text()
            .contains("grant_type=refresh_token")
    );

    // A refused grant means the account must connect again.
    host.on(
        "POST",
        &format!("{BASE}/oauth/token"),
        Response::json_body(400, &json!({"error": "invalid_grant"})),
    );
    assert!(matches!(
        Template::oauth_refresh(&oauth_channel()),
        Err(PluginError::Unauthorized(_))
    ));
}

#[test]
fn publish_uploads_attachments_and_passes_the_options() {
    let host = connected();
    host.media("m-1", b"\x89PNG fake bytes".to_vec());
    host.on(
        "POST",
        &format!("{BASE}/api/media"),
        Response::json_body(200, &json!({ "id": "remote-m1" })),
    );
    host.on(
        "POST",
        &format!("{BASE}/api/posts"),
        Response::json_body(201, &json!({ "id": "p2" })),
    );
    let post = Post::new("With a photo")
        .media(plaza_sdk::MediaRef::new("m-1", "image/png", 15))
        .options(r#"{"visibility": "unlisted"}"#)
        .idempotency_key("key-2");
    Template::publish(&channel(), post).unwrap();

    let requests = host.requests();
    assert_eq!(requests[0].url(), format!("{BASE}/api/media"));
    assert_eq!(requests[0].header_value("content-type"), Some("image/png"));
    assert_eq!(requests[0].body(), Some(&b"\x89PNG fake bytes"[..]));
    let body: Value = requests[1].body_json().unwrap();
    assert_eq!(body["media_ids"], json!(["remote-m1"]));
    assert_eq!(body["visibility"], "unlisted");

    let bad = Post::new("x").options(r#"{"visibility": 3}"#);
    assert!(matches!(
        Template::publish(&channel(), bad),
        Err(PluginError::Invalid(_))
    ));
}
