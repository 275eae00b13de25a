//! The Telegram plugin's real `.wasm` inside Plaza, against a faithful local
//! fake of the Bot API (`plaza_tests::telegram`): a scheduled post becomes a
//! reply chain in the channel with its text escaped for HTML, a flood-wait
//! is retried after Telegram's wait, media go up as photos and albums, other
//! people's messages come back as direct messages, comments and mentions,
//! and replies, deletions, bans, mutes, member counts and webhook secrets
//! reach the fake as Telegram would see them.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use plaza_api::plugins::bindings::{Moderation, Page, Post, WebhookRequest};
use plaza_api::plugins::error::{CallError, PluginFault};
use plaza_api::plugins::{CallContext, LoadedPlugin};
use plaza_api::worker::run_due;
use plaza_tests::telegram::{BOT_ID, CHANNEL_ID, FakeTelegram, GROUP_ID, TgUser};
use plaza_tests::{Session, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "7000000001:AAtest-token_value";
const SECRET: &str = "wh-s3cret_token";

/// The fake Bot API, and Plaza with `@acme_news` connected as a `telegram`
/// channel.
struct Setup {
    telegram: FakeTelegram,
    app: TestApp,
    owner: Session,
    ws: String,
    channel: String,
}

async fn setup() -> Setup {
    let telegram = FakeTelegram::start(TOKEN);
    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels"),
                &owner.access,
                &json!({
                    "plugin_id": "telegram",
                    "config": {"chat_id": "@acme_news", "api_base_url": telegram.url},
                    "credentials": {"bot_token": TOKEN, "webhook_secret": SECRET},
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    // The account is the channel, with its members (the bot and three).
    assert_eq!(
        channel["account"]["id"],
        CHANNEL_ID.to_string(),
        "{channel}"
    );
    assert_eq!(channel["account"]["handle"], "@acme_news");
    assert_eq!(channel["account"]["display_name"], "Acme News");
    assert_eq!(channel["account"]["followers"], 4);
    let channel = channel["id"].as_str().unwrap().to_owned();
    Setup {
        telegram,
        app,
        owner,
        ws,
        channel,
    }
}

impl Setup {
    fn plugin(&self) -> std::sync::Arc<LoadedPlugin> {
        self.app
            .state
            .plugins
            .get("telegram")
            .expect("telegram plugin loaded")
    }

    fn context(&self) -> CallContext {
        plaza_api::plugins::channels::context(
            &self.channel,
            json!({"chat_id": "@acme_news", "api_base_url": self.telegram.url}),
            HashMap::from([
                ("bot_token".to_owned(), TOKEN.to_owned()),
                ("webhook_secret".to_owned(), SECRET.to_owned()),
            ]),
        )
    }

    /// Creates, submits and schedules a post; answers its id.
    async fn schedule(&self, body: &Value) -> String {
        let posts = format!("/v1/workspaces/{}/posts", self.ws);
        let post = self
            .app
            .call(
                self.app.post(&posts, &self.owner.access, body),
                StatusCode::CREATED,
            )
            .await;
        let post = post["id"].as_str().unwrap().to_owned();
        for (action, body) in [
            ("submit", json!({})),
            (
                "schedule",
                json!({"scheduled_at": (Utc::now() + Duration::minutes(5)).to_rfc3339()}),
            ),
        ] {
            self.app
                .call(
                    self.app.post(
                        &format!("{posts}/{post}/{action}"),
                        &self.owner.access,
                        &body,
                    ),
                    StatusCode::OK,
                )
                .await;
        }
        post
    }

    async fn view(&self, post: &str) -> Value {
        self.app
            .call(
                self.app.get(
                    &format!("/v1/workspaces/{}/posts/{post}", self.ws),
                    &self.owner.access,
                ),
                StatusCode::OK,
            )
            .await
    }

    async fn find_published(&self, key: &str) -> Result<Option<String>, CallError> {
        self.app
            .state
            .plugins
            .find_published(&self.plugin(), self.context(), key.to_owned())
            .await
            .map(|found| found.map(|p| p.remote_id))
    }

    async fn moderate(&self, remote_id: &str, action: Moderation) -> Result<(), CallError> {
        self.app
            .state
            .plugins
            .moderate(&self.plugin(), self.context(), remote_id.to_owned(), action)
            .await
    }
}

fn texts(page: &Page) -> Vec<&str> {
    page.items.iter().map(|i| i.text.as_str()).collect()
}

#[actix_web::test]
async fn a_scheduled_post_and_its_follow_ups_become_a_reply_chain_in_the_channel() {
    let s = setup().await;
    let post = s
        .schedule(&json!({
            "body": "Fish & chips <today> at 5 > 4",
            "variants": [{
                "channel_id": s.channel,
                "options": {"disable_notification": true, "disable_link_preview": true},
                "follow_ups": [{"text": "Notes: <b>cherry</b>"}, {"text": "Notes: cocoa"}]
            }]
        }))
        .await;
    let later = (Utc::now() + Duration::minutes(6)).naive_utc();
    assert_eq!(run_due(&s.app.state, "w1", later).await.unwrap(), 1);

    // The channel shows exactly what was typed: escaped, parsed back.
    let sent = s.telegram.chat_messages(CHANNEL_ID);
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert_eq!(sent[0]["text"], "Fish & chips <today> at 5 > 4");
    assert_eq!(sent[0]["sender_chat"]["id"], CHANNEL_ID);
    assert!(sent[0].get("reply_to_message").is_none());
    assert_eq!(sent[1]["text"], "Notes: <b>cherry</b>");
    assert_eq!(
        sent[1]["reply_to_message"]["message_id"], sent[0]["message_id"],
        "the first follow-up answers the post"
    );
    assert_eq!(
        sent[2]["reply_to_message"]["message_id"], sent[1]["message_id"],
        "the second answers the first"
    );
    let call = &s.telegram.calls_to("sendMessage")[0];
    assert_eq!(call.params["chat_id"], "@acme_news");
    assert_eq!(call.params["parse_mode"], "HTML");
    assert_eq!(call.params["disable_notification"], true);
    assert_eq!(call.params["link_preview_options"]["is_disabled"], true);

    let first = sent[0]["message_id"].as_i64().unwrap();
    let view = s.view(&post).await;
    let target = &view["targets"][0];
    assert_eq!(target["status"], "published", "{view}");
    assert_eq!(target["remote_id"], format!("{CHANNEL_ID}:{first}"));
    assert_eq!(
        target["remote_url"],
        format!("https://t.me/acme_news/{first}")
    );
    assert_eq!(
        target["follow_up_ids"],
        json!([
            format!("{CHANNEL_ID}:{}", sent[1]["message_id"]),
            format!("{CHANNEL_ID}:{}", sent[2]["message_id"])
        ])
    );

    // After a crash Plaza asks by key: the kv record answers.
    let key = format!("plaza-{post}-{}", s.channel);
    assert_eq!(
        s.find_published(&key).await.unwrap(),
        Some(format!("{CHANNEL_ID}:{first}"))
    );
    assert_eq!(
        s.find_published(&format!("{key}-1"))
            .await
            .unwrap()
            .as_deref(),
        Some(&*format!("{CHANNEL_ID}:{}", sent[2]["message_id"]))
    );
    assert_eq!(s.find_published("plaza-never-sent").await.unwrap(), None);

    // Deleting the post removes it from the channel.
    s.app
        .state
        .plugins
        .delete_post(&s.plugin(), s.context(), format!("{CHANNEL_ID}:{first}"))
        .await
        .unwrap();
    assert_eq!(s.telegram.chat_messages(CHANNEL_ID).len(), 2);
    let again = s
        .app
        .state
        .plugins
        .delete_post(&s.plugin(), s.context(), format!("{CHANNEL_ID}:{first}"))
        .await;
    assert!(
        matches!(again, Err(CallError::Plugin(PluginFault::NotFound))),
        "Telegram's 'message to delete not found': {again:?}"
    );
}

#[actix_web::test]
async fn a_flood_wait_is_retried_after_the_seconds_telegram_asked_for() {
    let s = setup().await;
    let post = s
        .schedule(&json!({"body": "Spring roast", "variants": [{"channel_id": s.channel}]}))
        .await;
    s.telegram.flood_next("sendMessage", 30);
    let later = (Utc::now() + Duration::minutes(6)).naive_utc();
    assert_eq!(run_due(&s.app.state, "w1", later).await.unwrap(), 1);
    assert!(s.telegram.chat_messages(CHANNEL_ID).is_empty());
    let view = s.view(&post).await;
    let target = &view["targets"][0];
    assert_eq!(target["status"], "pending", "{view}");
    assert!(
        target["error"].as_str().unwrap().contains("rate limited"),
        "{target}"
    );

    // Not before Telegram's 30 seconds, then once.
    run_due(&s.app.state, "w1", later + Duration::seconds(10))
        .await
        .unwrap();
    assert!(s.telegram.chat_messages(CHANNEL_ID).is_empty());
    run_due(&s.app.state, "w1", later + Duration::seconds(45))
        .await
        .unwrap();
    let sent = s.telegram.chat_messages(CHANNEL_ID);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["text"], "Spring roast");
    assert_eq!(s.view(&post).await["targets"][0]["status"], "published");
    assert_eq!(s.telegram.calls_to("sendMessage").len(), 2);
}

#[actix_web::test]
async fn a_send_whose_answer_was_lost_is_never_sent_twice() {
    let s = setup().await;
    let post = s
        .schedule(&json!({"body": "Only once", "variants": [{"channel_id": s.channel}]}))
        .await;
    // Telegram makes the message, but its answer never arrives.
    s.telegram.lose_next_answer("sendMessage");
    let later = (Utc::now() + Duration::minutes(6)).naive_utc();
    run_due(&s.app.state, "w1", later).await.unwrap();
    assert_eq!(s.telegram.chat_messages(CHANNEL_ID).len(), 1);
    let view = s.view(&post).await;
    let target = &view["targets"][0];
    assert_eq!(target["status"], "failed", "{view}");
    assert!(
        target["error"]
            .as_str()
            .unwrap()
            .contains("may have been sent"),
        "{target}"
    );
    // Asked after a crash, the plugin does not claim nothing went out.
    let key = format!("plaza-{post}-{}", s.channel);
    match s.find_published(&key).await {
        Err(CallError::Plugin(PluginFault::Invalid(reason))) => {
            assert!(reason.contains("check the chat"), "{reason}");
        }
        other => panic!("an unknown outcome is not 'not sent': {other:?}"),
    }
    run_due(&s.app.state, "w1", later + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(s.telegram.chat_messages(CHANNEL_ID).len(), 1, "no resend");
}

#[actix_web::test]
async fn media_go_up_as_a_photo_and_as_an_album_with_the_caption_first() {
    let s = setup().await;
    let mut ids = Vec::new();
    for seed in 1..=3 {
        let media = s.app.upload_png(&s.owner.access, &s.ws, seed).await;
        ids.push(media["id"].as_str().unwrap().to_owned());
    }
    let single = s
        .schedule(&json!({
            "body": "Latte & art",
            "media_ids": [ids[0]],
            "variants": [{"channel_id": s.channel}]
        }))
        .await;
    let album = s
        .schedule(&json!({
            "body": "Three <cups>",
            "media_ids": ids,
            "variants": [{"channel_id": s.channel}]
        }))
        .await;
    let later = (Utc::now() + Duration::minutes(6)).naive_utc();
    run_due(&s.app.state, "w1", later).await.unwrap();

    let photo_call = &s.telegram.calls_to("sendPhoto")[0];
    assert_eq!(photo_call.files.len(), 1);
    assert_eq!(photo_call.files[0].field, "photo");
    assert_eq!(photo_call.files[0].content_type, "image/png");
    assert!(photo_call.files[0].bytes.starts_with(b"\x89PNG"));
    let album_call = &s.telegram.calls_to("sendMediaGroup")[0];
    assert_eq!(album_call.files.len(), 3);

    let sent = s.telegram.chat_messages(CHANNEL_ID);
    assert_eq!(sent.len(), 4, "a photo and an album of three: {sent:#?}");
    let photo = sent
        .iter()
        .find(|m| m["caption"] == "Latte & art")
        .expect("the photo");
    assert!(photo["photo"].is_array());
    let grouped: Vec<&Value> = sent
        .iter()
        .filter(|m| m.get("media_group_id").is_some())
        .collect();
    assert_eq!(grouped.len(), 3);
    assert_eq!(grouped[0]["caption"], "Three <cups>");
    assert!(
        grouped[1].get("caption").is_none(),
        "caption on the first only"
    );

    for post in [&single, &album] {
        assert_eq!(s.view(post).await["targets"][0]["status"], "published");
    }
    // Deleting the album deletes all three.
    let remote = s.view(&album).await["targets"][0]["remote_id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.app
        .state
        .plugins
        .delete_post(&s.plugin(), s.context(), remote)
        .await
        .unwrap();
    assert_eq!(s.telegram.chat_messages(CHANNEL_ID).len(), 1);
}

#[actix_web::test]
async fn others_messages_come_back_by_kind_and_moderation_reaches_the_chat() {
    let s = setup().await;
    let published = s
        .app
        .state
        .plugins
        .publish(
            &s.plugin(),
            s.context(),
            Post {
                text: "New blend".into(),
                media: vec![],
                reply_to: None,
                options: "{}".into(),
                idempotency_key: "direct-1".into(),
            },
        )
        .await
        .unwrap();
    let post_id = published.remote_id.clone();
    let post_message: i64 = post_id.rsplit(':').next().unwrap().parse().unwrap();

    let rita = TgUser::new(501, "Rita", "rita_reads");
    let sam = TgUser::new(502, "Sam", "sam_sips");
    let kim = TgUser::new(503, "Kim", "kim_knows");
    s.telegram.direct_message(&rita, "Do you ship abroad?");
    let comment = s.telegram.comment(&sam, post_message, "Love it");
    s.telegram
        .group_message(&kim, "@plaza_test_bot when is it back?", None);
    s.telegram.group_message(&kim, "just chatting", None);

    let plugins = &s.app.state.plugins;
    let dms = plugins
        .fetch_messages(&s.plugin(), s.context(), None, 50)
        .await
        .unwrap();
    assert_eq!(texts(&dms), ["Do you ship abroad?"]);
    assert_eq!(dms.items[0].author.handle, "@rita_reads");
    let comments = plugins
        .fetch_comments(&s.plugin(), s.context(), post_id.clone(), None, 50)
        .await
        .unwrap();
    assert_eq!(texts(&comments), ["Love it"]);
    assert_eq!(comments.items[0].post_id.as_deref(), Some(post_id.as_str()));
    assert_eq!(
        comments.items[0].remote_id,
        format!("{GROUP_ID}:{comment}:502")
    );
    let mentions = plugins
        .fetch_mentions(&s.plugin(), s.context(), None, 50)
        .await
        .unwrap();
    assert_eq!(texts(&mentions), ["@plaza_test_bot when is it back?"]);

    // Telegram forgot what the plugin confirmed; the cursors carry on.
    let cursor = mentions.next_cursor.clone().expect("a cursor");
    let again = plugins
        .fetch_mentions(&s.plugin(), s.context(), Some(cursor.clone()), 50)
        .await
        .unwrap();
    assert!(again.items.is_empty(), "{again:?}");
    assert!(
        s.telegram.state.lock().unwrap().updates.is_empty(),
        "every update was confirmed by the next getUpdates offset"
    );
    s.telegram
        .group_message(&kim, "@plaza_test_bot second thought", None);
    let newer = plugins
        .fetch_mentions(&s.plugin(), s.context(), again.next_cursor, 50)
        .await
        .unwrap();
    assert_eq!(texts(&newer), ["@plaza_test_bot second thought"]);

    // Replying to the direct message answers in the private chat.
    let reply = plugins
        .reply(
            &s.plugin(),
            s.context(),
            dms.items[0].remote_id.clone(),
            Post {
                text: "Yes, to the EU".into(),
                media: vec![],
                reply_to: None,
                options: "{}".into(),
                idempotency_key: "reply-1".into(),
            },
        )
        .await
        .unwrap();
    let private = s.telegram.chat_messages(rita.id);
    assert_eq!(private.len(), 2);
    assert_eq!(private[1]["text"], "Yes, to the EU");
    assert_eq!(private[1]["from"]["id"], BOT_ID);
    assert_eq!(
        private[1]["reply_to_message"]["text"],
        "Do you ship abroad?"
    );
    assert_eq!(
        reply.remote_id,
        format!("{}:{}", rita.id, private[1]["message_id"])
    );

    // Moderation: delete the comment, mute Kim, ban Sam.
    s.moderate(&comments.items[0].remote_id, Moderation::Delete)
        .await
        .unwrap();
    assert!(
        s.telegram
            .state
            .lock()
            .unwrap()
            .message(GROUP_ID, comment)
            .is_none()
    );
    s.moderate(&newer.items[0].remote_id, Moderation::MuteAuthor)
        .await
        .unwrap();
    s.moderate(&comments.items[0].remote_id, Moderation::BlockAuthor)
        .await
        .unwrap();
    {
        let state = s.telegram.state.lock().unwrap();
        let muted = &state.restricted[&(GROUP_ID, kim.id)];
        assert_eq!(muted["can_send_messages"], false, "{muted}");
        assert!(state.banned[&GROUP_ID].contains(&sam.id));
    }
    let hide = s
        .moderate(&comments.items[0].remote_id, Moderation::Hide)
        .await;
    assert!(matches!(hide, Err(CallError::Unsupported(_))), "{hide:?}");

    // Member counts.
    let metrics = plugins
        .account_metrics(&s.plugin(), s.context())
        .await
        .unwrap();
    let followers = metrics.iter().find(|m| m.name == "followers").unwrap();
    assert_eq!(followers.value, 4.0);

    // A revoked token is Unauthorized: the account must reconnect.
    s.telegram.revoke_token();
    let revoked = plugins.account_metrics(&s.plugin(), s.context()).await;
    assert!(
        matches!(
            revoked,
            Err(CallError::Plugin(PluginFault::Unauthorized(_)))
        ),
        "{revoked:?}"
    );
}

fn webhook_request(secret: Option<&str>, body: &Value) -> WebhookRequest {
    WebhookRequest {
        method: "POST".to_owned(),
        path: "/".to_owned(),
        query: String::new(),
        headers: secret
            .map(|s| vec![("X-Telegram-Bot-Api-Secret-Token".to_owned(), s.to_owned())])
            .unwrap_or_default(),
        body: body.to_string().into_bytes(),
    }
}

#[actix_web::test]
async fn a_webhook_excludes_get_updates_and_must_carry_the_secret_token() {
    let s = setup().await;
    let plugins = &s.app.state.plugins;
    s.telegram.state.lock().unwrap().webhook =
        Some(("https://plaza.example/hook".into(), Some(SECRET.into())));
    let rita = TgUser::new(501, "Rita", "rita_reads");
    s.telegram.direct_message(&rita, "Hello?");

    // getUpdates is refused (409) while the webhook is set; the plugin says why.
    match plugins
        .fetch_messages(&s.plugin(), s.context(), None, 10)
        .await
    {
        Err(CallError::Plugin(PluginFault::Invalid(reason))) => {
            assert!(reason.contains("webhook"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    // What Telegram would POST to the webhook: the update, with the secret.
    let update = s.telegram.state.lock().unwrap().updates[0].clone();
    plugins
        .verify_webhook(
            &s.plugin(),
            s.context(),
            webhook_request(Some(SECRET), &update),
        )
        .await
        .unwrap();
    for forged in [Some("wh-s3cret_tokem"), Some(""), None] {
        let refused = plugins
            .verify_webhook(&s.plugin(), s.context(), webhook_request(forged, &update))
            .await;
        assert!(
            matches!(
                refused,
                Err(CallError::Plugin(PluginFault::Unauthorized(_)))
            ),
            "{forged:?}: {refused:?}"
        );
    }
    let outcome = plugins
        .parse_webhook(
            &s.plugin(),
            s.context(),
            webhook_request(Some(SECRET), &update),
        )
        .await
        .unwrap();
    assert_eq!(outcome.items.len(), 1);
    assert_eq!(outcome.items[0].text, "Hello?");
    assert_eq!(outcome.items[0].author.remote_id, rita.id.to_string());

    // Without the webhook, the same update comes through getUpdates.
    s.telegram.state.lock().unwrap().webhook = None;
    let dms = plugins
        .fetch_messages(&s.plugin(), s.context(), None, 10)
        .await
        .unwrap();
    assert_eq!(texts(&dms), ["Hello?"]);
}

#[actix_web::test]
async fn connecting_names_what_telegram_refused() {
    let telegram = FakeTelegram::start(TOKEN);
    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let path = format!("/v1/workspaces/{ws}/channels");
    let connect = |chat: &str, token: &str| {
        json!({
            "plugin_id": "telegram",
            "config": {"chat_id": chat, "api_base_url": telegram.url},
            "credentials": {"bot_token": token},
        })
    };
    for (body, code) in [
        (connect("acme_news", TOKEN), "validation_failed"),
        (
            connect("@acme_news", "7000000001:wrong"),
            "credentials_rejected",
        ),
        (connect("@nobody_here", TOKEN), "platform_refused"),
    ] {
        let response = app.post(&path, &owner.access, &body).send().await.unwrap();
        let problem =
            plaza_tests::expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        if code == "platform_refused" {
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains("chat not found"),
                "{problem}"
            );
        }
    }
}
