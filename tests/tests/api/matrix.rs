//! The Matrix plugin against a real Synapse homeserver: a scheduled post
//! becomes a thread in the room, messages from others come back through the
//! plugin with their authors, and redaction, bans and member counts reach
//! the homeserver.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use plaza_api::plugins::bindings::{Moderation, Page, Post};
use plaza_api::plugins::error::{CallError, PluginFault};
use plaza_api::plugins::{CallContext, LoadedPlugin};
use plaza_api::worker::run_due;
use plaza_tests::synapse::{MatrixUser, Synapse};
use plaza_tests::{Session, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A homeserver, an owner who created a room, a reader in it, and Plaza
/// with the owner's room connected as a `matrix` channel.
struct Setup {
    synapse: Synapse,
    app: TestApp,
    owner: Session,
    ws: String,
    channel: String,
    bot: MatrixUser,
    reader: MatrixUser,
    room: String,
}

async fn setup() -> Setup {
    let synapse = Synapse::start().await;
    let bot = synapse.register("plaza").await;
    let reader = synapse.register("reader").await;
    let room = synapse.create_room(&bot, "Coffee club").await;
    synapse.join(&reader, &room).await;
    synapse.set_display_name(&reader, "Rita Reader").await;

    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels"),
                &owner.access,
                &json!({
                    "plugin_id": "matrix",
                    "config": {"homeserver": synapse.url, "room_id": room},
                    "credentials": {"access_token": bot.token},
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    Setup {
        synapse,
        app,
        owner,
        ws,
        channel,
        bot,
        reader,
        room,
    }
}

impl Setup {
    fn plugin(&self) -> std::sync::Arc<LoadedPlugin> {
        self.app
            .state
            .plugins
            .get("matrix")
            .expect("matrix plugin loaded")
    }

    fn context(&self) -> CallContext {
        plaza_api::plugins::channels::context(
            &self.channel,
            json!({"homeserver": self.synapse.url, "room_id": self.room}),
            HashMap::from([("access_token".to_owned(), self.bot.token.clone())]),
        )
    }

    /// `fetch-mentions` through the host, as the inbox will call it.
    async fn mentions(&self, cursor: Option<String>) -> Page {
        self.app
            .state
            .plugins
            .fetch_mentions(&self.plugin(), self.context(), cursor, 50)
            .await
            .expect("fetch-mentions succeeds")
    }

    /// `moderate` through the host.
    async fn moderate(&self, remote_id: &str, action: Moderation) -> Result<(), CallError> {
        self.app
            .state
            .plugins
            .moderate(&self.plugin(), self.context(), remote_id.to_owned(), action)
            .await
    }

    /// `delete-post` through the host.
    async fn delete_post(&self, remote_id: &str) -> Result<(), CallError> {
        self.app
            .state
            .plugins
            .delete_post(&self.plugin(), self.context(), remote_id.to_owned())
            .await
    }
}

#[actix_web::test]
async fn a_scheduled_post_and_its_follow_ups_become_a_thread_in_the_room() {
    let s = setup().await;
    let posts = format!("/v1/workspaces/{}/posts", s.ws);
    let post = s
        .app
        .call(
            s.app.post(
                &posts,
                &s.owner.access,
                &json!({
                    "body": "**Spring** roast is in",
                    "variants": [{
                        "channel_id": s.channel,
                        "follow_ups": [{"text": "Notes: cherry"}, {"text": "Notes: _cocoa_"}]
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

    // What the room holds, read by another member.
    let sent: Vec<Value> = s
        .synapse
        .messages(&s.reader, &s.room)
        .await
        .into_iter()
        .filter(|e| e["sender"] == s.bot.user_id.as_str())
        .collect();
    assert_eq!(sent.len(), 3, "the post and two follow-ups: {sent:#?}");
    let root = sent[0]["event_id"].as_str().unwrap();
    assert_eq!(sent[0]["content"]["msgtype"], "m.text");
    assert_eq!(sent[0]["content"]["body"], "**Spring** roast is in");
    assert_eq!(sent[0]["content"]["format"], "org.matrix.custom.html");
    assert_eq!(
        sent[0]["content"]["formatted_body"],
        "<strong>Spring</strong> roast is in"
    );
    assert!(sent[0]["content"].get("m.relates_to").is_none());

    assert_eq!(sent[1]["content"]["body"], "Notes: cherry");
    assert!(sent[1]["content"].get("formatted_body").is_none());
    let first = &sent[1]["content"]["m.relates_to"];
    assert_eq!(first["rel_type"], "m.thread");
    assert_eq!(first["event_id"], root);
    assert_eq!(first["m.in_reply_to"]["event_id"], root);
    assert_eq!(first["is_falling_back"], true);

    assert_eq!(
        sent[2]["content"]["formatted_body"],
        "Notes: <em>cocoa</em>"
    );
    let second = &sent[2]["content"]["m.relates_to"];
    assert_eq!(second["rel_type"], "m.thread");
    assert_eq!(second["event_id"], root, "every part hangs off the root");
    assert_eq!(
        second["m.in_reply_to"]["event_id"], sent[1]["event_id"],
        "and answers the part before it"
    );

    // Plaza recorded the event ids.
    let view = s
        .app
        .call(
            s.app.get(&format!("{posts}/{post}"), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    let target = &view["targets"][0];
    assert_eq!(target["status"], "published", "{view}");
    assert!(
        target["remote_url"]
            .as_str()
            .unwrap()
            .starts_with("https://matrix.to/#/"),
        "{target}"
    );
    assert_eq!(
        target["follow_up_ids"],
        json!([sent[1]["event_id"], sent[2]["event_id"]])
    );

    // Sending the first part again with its key reuses the transaction id:
    // the homeserver answers the same event and the room gains nothing.
    let key = format!("plaza-{post}-{}", s.channel);
    let again = s
        .app
        .state
        .plugins
        .publish(
            &s.plugin(),
            s.context(),
            Post {
                text: "**Spring** roast is in".into(),
                media: vec![],
                reply_to: None,
                options: "{}".into(),
                idempotency_key: key.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(again.remote_id, root);
    let count = s.synapse.messages(&s.reader, &s.room).await.len();
    assert_eq!(count, 3, "no duplicate in the room");

    // After a crash the key is found: from the kv store, and (for a channel
    // whose kv store never saw the send) from the room itself.
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
        assert_eq!(found.remote_id, root, "{channel_id}");
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

    // Deleting the post redacts it on the homeserver.
    s.delete_post(root).await.unwrap();
    let redacted = s.synapse.event(&s.reader, &s.room, root).await;
    assert!(
        redacted["unsigned"]["redacted_because"].is_object(),
        "{redacted}"
    );
    assert!(redacted["content"].get("body").is_none(), "{redacted}");
}

#[actix_web::test]
async fn messages_from_others_come_back_with_their_author_and_moderation_reaches_the_room() {
    let s = setup().await;
    let hello = s.synapse.say(&s.reader, &s.room, "hello plaza").await;
    s.synapse.say(&s.bot, &s.room, "our own message").await;

    let page = s.mentions(None).await;
    let texts: Vec<&str> = page.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, ["hello plaza"], "only others' messages: {page:?}");
    let item = &page.items[0];
    assert_eq!(item.remote_id, hello);
    assert_eq!(item.author.remote_id, s.reader.user_id);
    assert_eq!(item.author.display_name.as_deref(), Some("Rita Reader"));
    let cursor = page.next_cursor.clone().expect("a cursor to continue from");

    // From the cursor: nothing new, then exactly what came after it.
    let again = s.mentions(Some(cursor.clone())).await;
    assert!(again.items.is_empty(), "{again:?}");
    let cursor = again.next_cursor.expect("the cursor is kept");
    s.synapse.say(&s.reader, &s.room, "second thought").await;
    let newer = s.mentions(Some(cursor)).await;
    let texts: Vec<&str> = newer.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, ["second thought"]);

    // Member counts: the bot and the reader.
    let metrics = s
        .app
        .state
        .plugins
        .account_metrics(&s.plugin(), s.context())
        .await
        .unwrap();
    let value = |name: &str| metrics.iter().find(|m| m.name == name).map(|m| m.value);
    assert_eq!(value("x_joined_members"), Some(2.0));
    assert_eq!(value("followers"), Some(1.0));

    // Redacting the reader's message, then banning the reader.
    s.moderate(&hello, Moderation::Delete).await.unwrap();
    let redacted = s.synapse.event(&s.bot, &s.room, &hello).await;
    assert!(
        redacted["unsigned"]["redacted_because"].is_object(),
        "{redacted}"
    );
    s.moderate(&newer.items[0].remote_id, Moderation::BlockAuthor)
        .await
        .unwrap();
    assert_eq!(
        s.synapse
            .membership(&s.bot, &s.room, &s.reader.user_id)
            .await,
        "ban"
    );

    // Once the bot's token is revoked, the homeserver's M_UNKNOWN_TOKEN is Unauthorized.
    let (status, _) = s
        .synapse
        .try_call(
            reqwest::Method::POST,
            "/_matrix/client/v3/logout",
            &s.bot.token,
            Some(json!({})),
        )
        .await;
    assert!(status.is_success());
    match s.moderate(&hello, Moderation::Delete).await {
        Err(CallError::Plugin(PluginFault::Unauthorized(reason))) => {
            assert!(reason.contains("M_UNKNOWN_TOKEN"), "{reason}");
        }
        other => panic!("a revoked token is unauthorized, got {other:?}"),
    }
}

#[actix_web::test]
async fn a_message_in_the_room_reaches_the_inbox_and_the_answer_from_plaza_reaches_the_room() {
    let s = setup().await;
    s.synapse
        .say(&s.reader, &s.room, "Is the coffee club open on Sunday?")
        .await;
    let base = format!("/v1/workspaces/{}", s.ws);
    let poll = s
        .app
        .call(
            s.app.post(
                &format!("{base}/channels/{}/inbox/poll", s.channel),
                &s.owner.access,
                &json!({}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(poll["created"], 1, "{poll}");
    let items = s
        .app
        .call(
            s.app.get(&format!("{base}/inbox/items"), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    let item = &items["data"][0];
    assert_eq!(item["text"], "Is the coffee club open on Sunday?");
    assert_eq!(item["author"]["remote_id"], s.reader.user_id.as_str());
    assert_eq!(item["author"]["name"], "Rita Reader");
    assert_eq!(item["platform"], "matrix");

    let id = item["id"].as_str().unwrap();
    s.app
        .call(
            s.app.post(
                &format!("{base}/inbox/items/{id}/replies"),
                &s.owner.access,
                &json!({"text": "Yes, from 10:00, {{author.first_name}}!"}),
            ),
            StatusCode::ACCEPTED,
        )
        .await;
    run_due(&s.app.state, "w1", Utc::now().naive_utc())
        .await
        .unwrap();
    let replies = s
        .app
        .call(
            s.app
                .get(&format!("{base}/inbox/items/{id}/replies"), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    assert_eq!(replies[0]["status"], "sent", "{replies}");
    let remote = replies[0]["remote_id"].as_str().unwrap();
    let answer = s.synapse.event(&s.reader, &s.room, remote).await;
    assert_eq!(
        answer["content"]["body"], "Yes, from 10:00, Rita!",
        "{answer}"
    );
    assert_eq!(answer["sender"], s.bot.user_id.as_str());

    // Plaza's own answer is not taken in as a new item.
    let again = s
        .app
        .call(
            s.app.post(
                &format!("{base}/channels/{}/inbox/poll", s.channel),
                &s.owner.access,
                &json!({}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(again["created"], 0, "{again}");
}
