//! The webhook plugin's logic, run natively against the SDK's test host.

use plaza_sdk::http::Response;
use plaza_sdk::testing::TestHost;
use plaza_sdk::{Capabilities, Channel, MediaRef, Plugin, PluginError, Post};
use serde_json::{Value, json};

use super::Webhook;

const URL: &str = "https://hooks.example.com/services/T1/B2/s3cr3t";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn channel(format: &str) -> Channel {
    Channel::with_config("ch-1", &json!({ "url": URL, "format": format }))
}

fn post() -> Post {
    Post::new("Beans & <cups> are back")
        .idempotency_key("tgt_1")
        .options(r#"{"campaign": "spring"}"#)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[test]
fn describe_declares_publishing_to_the_configured_host() {
    let manifest = Webhook::describe();
    assert_eq!(manifest.id, "webhook");
    assert_eq!(manifest.allowed_hosts, ["{config.url}"]);
    assert_eq!(
        manifest.capabilities,
        Capabilities::PUBLISH | Capabilities::PUBLISH_MEDIA
    );
    assert_eq!(manifest.limits.max_text_chars, 4_000);
    let schema: Value = serde_json::from_str(&manifest.config_schema).unwrap();
    assert_eq!(schema["required"], json!(["url"]));
    assert_eq!(
        schema["properties"]["format"]["enum"],
        json!(["plaza", "slack", "teams"])
    );
}

#[test]
fn the_plaza_envelope_is_signed_per_standard_webhooks() {
    let host = TestHost::new();
    host.credential("secret", SECRET)
        .set_now_ms(now_secs() * 1000)
        .on("POST", URL, Response::new(204));
    let post = post().media(MediaRef::new("med_1", "image/png", 42).alt_text("A cup"));

    let published = Webhook::publish(&channel("plaza"), post).unwrap();

    assert_eq!(published.remote_id, "tgt_1", "no id in the answer: the key");
    let request = host.last_request().unwrap();
    assert_eq!(request.method(), "POST");
    assert_eq!(
        request.header_value("content-type"),
        Some("application/json")
    );
    assert_eq!(
        request.body_json::<Value>().unwrap(),
        json!({
            "type": "post.publish",
            "idempotency_key": "tgt_1",
            "channel_id": "ch-1",
            "text": "Beans & <cups> are back",
            "reply_to": null,
            "media": [{"id": "med_1", "mime": "image/png", "size": 42, "alt_text": "A cup"}],
            "options": {"campaign": "spring"}
        })
    );
    assert_eq!(request.header_value("webhook-id"), Some("tgt_1"));
    let mut headers = http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(name, request.header_value(name).unwrap().parse().unwrap());
    }
    standardwebhooks::Webhook::new(SECRET)
        .unwrap()
        .verify(request.body().unwrap(), &headers)
        .unwrap();
}

#[test]
fn without_a_secret_nothing_is_signed() {
    let host = TestHost::new();
    host.on("POST", URL, Response::text_body(200, "ok"));

    Webhook::publish(&channel("plaza"), post()).unwrap();

    let request = host.last_request().unwrap();
    assert_eq!(request.header_value("webhook-signature"), None);
    assert_eq!(request.header_value("webhook-id"), None);
}

#[test]
fn slack_gets_escaped_text() {
    let host = TestHost::new();
    host.on("POST", URL, Response::text_body(200, "ok"));

    let published = Webhook::publish(&channel("slack"), post()).unwrap();

    assert_eq!(published.remote_id, "tgt_1");
    assert_eq!(
        host.last_request().unwrap().body_json::<Value>().unwrap(),
        json!({"text": "Beans &amp; &lt;cups&gt; are back"})
    );
}

#[test]
fn teams_gets_an_adaptive_card() {
    let host = TestHost::new();
    host.on("POST", URL, Response::new(202));

    Webhook::publish(&channel("teams"), post()).unwrap();

    let body: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(
        attachment["content"]["body"][0],
        json!({"type": "TextBlock", "text": "Beans & <cups> are back", "wrap": true})
    );
}

#[test]
fn slack_and_teams_refuse_attachments_before_sending() {
    let host = TestHost::new();
    let post = post().media(MediaRef::new("med_1", "image/png", 42));
    for format in ["slack", "teams"] {
        let error = Webhook::publish(&channel(format), post.clone()).unwrap_err();
        assert!(matches!(error, PluginError::Invalid(ref r) if r.contains("attachments")));
    }
    assert!(host.requests().is_empty());
}

#[test]
fn the_remote_id_and_url_come_from_the_answer_when_it_has_them() {
    let host = TestHost::new();
    host.on(
        "POST",
        URL,
        Response::json_body(200, &json!({"id": 981, "url": "https://n8n.example/e/981"})),
    );

    let published = Webhook::publish(&channel("plaza"), post()).unwrap();

    assert_eq!(published.remote_id, "981");
    assert_eq!(published.url.as_deref(), Some("https://n8n.example/e/981"));
}

#[test]
fn answers_map_onto_the_contract() {
    let cases = [
        (
            Response::new(429).with_header("Retry-After", "30"),
            PluginError::RateLimited(Some(30)),
        ),
        (Response::new(429), PluginError::RateLimited(None)),
        (
            Response::text_body(410, "channel_is_archived"),
            PluginError::Invalid(
                "the webhook refused the post (HTTP 410): channel_is_archived".into(),
            ),
        ),
        (
            Response::text_body(400, "invalid_payload"),
            PluginError::Invalid("the webhook refused the post (HTTP 400): invalid_payload".into()),
        ),
        (
            Response::new(503),
            PluginError::Transient("the webhook failed (HTTP 503): no reason given".into()),
        ),
    ];
    for (response, expected) in cases {
        let host = TestHost::new();
        host.on("POST", URL, response);
        assert_eq!(Webhook::publish(&channel("slack"), post()), Err(expected));
    }
}

#[test]
fn check_credentials_names_the_host_and_checks_the_secret() {
    let host = TestHost::new();
    let author = Webhook::check_credentials(&channel("plaza")).unwrap();
    assert_eq!(author.handle, "hooks.example.com");
    assert!(author.remote_id.starts_with("hooks.example.com/"));
    assert!(!author.remote_id.contains("s3cr3t") && !author.handle.contains("s3cr3t"));
    let other = Channel::with_config("ch-2", &json!({ "url": format!("{URL}x") }));
    assert_ne!(
        Webhook::check_credentials(&other).unwrap().remote_id,
        author.remote_id,
        "two URLs on one host are two accounts"
    );

    host.credential("secret", "not-a-secret");
    assert!(matches!(
        Webhook::check_credentials(&channel("plaza")),
        Err(PluginError::Invalid(_))
    ));
    assert!(host.requests().is_empty(), "no request is made");
}
