//! The Mastodon plugin against a Mastodon API server (PyPI `mastodon-mock`):
//! a scheduled post with media, a content warning and follow-ups becomes a
//! thread of statuses; mentions, replies, counts and moderation go through
//! the plugin to the server; a lost answer is found again by its key; and a
//! channel connects through OAuth2 with a client the plugin registers.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use plaza_api::plugins::bindings::{Moderation, Page, Post};
use plaza_api::plugins::error::{CallError, PluginFault};
use plaza_api::plugins::{CallContext, LoadedPlugin};
use plaza_api::worker::run_due;
use plaza_tests::mastodon::{ADMIN_TOKEN, MastodonMock, MastodonUser};
use plaza_tests::media::MultipartForm;
use plaza_tests::{Session, TestApp, expect_json};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A server, the brand's account and a reader on it, and Plaza with the
/// brand's account connected as a `mastodon` channel.
struct Setup {
    mock: MastodonMock,
    app: TestApp,
    owner: Session,
    ws: String,
    channel: String,
    bot: MastodonUser,
    reader: MastodonUser,
}

async fn setup() -> Setup {
    let mock = MastodonMock::start().await;
    let bot = mock.user("plaza", "Plaza Coffee").await;
    let reader = mock.user("rita", "Rita Reader").await;

    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels"),
                &owner.access,
                &json!({
                    "plugin_id": "mastodon",
                    "config": {"instance": mock.url},
                    "credentials": {"access_token": bot.token},
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    Setup {
        mock,
        app,
        owner,
        ws,
        channel,
        bot,
        reader,
    }
}

impl Setup {
    fn plugin(&self) -> std::sync::Arc<LoadedPlugin> {
        self.app
            .state
            .plugins
            .get("mastodon")
            .expect("mastodon plugin loaded")
    }

    fn context(&self) -> CallContext {
        plaza_api::plugins::channels::context(
            &self.channel,
            json!({"instance": self.mock.url}),
            HashMap::from([("access_token".to_owned(), self.bot.token.clone())]),
        )
    }

    fn post(text: &str, key: &str) -> Post {
        Post {
            text: text.into(),
            media: vec![],
            reply_to: None,
            options: "{}".into(),
            idempotency_key: key.into(),
        }
    }

    async fn mentions(&self, cursor: Option<String>) -> Page {
        self.app
            .state
            .plugins
            .fetch_mentions(&self.plugin(), self.context(), cursor, 40)
            .await
            .expect("fetch-mentions succeeds")
    }

    async fn moderate(&self, remote_id: &str, action: Moderation) -> Result<(), CallError> {
        self.app
            .state
            .plugins
            .moderate(&self.plugin(), self.context(), remote_id.to_owned(), action)
            .await
    }

    async fn status(&self, id: &str) -> (StatusCode, Value) {
        self.mock
            .try_call(
                Method::GET,
                &format!("/api/v1/statuses/{id}"),
                &self.bot.token,
                None,
            )
            .await
    }
}

#[actix_web::test]
async fn a_scheduled_post_with_media_and_follow_ups_becomes_a_thread_of_statuses() {
    let s = setup().await;
    let form =
        MultipartForm::with_file("latte.png", "image/png", &plaza_tests::media::png(4, 4, 1))
            .text("alt_text", "A latte with a heart in the foam");
    let media = expect_json(
        s.app.upload(&s.owner.access, &s.ws, form).await,
        StatusCode::CREATED,
    )
    .await;
    let posts = format!("/v1/workspaces/{}/posts", s.ws);
    let post = s
        .app
        .call(
            s.app.post(
                &posts,
                &s.owner.access,
                &json!({
                    "body": "Spring roast is in\n\nhttps://example.com/roasts/spring",
                    "media_ids": [media["id"]],
                    "variants": [{
                        "channel_id": s.channel,
                        "options": {"visibility": "unlisted", "content_warning": "coffee talk", "language": "en"},
                        "follow_ups": [{"text": "Notes: cherry"}, {"text": "Notes: cocoa"}]
                    }]
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    let post = post["id"].as_str().unwrap().to_owned();
    s.app
        .call(
            s.app.post(
                &format!("{posts}/{post}/submit"),
                &s.owner.access,
                &json!({}),
            ),
            StatusCode::OK,
        )
        .await;
    let at = Utc::now() + Duration::minutes(5);
    s.app
        .call(
            s.app.post(
                &format!("{posts}/{post}/schedule"),
                &s.owner.access,
                &json!({"scheduled_at": at.to_rfc3339()}),
            ),
            StatusCode::OK,
        )
        .await;
    let later = (at + Duration::minutes(1)).naive_utc();
    assert_eq!(run_due(&s.app.state, "w1", later).await.unwrap(), 1);

    // What the server holds, oldest first.
    let mut sent = s.mock.statuses_of(&s.bot).await;
    sent.reverse();
    assert_eq!(sent.len(), 3, "the post and two follow-ups: {sent:#?}");
    let root = &sent[0];
    assert!(
        root["content"]
            .as_str()
            .unwrap()
            .contains("https://example.com/roasts/spring"),
        "{root}"
    );
    assert_eq!(root["spoiler_text"], "coffee talk");
    assert_eq!(root["visibility"], "unlisted");
    assert_eq!(root["language"], "en");
    assert!(root["in_reply_to_id"].is_null());
    let attachments = root["media_attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "{root}");
    assert_eq!(attachments[0]["type"], "image");
    assert_eq!(
        attachments[0]["description"],
        "A latte with a heart in the foam"
    );
    assert_eq!(sent[1]["content"], "<p>Notes: cherry</p>");
    assert_eq!(sent[1]["in_reply_to_id"], root["id"], "a thread answers");
    assert_eq!(
        sent[2]["in_reply_to_id"], sent[1]["id"],
        "each part answers the one before it"
    );

    // Plaza recorded the statuses.
    let view = s
        .app
        .call(
            s.app.get(&format!("{posts}/{post}"), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    let target = &view["targets"][0];
    assert_eq!(target["status"], "published", "{view}");
    assert_eq!(target["remote_id"], root["id"]);
    assert_eq!(target["remote_url"], root["url"]);
    assert_eq!(
        target["follow_up_ids"],
        json!([sent[1]["id"], sent[2]["id"]])
    );

    // The same key again answers the same status; the server gains nothing.
    let key = format!("plaza-{post}-{}", s.channel);
    let again = s
        .app
        .state
        .plugins
        .publish(
            &s.plugin(),
            s.context(),
            Setup::post("Spring roast is in", &key),
        )
        .await
        .unwrap();
    assert_eq!(again.remote_id, root["id"].as_str().unwrap());
    assert_eq!(s.mock.statuses_of(&s.bot).await.len(), 3, "no duplicate");
    let found = s
        .app
        .state
        .plugins
        .find_published(&s.plugin(), s.context(), key)
        .await
        .unwrap()
        .expect("the key is found");
    assert_eq!(found.remote_id, root["id"].as_str().unwrap());

    // Counts, as others favourite, boost and answer.
    let root_id = root["id"].as_str().unwrap();
    for action in ["favourite", "reblog"] {
        s.mock
            .call(
                Method::POST,
                &format!("/api/v1/statuses/{root_id}/{action}"),
                &s.reader.token,
                None,
            )
            .await;
    }
    let metrics = s
        .app
        .state
        .plugins
        .post_metrics(&s.plugin(), s.context(), vec![root_id.to_owned()])
        .await
        .unwrap();
    let value = |name: &str| metrics.iter().find(|m| m.name == name).map(|m| m.value);
    assert_eq!(value("likes"), Some(1.0), "{metrics:?}");
    assert_eq!(value("reposts"), Some(1.0));
    assert_eq!(value("replies"), Some(1.0), "the follow-up answers it");

    // Deleting the post deletes the status.
    s.app
        .state
        .plugins
        .delete_post(
            &s.plugin(),
            s.context(),
            sent[2]["id"].as_str().unwrap().to_owned(),
        )
        .await
        .unwrap();
    assert_eq!(
        s.status(sent[2]["id"].as_str().unwrap()).await.0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_lost_answer_is_found_again_by_its_key_or_known_to_be_absent() {
    let s = setup().await;
    let publish = |key: &'static str| {
        let plugins = &s.app.state.plugins;
        let plugin = s.plugin();
        let context = s.context();
        async move {
            plugins
                .publish(&plugin, context, Setup::post("Fresh beans on Friday", key))
                .await
        }
    };
    let find = |key: &'static str| {
        let plugins = &s.app.state.plugins;
        let plugin = s.plugin();
        let context = s.context();
        async move { plugins.find_published(&plugin, context, key.into()).await }
    };

    // The server answers garbage and creates nothing: the outcome is unknown
    // to the plugin, and the lookup then knows it is not there.
    s.mock
        .fault(json!({
            "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
            "effect": {"type": "malformed"},
            "count": 1
        }))
        .await;
    match publish("plaza-lost").await {
        Err(CallError::Plugin(PluginFault::Transient(_))) => {}
        other => panic!("a malformed answer is transient, got {other:?}"),
    }
    assert!(find("plaza-lost").await.unwrap().is_none());

    // Had the server made it (the answer lost on the way), the lookup finds
    // it among the account's statuses.
    let made = s
        .mock
        .post_status(&s.bot, "Fresh beans on Friday", None)
        .await;
    let found = find("plaza-lost")
        .await
        .unwrap()
        .expect("found by its text");
    assert_eq!(found.remote_id, made["id"].as_str().unwrap());
    // A publish with that key now answers it instead of posting again.
    let again = publish("plaza-lost").await.unwrap();
    assert_eq!(again.remote_id, found.remote_id);
    assert_eq!(s.mock.statuses_of(&s.bot).await.len(), 1);

    // A key never sent was never sent.
    assert!(find("plaza-never").await.unwrap().is_none());
}

#[actix_web::test]
async fn mentions_comments_replies_and_moderation_reach_the_server() {
    let s = setup().await;
    let ours = s.mock.post_status(&s.bot, "Open mic tonight", None).await;
    let ours_id = ours["id"].as_str().unwrap().to_owned();
    let hello = s
        .mock
        .post_status(&s.reader, "@plaza hello & welcome", None)
        .await;

    let page = s.mentions(None).await;
    let texts: Vec<&str> = page.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts.len(), 1, "{page:?}");
    let item = &page.items[0];
    assert_eq!(item.remote_id, hello["id"].as_str().unwrap());
    assert_eq!(item.text, "@plaza hello & welcome");
    assert_eq!(item.author.remote_id, s.reader.id);
    assert_eq!(item.author.handle, "rita");
    assert_eq!(item.author.display_name.as_deref(), Some("Rita Reader"));
    let cursor = page.next_cursor.clone().expect("a cursor");

    // From the cursor: nothing new, then exactly what came after it.
    let again = s.mentions(Some(cursor.clone())).await;
    assert!(again.items.is_empty(), "{again:?}");
    assert_eq!(again.next_cursor.as_deref(), Some(cursor.as_str()));
    let second = s
        .mock
        .post_status(&s.reader, "@plaza second thought", None)
        .await;
    let newer = s.mentions(Some(cursor)).await;
    let ids: Vec<&str> = newer.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, [second["id"].as_str().unwrap()]);

    // Comments: the reader's reply under our status, not our own.
    let comment = s
        .mock
        .post_status(&s.reader, "Count me in", Some(&ours_id))
        .await;
    s.mock
        .post_status(&s.bot, "Doors at eight", Some(&ours_id))
        .await;
    let comments = s
        .app
        .state
        .plugins
        .fetch_comments(&s.plugin(), s.context(), ours_id.clone(), None, 20)
        .await
        .unwrap();
    let ids: Vec<&str> = comments
        .items
        .iter()
        .map(|i| i.remote_id.as_str())
        .collect();
    assert_eq!(ids, [comment["id"].as_str().unwrap()]);
    assert_eq!(comments.items[0].post_id.as_deref(), Some(ours_id.as_str()));

    // A reply mentions the reader and answers the comment.
    let reply = s
        .app
        .state
        .plugins
        .reply(
            &s.plugin(),
            s.context(),
            comment["id"].as_str().unwrap().to_owned(),
            Setup::post("See you there!", "plaza-reply-1"),
        )
        .await
        .unwrap();
    let (status, made) = s.status(&reply.remote_id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(made["in_reply_to_id"], comment["id"]);
    assert!(
        made["content"]
            .as_str()
            .unwrap()
            .contains("@rita See you there!"),
        "{made}"
    );

    // Followers.
    s.mock
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{}/follow", s.bot.id),
            &s.reader.token,
            None,
        )
        .await;
    let metrics = s
        .app
        .state
        .plugins
        .account_metrics(&s.plugin(), s.context())
        .await
        .unwrap();
    let followers = metrics.iter().find(|m| m.name == "followers").unwrap();
    assert_eq!(followers.value, 1.0);

    // Mute, report and block the reader through their status.
    let hello_id = hello["id"].as_str().unwrap();
    s.moderate(hello_id, Moderation::MuteAuthor).await.unwrap();
    assert_eq!(
        s.mock.relationship(&s.bot, &s.reader.id).await["muting"],
        true
    );
    s.moderate(hello_id, Moderation::Report).await.unwrap();
    let reports = s
        .mock
        .call(Method::GET, "/api/v1/admin/reports", ADMIN_TOKEN, None)
        .await;
    let report = reports
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["target_account"]["id"] == s.reader.id.as_str())
        .unwrap_or_else(|| panic!("the report reached the moderators: {reports}"));
    assert_eq!(report["statuses"][0]["id"], hello_id);
    s.moderate(hello_id, Moderation::BlockAuthor).await.unwrap();
    assert_eq!(
        s.mock.relationship(&s.bot, &s.reader.id).await["blocking"],
        true
    );
    // Mastodon has no hiding: the host refuses before the plugin is entered.
    assert!(s.moderate(hello_id, Moderation::Hide).await.is_err());
}

#[actix_web::test]
async fn rate_limits_and_revoked_tokens_come_back_as_such() {
    let s = setup().await;
    s.mock
        .fault(json!({
            "match": {"methods": ["GET"], "path": "/api/v1/notifications"},
            "effect": {"type": "ratelimit", "headers": {"Retry-After": "120"}},
            "count": 1
        }))
        .await;
    let limited = s
        .app
        .state
        .plugins
        .fetch_mentions(&s.plugin(), s.context(), None, 20)
        .await;
    match limited {
        Err(CallError::Plugin(PluginFault::RateLimited(Some(120)))) => {}
        other => panic!("a 429 is rate limited with its wait, got {other:?}"),
    }

    let revoked = s
        .mock
        .client
        .post(format!("{}/oauth/revoke", s.mock.url))
        .form(&[("token", s.bot.token.as_str())])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    match s
        .app
        .state
        .plugins
        .account_metrics(&s.plugin(), s.context())
        .await
    {
        Err(CallError::Plugin(PluginFault::Unauthorized(_))) => {}
        other => panic!("a revoked token is unauthorized, got {other:?}"),
    }
}

#[actix_web::test]
async fn a_channel_connects_through_oauth_with_a_client_registered_on_the_instance() {
    let mock = MastodonMock::start().await;
    mock.user("plaza", "Plaza Coffee").await;
    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let redirect = "https://app.example.com/oauth/return";

    let started = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels/oauth/start"),
                &owner.access,
                &json!({
                    "plugin_id": "mastodon",
                    "config": {"instance": mock.url},
                    "redirect_uri": redirect,
                }),
            ),
            StatusCode::OK,
        )
        .await;
    let consent = reqwest::Url::parse(started["authorization_url"].as_str().unwrap()).unwrap();
    assert_eq!(
        format!("{}://{}", consent.scheme(), consent.authority()),
        mock.url
    );
    assert_eq!(consent.path(), "/oauth/authorize");
    let param = |name: &str| {
        consent
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    assert_eq!(param("redirect_uri"), redirect);
    assert_eq!(param("code_challenge_method"), "S256");
    let state = started["state"].as_str().unwrap();
    assert_eq!(param("state"), state);

    let code = mock
        .consent("plaza", &param("client_id"), redirect, state)
        .await;
    let channel = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels/oauth/callback"),
                &owner.access,
                &json!({"state": state, "code": code}),
            ),
            StatusCode::CREATED,
        )
        .await;
    let host = mock.url.trim_start_matches("http://");
    assert_eq!(channel["plugin_id"], "mastodon");
    assert_eq!(
        channel["account"]["handle"],
        format!("plaza@{host}"),
        "{channel:#}"
    );
    assert_eq!(channel["account"]["display_name"], "Plaza Coffee");
    assert_eq!(channel["has_credentials"], true);
}
