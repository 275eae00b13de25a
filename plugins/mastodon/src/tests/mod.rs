//! The Mastodon plugin's logic, run natively against the SDK's test host.
//! Response bodies follow the examples of the Mastodon API documentation
//! (docs.joinmastodon.org, `methods/*` and `entities/*`), trimmed to the
//! fields that matter.

mod errors;
mod inbox;
mod oauth;
mod publishing;

use plaza_sdk::http::Response;
use plaza_sdk::testing::TestHost;
use plaza_sdk::{Capabilities, Channel, Plugin, PluginError};
use serde_json::{Value, json};

use super::Mastodon;

const INSTANCE: &str = "https://mastodon.example";
const TOKEN: &str = "tok3n";
const ME: &str = "14715";

fn channel() -> Channel {
    Channel::with_config("ch-1", &json!({ "instance": format!("{INSTANCE}/") }))
}

fn url(path: &str) -> String {
    format!("{INSTANCE}{path}")
}

/// A host with the channel's token and `verify_credentials` answering `ME`.
fn connected() -> TestHost {
    let host = TestHost::new();
    host.credential("access_token", TOKEN);
    host.on(
        "GET",
        &url("/api/v1/accounts/verify_credentials"),
        Response::json_body(200, &account(ME, "trwnh", "infinite love ⴳ")),
    );
    host
}

/// An `Account` entity, as in the documentation's examples.
fn account(id: &str, acct: &str, display_name: &str) -> Value {
    json!({
        "id": id,
        "username": acct.split('@').next().unwrap_or(acct),
        "acct": acct,
        "display_name": display_name,
        "locked": false,
        "bot": false,
        "created_at": "2016-03-16T14:34:26.392Z",
        "note": "<p>Hi</p>",
        "url": format!("{INSTANCE}/@{acct}"),
        "followers_count": 320472,
        "following_count": 453,
        "statuses_count": 61163,
        "emojis": [],
        "fields": []
    })
}

/// A `Status` entity shaped like the documentation's `GET /api/v1/statuses/:id` example.
fn status(id: &str, author: &Value, content: &str, in_reply_to: Option<&str>) -> Value {
    json!({
        "id": id,
        "created_at": "2023-11-14T22:13:25.580Z",
        "in_reply_to_id": in_reply_to,
        "in_reply_to_account_id": in_reply_to.map(|_| ME),
        "sensitive": false,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": format!("{INSTANCE}/users/x/statuses/{id}"),
        "url": format!("{INSTANCE}/@x/{id}"),
        "replies_count": 7,
        "reblogs_count": 98,
        "favourites_count": 112,
        "favourited": false,
        "reblogged": false,
        "muted": false,
        "bookmarked": false,
        "content": content,
        "reblog": null,
        "application": null,
        "account": author,
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": null,
        "poll": null
    })
}

fn own_status(id: &str, content: &str) -> Value {
    status(id, &account(ME, "trwnh", "infinite love ⴳ"), content, None)
}

#[test]
fn describe_declares_what_the_plugin_does() {
    let manifest = Mastodon::describe();
    assert_eq!(manifest.id, "mastodon");
    assert_eq!(manifest.allowed_hosts, ["{config.instance}"]);
    let expected = Capabilities::PUBLISH
        | Capabilities::PUBLISH_MEDIA
        | Capabilities::THREADS
        | Capabilities::DELETE_POST
        | Capabilities::MENTIONS
        | Capabilities::COMMENTS
        | Capabilities::REPLY
        | Capabilities::BLOCK_AUTHOR
        | Capabilities::POST_METRICS
        | Capabilities::ACCOUNT_METRICS
        | Capabilities::OAUTH2;
    assert_eq!(manifest.capabilities, expected);
    assert!(!manifest.capabilities.contains(Capabilities::HIDE));
    assert!(!manifest.capabilities.contains(Capabilities::DELETE_COMMENT));
    assert_eq!(manifest.limits.max_text_chars, 500);
    assert_eq!(manifest.limits.max_media, 4);
    assert!(
        manifest
            .limits
            .media_types
            .contains(&"image/png".to_owned())
    );
    let oauth2 = manifest.oauth2.unwrap();
    assert_eq!(oauth2.authorize_url, "{config.instance}/oauth/authorize");
    assert_eq!(oauth2.token_url, "{config.instance}/oauth/token");
    assert!(oauth2.scopes.contains(&"write:statuses".to_owned()));
    let schema: Value = serde_json::from_str(&manifest.config_schema).unwrap();
    assert_eq!(schema["required"], json!(["instance"]));
    let options: Value = serde_json::from_str(&manifest.post_options_schema).unwrap();
    assert_eq!(
        options["properties"]["visibility"]["enum"],
        json!(["public", "unlisted", "private", "direct"])
    );
}

#[test]
fn configs_need_an_instance_origin() {
    assert_eq!(
        Mastodon::validate_config(r#"{"instance": "http://127.0.0.1:4000"}"#),
        Ok(())
    );
    for bad in [
        r#"{"instance": "ftp://x"}"#,
        r#"{"instance": "https://x/sub/path"}"#,
        r"{}",
        r#"{"instance": "https://x", "room": 1}"#,
    ] {
        assert!(
            matches!(Mastodon::validate_config(bad), Err(PluginError::Invalid(_))),
            "{bad}"
        );
    }
}

#[test]
fn check_credentials_answers_the_account_with_its_full_handle() {
    let host = connected();
    let author = Mastodon::check_credentials(&channel()).unwrap();
    assert_eq!(author.remote_id, ME);
    assert_eq!(author.handle, "trwnh@mastodon.example");
    assert_eq!(author.display_name.as_deref(), Some("infinite love ⴳ"));
    assert_eq!(author.followers, Some(320_472));
    let sent = host.last_request().unwrap();
    assert_eq!(sent.method(), "GET");
    assert_eq!(sent.url(), url("/api/v1/accounts/verify_credentials"));
    assert_eq!(sent.header_value("authorization"), Some("Bearer tok3n"));
    // The account id is cached for the inbox calls.
    assert!(host.kv_keys().iter().any(|k| k.starts_with("account/")));
}

#[test]
fn a_missing_token_is_unauthorized() {
    let _host = TestHost::new();
    assert!(matches!(
        Mastodon::check_credentials(&channel()),
        Err(PluginError::Unauthorized(reason)) if reason.contains("access_token")
    ));
}

#[test]
fn account_metrics_are_the_profile_counts() {
    let _host = connected();
    let metrics = Mastodon::account_metrics(&channel()).unwrap();
    let value = |name: &str| metrics.iter().find(|m| m.name == name).map(|m| m.value);
    assert_eq!(value("followers"), Some(320_472.0));
    assert_eq!(value("following"), Some(453.0));
    assert_eq!(value("posts"), Some(61_163.0));
    assert!(metrics.iter().all(|m| m.post_id.is_none()));
}
