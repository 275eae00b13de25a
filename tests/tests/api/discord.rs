//! The Discord plugin against a local fake of Discord's HTTP API
//! (`plaza_tests::discord`): a scheduled post with an embed, a photo and
//! follow-ups becomes a message and a thread; a 429 is retried by the
//! publisher; a send that broke after Discord made the message is not
//! duplicated (nonce); others' messages come back as mentions and
//! comments; replies, deletion, timeouts and bans reach the guild; a
//! signed PING interaction is answered with a PONG.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use plaza_api::plugins::bindings::{Moderation, Page, Post, WebhookRequest};
use plaza_api::plugins::error::{CallError, PluginFault};
use plaza_api::plugins::{CallContext, LoadedPlugin};
use plaza_api::worker::run_due;
use plaza_tests::discord::{BOT_ID, CHANNEL_ID, Failure, FakeDiscord, READER_ID, TOKEN};
use plaza_tests::{Session, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The fake, and Plaza with a `discord` channel connected to it.
struct Setup {
    discord: FakeDiscord,
    app: TestApp,
    owner: Session,
    ws: String,
    channel: String,
}

async fn setup() -> Setup {
    let discord = FakeDiscord::start();
    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels"),
                &owner.access,
                &json!({
                    "plugin_id": "discord",
                    "config": discord.config(),
                    "credentials": {"bot_token": TOKEN},
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    Setup {
        discord,
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
            .get("discord")
            .expect("discord plugin loaded")
    }

    fn context(&self) -> CallContext {
        plaza_api::plugins::channels::context(
            &self.channel,
            self.discord.config(),
            HashMap::from([("bot_token".to_owned(), TOKEN.to_owned())]),
        )
    }

    /// Creates, submits and schedules a post; answers its id and when it is due.
    async fn schedule(&self, body: Value) -> (String, chrono::NaiveDateTime) {
        let posts = format!("/v1/workspaces/{}/posts", self.ws);
        let post = self
            .app
            .call(
                self.app.post(&posts, &self.owner.access, &body),
                StatusCode::CREATED,
            )
            .await;
        let post = post["id"].as_str().unwrap().to_owned();
        self.app
            .call(
                self.app.post(
                    &format!("{posts}/{post}/submit"),
                    &self.owner.access,
                    &json!({}),
                ),
                StatusCode::OK,
            )
            .await;
        let at = Utc::now() + Duration::minutes(5);
        self.app
            .call(
                self.app.post(
                    &format!("{posts}/{post}/schedule"),
                    &self.owner.access,
                    &json!({"scheduled_at": at.to_rfc3339()}),
                ),
                StatusCode::OK,
            )
            .await;
        (post, (at + Duration::minutes(1)).naive_utc())
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

    async fn publish(&self, text: &str, reply_to: Option<&str>, key: &str) -> String {
        self.app
            .state
            .plugins
            .publish(
                &self.plugin(),
                self.context(),
                Post {
                    text: text.into(),
                    media: vec![],
                    reply_to: reply_to.map(str::to_owned),
                    options: "{}".into(),
                    idempotency_key: key.into(),
                },
            )
            .await
            .expect("publish succeeds")
            .remote_id
    }

    async fn mentions(&self, cursor: Option<String>) -> Page {
        self.app
            .state
            .plugins
            .fetch_mentions(&self.plugin(), self.context(), cursor, 50)
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
}

fn texts(page: &Page) -> Vec<&str> {
    page.items.iter().map(|i| i.text.as_str()).collect()
}

#[actix_web::test]
async fn a_scheduled_post_with_an_embed_a_photo_and_follow_ups_becomes_a_message_and_a_thread() {
    let s = setup().await;
    let photo = s.app.upload_png(&s.owner.access, &s.ws, 3).await;
    let (post, due) = s
        .schedule(json!({
            "body": "Spring roast is in",
            "media_ids": [photo["id"]],
            "variants": [{
                "channel_id": s.channel,
                "options": {
                    "embeds": [{"title": "Menu", "url": "https://acme.example/menu", "color": 11_141_120}],
                    "thread_name": "Tasting notes"
                },
                "follow_ups": [{"text": "Notes: cherry"}, {"text": "Notes: cocoa"}]
            }]
        }))
        .await;
    assert_eq!(run_due(&s.app.state, "w1", due).await.unwrap(), 1);

    let sent = s.discord.messages_in(CHANNEL_ID);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let root = &sent[0];
    let root_id = root["id"].as_str().unwrap().to_owned();
    assert_eq!(root["author"]["id"], BOT_ID);
    assert_eq!(root["content"], "Spring roast is in");
    assert_eq!(root["embeds"][0]["title"], "Menu");
    assert_eq!(root["embeds"][0]["color"], 11_141_120);
    assert_eq!(root["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(root["attachments"][0]["filename"], "attachment-1.png");
    let nonce = root["nonce"].as_str().unwrap();
    assert!(nonce.len() <= 25, "{nonce}");
    let upload = &s
        .discord
        .requests_to("POST", &format!("/channels/{CHANNEL_ID}/messages"))[0];
    assert_eq!(upload.json["enforce_nonce"], true);
    assert_eq!(upload.files[0].0, "files[0]");
    assert!(
        upload.files[0].2.starts_with(b"\x89PNG"),
        "the photo's bytes"
    );

    // The follow-ups went into a thread started from the message.
    let thread = s.discord.state.lock().unwrap().channels[&root_id].clone();
    assert_eq!(thread["type"], 11);
    assert_eq!(thread["name"], "Tasting notes");
    assert_eq!(thread["parent_id"], CHANNEL_ID);
    let parts: Vec<Value> = s
        .discord
        .messages_in(&root_id)
        .into_iter()
        .filter(|m| m["type"] == 0)
        .collect();
    let part_texts: Vec<&str> = parts
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(part_texts, ["Notes: cherry", "Notes: cocoa"]);

    let view = s.view(&post).await;
    let target = &view["targets"][0];
    assert_eq!(target["status"], "published", "{view}");
    assert_eq!(
        target["remote_url"],
        format!(
            "https://discord.com/channels/{}/{CHANNEL_ID}/{root_id}",
            plaza_tests::discord::GUILD_ID
        )
    );
    assert_eq!(
        target["follow_up_ids"],
        json!([
            format!("{root_id}/{}", parts[0]["id"].as_str().unwrap()),
            format!("{root_id}/{}", parts[1]["id"].as_str().unwrap())
        ])
    );

    // Sending the first part again with its key: Discord answers the
    // earlier message for the repeated nonce, the channel gains nothing.
    let key = format!("plaza-{post}-{}", s.channel);
    let again = s.publish("Spring roast is in", None, &key).await;
    assert_eq!(again, root_id);
    assert_eq!(s.discord.messages_in(CHANNEL_ID).len(), 1);

    // After a crash the key is found: from the kv store, and (for a channel
    // whose kv store never saw the send) from the channel's messages.
    for channel_id in [s.channel.clone(), "never-seen".to_owned()] {
        let mut context = s.context();
        context.channel_id = Some(channel_id.clone());
        let found = s
            .app
            .state
            .plugins
            .find_published(&s.plugin(), context, key.clone())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{channel_id}: not found"));
        assert_eq!(found.remote_id, root_id, "{channel_id}");
    }
    let mut context = s.context();
    context.channel_id = Some("never-seen".to_owned());
    let missing = s
        .app
        .state
        .plugins
        .find_published(&s.plugin(), context, "plaza-no-such-key".into())
        .await
        .unwrap();
    assert!(missing.is_none());

    // Deleting the post deletes the message.
    s.app
        .state
        .plugins
        .delete_post(&s.plugin(), s.context(), root_id.clone())
        .await
        .unwrap();
    assert!(s.discord.messages_in(CHANNEL_ID).is_empty());
    assert_eq!(s.discord.state.lock().unwrap().deleted, [root_id]);
}

#[actix_web::test]
async fn a_rate_limited_send_is_retried_by_the_publisher_with_the_same_nonce() {
    let s = setup().await;
    let (post, due) = s
        .schedule(json!({"body": "Hello Discord", "variants": [{"channel_id": s.channel}]}))
        .await;
    let path = format!("/channels/{CHANNEL_ID}/messages");
    s.discord.fail_next(
        "POST",
        &path,
        Failure::RateLimited {
            retry_after: 1.5,
            global: false,
        },
    );
    assert_eq!(run_due(&s.app.state, "w1", due).await.unwrap(), 1);
    assert!(s.discord.messages_in(CHANNEL_ID).is_empty());
    let view = s.view(&post).await;
    let target = &view["targets"][0];
    assert_eq!(target["status"], "pending", "{view}");
    assert!(
        target["error"]
            .as_str()
            .unwrap()
            .contains("retry after 2 s"),
        "{target}"
    );

    // The publisher retries once the wait is over.
    assert!(
        run_due(&s.app.state, "w1", due + Duration::hours(1))
            .await
            .unwrap()
            >= 1
    );
    let view = s.view(&post).await;
    assert_eq!(view["targets"][0]["status"], "published", "{view}");
    let sent = s.discord.messages_in(CHANNEL_ID);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["content"], "Hello Discord");
    let attempts = s.discord.requests_to("POST", &path);
    assert_eq!(attempts.len(), 2, "the 429 and the retry");
    assert_eq!(attempts[0].json["nonce"], attempts[1].json["nonce"]);
}

#[actix_web::test]
async fn a_send_that_broke_after_discord_made_the_message_is_not_duplicated() {
    let s = setup().await;
    let (post, due) = s
        .schedule(json!({"body": "Only once", "variants": [{"channel_id": s.channel}]}))
        .await;
    let path = format!("/channels/{CHANNEL_ID}/messages");
    s.discord
        .fail_next("POST", &path, Failure::AfterCommit(502));
    assert_eq!(run_due(&s.app.state, "w1", due).await.unwrap(), 1);
    assert_eq!(s.discord.messages_in(CHANNEL_ID).len(), 1, "made, then 502");
    let view = s.view(&post).await;
    assert_ne!(view["targets"][0]["status"], "published", "{view}");

    run_due(&s.app.state, "w1", due + Duration::hours(1))
        .await
        .unwrap();
    let view = s.view(&post).await;
    assert_eq!(view["targets"][0]["status"], "published", "{view}");
    let sent = s.discord.messages_in(CHANNEL_ID);
    assert_eq!(sent.len(), 1, "the nonce kept it to one message: {sent:#?}");
    assert!(
        view["targets"][0]["remote_url"]
            .as_str()
            .unwrap()
            .ends_with(sent[0]["id"].as_str().unwrap())
    );
}

#[actix_web::test]
async fn others_messages_come_back_as_mentions_and_comments_and_moderation_reaches_the_guild() {
    let s = setup().await;
    let root = s.publish("Spring roast is in", None, "plaza-root").await;
    let follow_up = s
        .publish("Notes: cherry", Some(&root), "plaza-root-0")
        .await;
    assert_eq!(follow_up.split_once('/').unwrap().0, root, "in the thread");

    let hello = s.discord.say(
        READER_ID,
        CHANNEL_ID,
        &format!("<@{BOT_ID}> hello plaza"),
        None,
    );
    s.discord
        .say(READER_ID, CHANNEL_ID, "no mention here", None);
    let reply = s.discord.say(READER_ID, CHANNEL_ID, "love it", Some(&root));
    let in_thread = s.discord.say(READER_ID, &root, "cherry, really?", None);

    let page = s.mentions(None).await;
    assert_eq!(texts(&page), [format!("<@{BOT_ID}> hello plaza").as_str()]);
    let item = &page.items[0];
    assert_eq!(item.remote_id, hello);
    assert_eq!(item.author.remote_id, READER_ID);
    assert_eq!(item.author.handle, "rita");
    assert_eq!(item.author.display_name.as_deref(), Some("Rita Reader"));
    assert!(
        DateTime::parse_from_rfc3339(&item.created_at).is_ok(),
        "{}",
        item.created_at
    );
    let cursor = page.next_cursor.clone().expect("a cursor");

    // From the cursor: nothing new, then exactly what came after it.
    let again = s.mentions(Some(cursor.clone())).await;
    assert!(again.items.is_empty(), "{again:?}");
    let cursor = again.next_cursor.expect("the cursor is kept");
    s.discord.say(
        READER_ID,
        CHANNEL_ID,
        &format!("<@{BOT_ID}> second thought"),
        None,
    );
    let newer = s.mentions(Some(cursor)).await;
    assert_eq!(
        texts(&newer),
        [format!("<@{BOT_ID}> second thought").as_str()]
    );

    // Comments: the reply to the post and the thread's message, not ours.
    let comments = s
        .app
        .state
        .plugins
        .fetch_comments(&s.plugin(), s.context(), root.clone(), None, 50)
        .await
        .unwrap();
    let ids: Vec<&str> = comments
        .items
        .iter()
        .map(|i| i.remote_id.as_str())
        .collect();
    assert_eq!(ids, [format!("{root}/{in_thread}"), reply.clone()]);
    assert_eq!(comments.items[0].thread_id.as_deref(), Some(root.as_str()));

    // Replying to the thread's message answers it there.
    let answer = s
        .app
        .state
        .plugins
        .reply(
            &s.plugin(),
            s.context(),
            format!("{root}/{in_thread}"),
            Post {
                text: "Yes, and a little cocoa".into(),
                media: vec![],
                reply_to: None,
                options: "{}".into(),
                idempotency_key: "plaza-reply-1".into(),
            },
        )
        .await
        .unwrap();
    let (thread, answer_id) = answer.remote_id.split_once('/').unwrap();
    assert_eq!(thread, root);
    let answered = s
        .discord
        .messages_in(&root)
        .into_iter()
        .find(|m| m["id"] == answer_id)
        .unwrap();
    assert_eq!(answered["type"], 19);
    assert_eq!(
        answered["message_reference"]["message_id"],
        in_thread.as_str()
    );

    // Moderation: delete the mention, time the reader out, then ban them.
    s.moderate(&hello, Moderation::Delete).await.unwrap();
    assert!(s.discord.state.lock().unwrap().deleted.contains(&hello));
    s.moderate(&reply, Moderation::MuteAuthor).await.unwrap();
    let until = s.discord.state.lock().unwrap().members[READER_ID]["communication_disabled_until"]
        .as_str()
        .unwrap()
        .to_owned();
    let until = DateTime::parse_from_rfc3339(&until)
        .unwrap()
        .with_timezone(&Utc);
    assert!(
        until > Utc::now() + Duration::minutes(50) && until < Utc::now() + Duration::minutes(70)
    );

    s.discord.state.lock().unwrap().can_ban = false;
    match s.moderate(&reply, Moderation::BlockAuthor).await {
        Err(CallError::Plugin(PluginFault::Invalid(reason))) => {
            assert!(reason.contains("Missing Permissions"), "{reason}");
        }
        other => panic!("a bot without Ban Members is refused, got {other:?}"),
    }
    s.discord.state.lock().unwrap().can_ban = true;
    s.moderate(&reply, Moderation::BlockAuthor).await.unwrap();
    assert!(s.discord.state.lock().unwrap().bans.contains_key(READER_ID));

    // A message gone is NotFound; a reset token is Unauthorized.
    assert!(matches!(
        s.moderate(&hello, Moderation::Delete).await,
        Err(CallError::Plugin(PluginFault::NotFound))
    ));
    s.discord.state.lock().unwrap().token = "reset".into();
    match s.moderate(&reply, Moderation::Delete).await {
        Err(CallError::Plugin(PluginFault::Unauthorized(reason))) => {
            assert!(reason.contains("401"), "{reason}");
        }
        other => panic!("a reset token is unauthorized, got {other:?}"),
    }
}

fn interaction(s: &Setup, body: &Value) -> WebhookRequest {
    let body = body.to_string().into_bytes();
    WebhookRequest {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: s.discord.signed_interaction(&body),
        body,
    }
}

#[actix_web::test]
async fn a_signed_ping_interaction_is_answered_with_a_pong_and_a_forgery_is_refused() {
    let s = setup().await;
    let before = s.discord.state.lock().unwrap().requests.len();
    let ping = json!({"id": "1176548911040565300", "application_id": "1176548911040565301", "type": 1, "token": "t", "version": 1});
    let request = interaction(&s, &ping);
    s.app
        .state
        .plugins
        .verify_webhook(&s.plugin(), s.context(), request.clone())
        .await
        .unwrap();
    let outcome = s
        .app
        .state
        .plugins
        .parse_webhook(&s.plugin(), s.context(), request.clone())
        .await
        .unwrap();
    assert!(outcome.items.is_empty());
    let pong = outcome.reply.expect("a PING wants a PONG");
    assert_eq!(pong.status, 200);
    assert_eq!(
        serde_json::from_slice::<Value>(&pong.body).unwrap(),
        json!({"type": 1})
    );

    // A slash command becomes an inbox item with a private acknowledgement.
    let command = json!({
        "id": "1176548911040565302", "type": 2, "guild_id": plaza_tests::discord::GUILD_ID, "channel_id": CHANNEL_ID,
        "member": {"user": {"id": READER_ID, "username": "rita", "global_name": "Rita Reader"}, "roles": []},
        "data": {"id": "9", "name": "support", "options": [{"name": "topic", "type": 3, "value": "refund"}]},
        "token": "t", "version": 1
    });
    let outcome = s
        .app
        .state
        .plugins
        .parse_webhook(&s.plugin(), s.context(), interaction(&s, &command))
        .await
        .unwrap();
    assert_eq!(outcome.items.len(), 1);
    assert_eq!(outcome.items[0].text, "/support topic=refund");
    assert_eq!(outcome.items[0].author.remote_id, READER_ID);
    let ack: Value = serde_json::from_slice(&outcome.reply.unwrap().body).unwrap();
    assert_eq!(ack["type"], 4);

    // The body changed after signing: refused, as Discord's checks expect (401).
    let mut forged = request;
    forged.body = br#"{"id":"1","type":2}"#.to_vec();
    for result in [
        s.app
            .state
            .plugins
            .verify_webhook(&s.plugin(), s.context(), forged.clone())
            .await,
        s.app
            .state
            .plugins
            .parse_webhook(&s.plugin(), s.context(), forged)
            .await
            .map(drop),
    ] {
        assert!(
            matches!(result, Err(CallError::Plugin(PluginFault::Unauthorized(_)))),
            "{result:?}"
        );
    }
    // Verifying and reading interactions never calls Discord.
    assert_eq!(s.discord.state.lock().unwrap().requests.len(), before);
}

#[actix_web::test]
async fn the_fake_answers_as_discord_does_and_a_used_up_bucket_is_rate_limited() {
    let s = setup().await;
    let client = reqwest::Client::new();
    let messages = format!("{}/channels/{CHANNEL_ID}/messages", s.discord.api_url());

    // No bot token, or a bearer token: Discord's 401 body.
    for auth in [None, Some(format!("Bearer {TOKEN}"))] {
        let mut request = client.get(&messages);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"message": "401: Unauthorized", "code": 0}));
    }

    // Every answer carries the bucket's headers; errors carry their codes.
    let bot = format!("Bot {TOKEN}");
    let response = client
        .get(format!("{}/channels/1/messages", s.discord.api_url()))
        .header("Authorization", &bot)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    for header in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-reset-after",
        "x-ratelimit-bucket",
    ] {
        assert!(response.headers().contains_key(header), "{header}");
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 10003);
    let response = client
        .post(&messages)
        .header("Authorization", &bot)
        .json(&json!({"content": "x".repeat(2001)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 50035);
    assert_eq!(
        body["errors"]["content"]["_errors"][0]["code"],
        "BASE_TYPE_MAX_LENGTH"
    );

    // One request per window: the plugin's first read uses the buckets
    // up, the next one earns Discord's 429, which Plaza sees with its wait.
    {
        let mut state = s.discord.state.lock().unwrap();
        state.bucket_limit = 1;
        state.buckets.clear();
    }
    s.mentions(None).await;
    let limited = s
        .app
        .state
        .plugins
        .fetch_mentions(&s.plugin(), s.context(), None, 50)
        .await;
    match limited {
        Err(CallError::Plugin(PluginFault::RateLimited(Some(secs)))) => {
            assert!((1..=5).contains(&secs), "{secs}");
        }
        other => panic!("a used-up bucket is rate limited, got {other:?}"),
    }
    let response = client
        .get(&messages)
        .header("Authorization", &bot)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(response.headers()["x-ratelimit-scope"], "user");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["global"], false);
    assert!(body["retry_after"].as_f64().unwrap() > 0.0);
}
