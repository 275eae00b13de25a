//! The Telegram plugin's logic, run natively against the SDK's test host,
//! with answers shaped as the Bot API documents them.
#![allow(clippy::indexing_slicing, reason = "tests fail loudly")]

use plaza_sdk::http::{HttpError, Request, Response};
use plaza_sdk::testing::TestHost;
use plaza_sdk::{
    Capabilities, Channel, ItemKind, MediaRef, Moderation, Plugin, PluginError, Post,
    WebhookRequest,
};
use serde_json::{Value, json};

use super::{MessageRef, Telegram, constant_time_eq, html};
use crate::api::telegram_error;
use crate::ledger;

const TOKEN: &str = "123456:ABC-def";
const CHANNEL: i64 = -1_001_234_567_890;
const GROUP: i64 = -1_009_876_543_210;
const BOT: i64 = 42;

fn url(method: &str) -> String {
    format!("https://api.telegram.org/bot{TOKEN}/{method}")
}

fn channel() -> Channel {
    Channel::with_config("ch-1", &json!({ "chat_id": "@acme_news" }))
}

fn ok(result: &Value) -> Response {
    Response::json_body(200, &json!({ "ok": true, "result": result }))
}

fn failure(code: u16, description: &str) -> Response {
    Response::json_body(
        code,
        &json!({ "ok": false, "error_code": code, "description": description }),
    )
}

fn chat() -> Value {
    json!({ "id": CHANNEL, "type": "channel", "title": "Acme News", "username": "acme_news" })
}

fn message(id: i64) -> Value {
    json!({ "message_id": id, "date": 1_700_000_000, "chat": chat(), "sender_chat": chat(), "text": "x" })
}

/// A host with the token, and `getMe` / `getChat` answering.
fn connected() -> TestHost {
    let host = TestHost::new();
    host.credential("bot_token", TOKEN);
    host.on(
        "POST",
        &url("getMe"),
        ok(&json!({ "id": BOT, "is_bot": true, "first_name": "Acme", "username": "acme_bot" })),
    );
    let mut full = chat();
    full["linked_chat_id"] = json!(GROUP);
    host.on("POST", &url("getChat"), ok(&full));
    host
}

fn sent_to(host: &TestHost, method: &str) -> Vec<Request> {
    host.requests()
        .into_iter()
        .filter(|r| r.url() == url(method))
        .collect()
}

#[test]
fn describe_declares_what_the_bot_api_allows() {
    let manifest = Telegram::describe();
    assert_eq!(manifest.id, "telegram");
    assert_eq!(
        manifest.allowed_hosts,
        ["api.telegram.org", "{config.api_base_url}"]
    );
    assert!(manifest.capabilities.contains(
        Capabilities::PUBLISH
            | Capabilities::PUBLISH_MEDIA
            | Capabilities::THREADS
            | Capabilities::DELETE_POST
            | Capabilities::MENTIONS
            | Capabilities::COMMENTS
            | Capabilities::DIRECT_MESSAGES
            | Capabilities::REPLY
            | Capabilities::DELETE_COMMENT
            | Capabilities::BLOCK_AUTHOR
            | Capabilities::ACCOUNT_METRICS
            | Capabilities::WEBHOOKS
    ));
    assert!(
        !manifest
            .capabilities
            .intersects(Capabilities::HIDE | Capabilities::SEARCH | Capabilities::POST_METRICS)
    );
    assert_eq!(manifest.limits.max_text_chars, 4096);
    assert_eq!(manifest.limits.max_media, 10);
    let schema: Value = serde_json::from_str(&manifest.config_schema).unwrap();
    assert_eq!(schema["required"], json!(["chat_id"]));
    let options: Value = serde_json::from_str(&manifest.post_options_schema).unwrap();
    assert!(options["properties"]["message_thread_id"].is_object());
}

#[test]
fn configs_name_a_chat_by_id_or_channel_username() {
    for good in [
        r#"{"chat_id": -1001234567890}"#,
        r#"{"chat_id": "-1001234567890"}"#,
        r#"{"chat_id": "@acme_news"}"#,
        r#"{"chat_id": "@acme_news", "api_base_url": "http://127.0.0.1:8081/"}"#,
    ] {
        assert_eq!(Telegram::validate_config(good), Ok(()), "{good}");
    }
    for bad in [
        r#"{"chat_id": 0}"#,
        r#"{"chat_id": "acme_news"}"#,
        r#"{"chat_id": "@abc"}"#,
        r#"{"chat_id": "@1abcdef"}"#,
        r#"{"chat_id": "@acme", "api_base_url": "ftp://x"}"#,
        r#"{"chat_id": "@acme_news", "api_base_url": "https://user@x"}"#,
        r#"{"chat_id": "@acme_news", "extra": 1}"#,
        r#"{}"#,
    ] {
        assert!(
            matches!(Telegram::validate_config(bad), Err(PluginError::Invalid(_))),
            "{bad}"
        );
    }
    let config = crate::config::Config::parse(
        r#"{"chat_id": "-100", "api_base_url": "https://bots.example/api/"}"#,
    )
    .unwrap();
    assert_eq!(config.numeric_chat_id(), Some(-100));
    assert_eq!(config.api_base_url, "https://bots.example/api");
    let default = crate::config::Config::parse(r#"{"chat_id": "@acme_news"}"#).unwrap();
    assert_eq!(default.api_base_url, "https://api.telegram.org");
}

#[test]
fn html_is_escaped_and_lengths_count_utf16_units() {
    assert_eq!(
        html::escape("Fish & <b>chips</b> > \"peas\""),
        "Fish &amp; &lt;b&gt;chips&lt;/b&gt; &gt; \"peas\""
    );
    assert_eq!(html::telegram_len("abc"), 3);
    assert_eq!(html::telegram_len("é"), 1);
    assert_eq!(html::telegram_len("🎉"), 2, "outside the BMP counts twice");
    assert_eq!(
        html::utf16_slice("🎉 @acme_bot hi", 3, 9).as_deref(),
        Some("@acme_bot")
    );
    assert_eq!(html::utf16_slice("ab", 1, 5), None);
}

#[test]
fn publish_sends_escaped_html_with_the_options_and_records_the_key() {
    let host = connected();
    host.on("POST", &url("sendMessage"), ok(&message(7)));
    let post = Post::new("Fish & chips <today>")
        .idempotency_key("plaza-p1-c1")
        .options(
            json!({
                "disable_notification": true,
                "protect_content": true,
                "disable_link_preview": true,
                "message_thread_id": 3
            })
            .to_string(),
        );

    let published = Telegram::publish(&channel(), post).unwrap();

    assert_eq!(published.remote_id, format!("{CHANNEL}:7"));
    assert_eq!(published.url.as_deref(), Some("https://t.me/acme_news/7"));
    let sent = host.last_request().unwrap();
    assert_eq!(sent.method(), "POST");
    assert_eq!(sent.url(), url("sendMessage"));
    assert_eq!(sent.header_value("content-type"), Some("application/json"));
    assert_eq!(
        sent.body_json::<Value>().unwrap(),
        json!({
            "chat_id": "@acme_news",
            "text": "Fish &amp; chips &lt;today&gt;",
            "parse_mode": "HTML",
            "disable_notification": true,
            "protect_content": true,
            "message_thread_id": 3,
            "link_preview_options": { "is_disabled": true }
        })
    );
    // The record is there and the mark is gone.
    assert_eq!(
        Telegram::find_published(&channel(), "plaza-p1-c1").unwrap(),
        Some(published)
    );
    assert!(host.kv_get("attempt:plaza-p1-c1").is_none());
    assert_eq!(
        Telegram::find_published(&channel(), "plaza-other"),
        Ok(None)
    );
    assert!(matches!(
        Telegram::find_published(&channel(), ""),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn follow_ups_reply_to_the_part_before_them() {
    let host = connected();
    host.on("POST", &url("sendMessage"), ok(&message(8)));
    let part = Post::new("Notes: cherry")
        .reply_to(format!("{CHANNEL}:7"))
        .idempotency_key("k-0");

    let published = Telegram::publish(&channel(), part).unwrap();

    assert_eq!(published.remote_id, format!("{CHANNEL}:8"));
    let body: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(body["chat_id"], CHANNEL);
    assert_eq!(body["reply_parameters"], json!({ "message_id": 7 }));
    assert!(body.get("link_preview_options").is_none());
}

#[test]
fn texts_past_telegrams_limits_are_refused_before_sending() {
    let host = connected();
    let at_limit = "🎉".repeat(2048);
    host.on("POST", &url("sendMessage"), ok(&message(9)));
    assert!(Telegram::publish(&channel(), Post::new(at_limit)).is_ok());

    let over = format!("{}a", "🎉".repeat(2048));
    match Telegram::publish(&channel(), Post::new(over)) {
        Err(PluginError::Invalid(reason)) => assert!(reason.contains("4096"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Telegram::publish(&channel(), Post::new("  ")),
        Err(PluginError::Invalid(_))
    ));

    // Captions are shorter.
    host.media("m1", vec![1, 2, 3]);
    let photo = MediaRef::new("m1", "image/png", 3);
    let long = Post::new("a".repeat(1025)).media(photo.clone());
    match Telegram::publish(&channel(), long) {
        Err(PluginError::Invalid(reason)) => assert!(reason.contains("1024"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let eleven = (0..11).fold(Post::new("x"), |p, _| p.media(photo.clone()));
    assert!(matches!(
        Telegram::publish(&channel(), eleven),
        Err(PluginError::Invalid(_))
    ));
    let mixed = Post::new("x")
        .media(photo)
        .media(MediaRef::new("m1", "application/pdf", 3));
    assert!(matches!(
        Telegram::publish(&channel(), mixed),
        Err(PluginError::Invalid(reason)) if reason.contains("mix")
    ));
    let huge = Post::new("x").media(MediaRef::new("m1", "image/png", 11 * 1024 * 1024));
    assert!(matches!(
        Telegram::publish(&channel(), huge),
        Err(PluginError::Invalid(_))
    ));
    assert_eq!(
        sent_to(&host, "sendMessage").len(),
        1,
        "only the post within the limits went out"
    );
    assert!(sent_to(&host, "sendPhoto").is_empty());
}

#[test]
fn one_photo_goes_up_as_multipart_with_its_caption() {
    let host = connected();
    host.media("m1", b"\x89PNG fake bytes".to_vec());
    host.on("POST", &url("sendPhoto"), ok(&message(10)));
    let post = Post::new("Latte <art>")
        .media(MediaRef::new("m1", "image/png", 15))
        .options(r#"{"disable_notification": true}"#)
        .idempotency_key("k-photo");

    let published = Telegram::publish(&channel(), post).unwrap();

    assert_eq!(published.remote_id, format!("{CHANNEL}:10"));
    let sent = host.last_request().unwrap();
    let content_type = sent.header_value("content-type").unwrap().to_owned();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap();
    let body = sent.body_text();
    assert!(body.starts_with(&format!("--{boundary}\r\n")), "{body}");
    assert!(body.ends_with(&format!("--{boundary}--\r\n")), "{body}");
    for field in [
        "name=\"chat_id\"\r\n\r\n@acme_news\r\n",
        "name=\"disable_notification\"\r\n\r\ntrue\r\n",
        "name=\"caption\"\r\n\r\nLatte &lt;art&gt;\r\n",
        "name=\"parse_mode\"\r\n\r\nHTML\r\n",
        "name=\"photo\"; filename=\"attachment-1.png\"\r\nContent-Type: image/png\r\n\r\n\u{FFFD}PNG fake bytes\r\n",
    ] {
        assert!(body.contains(field), "{field:?} missing from {body}");
    }
}

#[test]
fn albums_go_up_together_and_are_deleted_together() {
    let host = connected();
    host.media("a", b"AAA".to_vec()).media("b", b"BBB".to_vec());
    let mut first = message(20);
    first["media_group_id"] = json!("g1");
    host.on(
        "POST",
        &url("sendMediaGroup"),
        ok(&json!([first, message(21)])),
    );
    let post = Post::new("Two & more")
        .media(MediaRef::new("a", "image/jpeg", 3))
        .media(MediaRef::new("b", "video/mp4", 3))
        .idempotency_key("k-album");

    let published = Telegram::publish(&channel(), post).unwrap();

    assert_eq!(published.remote_id, format!("{CHANNEL}:20"));
    let body = host.last_request().unwrap().body_text();
    let media_field = body
        .split("name=\"media\"\r\n\r\n")
        .nth(1)
        .and_then(|rest| rest.split("\r\n").next())
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(media_field).unwrap(),
        json!([
            { "type": "photo", "media": "attach://file0", "caption": "Two &amp; more", "parse_mode": "HTML" },
            { "type": "video", "media": "attach://file1" }
        ])
    );
    assert!(body.contains(
        "name=\"file0\"; filename=\"attachment-1.jpeg\"\r\nContent-Type: image/jpeg\r\n\r\nAAA"
    ));
    assert!(body.contains(
        "name=\"file1\"; filename=\"attachment-2.mp4\"\r\nContent-Type: video/mp4\r\n\r\nBBB"
    ));

    host.on("POST", &url("deleteMessage"), ok(&json!(true)));
    Telegram::delete_post(&channel(), &published.remote_id).unwrap();
    let deleted: Vec<Value> = sent_to(&host, "deleteMessage")
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(
        deleted,
        [
            json!({ "chat_id": CHANNEL, "message_id": 20 }),
            json!({ "chat_id": CHANNEL, "message_id": 21 })
        ]
    );
}

#[test]
fn bot_api_errors_map_to_plugin_errors() {
    let limited = Response::json_body(
        429,
        &json!({ "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 35", "parameters": { "retry_after": 35 } }),
    );
    assert_eq!(telegram_error(&limited), PluginError::RateLimited(Some(35)));
    let header_only = failure(429, "Too Many Requests").with_header("Retry-After", "4");
    assert_eq!(
        telegram_error(&header_only),
        PluginError::RateLimited(Some(4))
    );
    assert_eq!(
        telegram_error(&failure(401, "Unauthorized")),
        PluginError::Unauthorized("Unauthorized".into())
    );
    assert!(matches!(
        telegram_error(&failure(404, "Not Found")),
        PluginError::Unauthorized(_)
    ));
    assert_eq!(
        telegram_error(&failure(
            403,
            "Forbidden: bot is not a member of the channel chat"
        )),
        PluginError::Invalid("Forbidden: bot is not a member of the channel chat".into())
    );
    assert_eq!(
        telegram_error(&failure(400, "Bad Request: chat not found")),
        PluginError::Invalid("Bad Request: chat not found".into())
    );
    assert_eq!(
        telegram_error(&failure(400, "Bad Request: message to delete not found")),
        PluginError::NotFound
    );
    let migrated = Response::json_body(
        400,
        &json!({ "ok": false, "error_code": 400, "description": "Bad Request: group chat was migrated to a supergroup chat", "parameters": { "migrate_to_chat_id": -1_001_111 } }),
    );
    assert!(matches!(
        telegram_error(&migrated),
        PluginError::Invalid(reason) if reason.contains("set chat_id to -1001111")
    ));
    assert!(matches!(
        telegram_error(&failure(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")),
        PluginError::Invalid(reason) if reason.contains("deleteWebhook")
    ));
    assert!(matches!(
        telegram_error(&failure(
            409,
            "Conflict: terminated by other long poll or webhook"
        )),
        PluginError::Transient(_)
    ));
    assert!(matches!(
        telegram_error(&failure(500, "Internal Server Error")),
        PluginError::Transient(reason) if reason.contains("500")
    ));
    assert!(matches!(
        telegram_error(&Response::text_body(502, "<html>Bad Gateway</html>")),
        PluginError::Transient(_)
    ));
    assert_eq!(
        telegram_error(&Response::new(429).with_header("Retry-After", "9")),
        PluginError::RateLimited(Some(9))
    );
}

#[test]
fn a_refused_send_leaves_nothing_behind_and_may_be_sent_again() {
    let host = connected();
    host.on(
        "POST",
        &url("sendMessage"),
        Response::json_body(
            429,
            &json!({ "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": { "retry_after": 3 } }),
        ),
    );
    let post = Post::new("hi").idempotency_key("k-429");
    assert_eq!(
        Telegram::publish(&channel(), post),
        Err(PluginError::RateLimited(Some(3)))
    );
    assert_eq!(Telegram::find_published(&channel(), "k-429"), Ok(None));
    assert!(host.kv_keys().iter().all(|k| !k.contains("k-429")));
}

#[test]
fn an_unconfirmed_send_is_reported_and_never_looks_unsent() {
    for reply in [
        Err(HttpError::Timeout),
        Ok(Response::text_body(200, "<html>proxy</html>")),
        Ok(Response::json_body(
            200,
            &json!({ "ok": true, "result": { "unexpected": 1 } }),
        )),
    ] {
        let host = connected();
        match reply.clone() {
            Ok(response) => host.on("POST", &url("sendMessage"), response),
            Err(error) => host.on_error("POST", &url("sendMessage"), error),
        };
        let post = Post::new("hi").idempotency_key("k-unknown");
        match Telegram::publish(&channel(), post) {
            Err(PluginError::Invalid(reason)) => {
                assert!(reason.contains("may have been sent"), "{reply:?}: {reason}");
            }
            other => panic!("{reply:?}: {other:?}"),
        }
        // After a crash, Plaza asks: the answer must not be "nothing sent".
        assert!(
            matches!(
                Telegram::find_published(&channel(), "k-unknown"),
                Err(PluginError::Invalid(_))
            ),
            "{reply:?}"
        );
    }
    // A connection that never opened sent nothing.
    let host = connected();
    host.on_error(
        "POST",
        &url("sendMessage"),
        HttpError::Connect("refused".into()),
    );
    assert!(matches!(
        Telegram::publish(&channel(), Post::new("hi").idempotency_key("k-c")),
        Err(PluginError::Transient(_))
    ));
    assert_eq!(Telegram::find_published(&channel(), "k-c"), Ok(None));
}

#[test]
fn the_ledger_keeps_the_newest_records_only() {
    let host = TestHost::new();
    for n in 0..=ledger::MAX_RECORDS {
        let key = format!("k{n}");
        ledger::begin(&key, 1).unwrap();
        let sent = ledger::Sent {
            chat_id: CHANNEL,
            message_ids: vec![i64::try_from(n).unwrap() + 1, 1_000],
            url: None,
        };
        ledger::record(&key, &sent, &format!("{CHANNEL}:{}", n + 1)).unwrap();
    }
    assert_eq!(ledger::lookup("k0"), Ok(ledger::Lookup::Nothing));
    assert!(matches!(ledger::lookup("k1"), Ok(ledger::Lookup::Sent(_))));
    assert!(matches!(
        ledger::lookup(&format!("k{}", ledger::MAX_RECORDS)),
        Ok(ledger::Lookup::Sent(_))
    ));
    assert!(
        host.kv_get(&format!("album:{CHANNEL}:1")).is_none(),
        "the dropped record's album went with it"
    );
    assert!(host.kv_get(&format!("album:{CHANNEL}:2")).is_some());
}

fn user(id: i64, username: &str) -> Value {
    json!({ "id": id, "is_bot": false, "first_name": "Rita", "last_name": "Reader", "username": username })
}

fn group() -> Value {
    json!({ "id": GROUP, "type": "supergroup", "title": "Acme chat", "username": "acme_chat" })
}

/// An update of every kind the inbox sorts.
fn updates_batch() -> Value {
    let forward = json!({
        "message_id": 500, "date": 1_700_000_000, "chat": group(), "sender_chat": chat(),
        "is_automatic_forward": true,
        "forward_origin": { "type": "channel", "date": 1, "chat": chat(), "message_id": 7 },
        "text": "our post"
    });
    json!([
        { "update_id": 100, "message": {
            "message_id": 1, "date": 1_700_000_100, "from": user(7001, "rita"),
            "chat": { "id": 7001, "type": "private", "first_name": "Rita" }, "text": "hello bot"
        }},
        { "update_id": 101, "message": {
            "message_id": 501, "date": 1_700_000_200, "from": user(7002, "sam"),
            "chat": group(), "reply_to_message": forward, "message_thread_id": 500,
            "text": "great post"
        }},
        { "update_id": 102, "message": {
            "message_id": 502, "date": 1_700_000_300, "from": user(7003, "kim"),
            "chat": group(), "text": "🎉 @Acme_Bot look",
            "entities": [{ "type": "mention", "offset": 3, "length": 9 }]
        }},
        { "update_id": 103, "message": {
            "message_id": 503, "date": 1_700_000_400, "from": user(7003, "kim"),
            "chat": group(), "text": "just chatting"
        }},
        { "update_id": 104, "message": {
            "message_id": 9, "date": 1_700_000_500, "from": user(7004, "eve"),
            "chat": { "id": -100_555, "type": "supergroup", "title": "Elsewhere" },
            "text": "@acme_bot elsewhere", "entities": [{ "type": "mention", "offset": 0, "length": 9 }]
        }},
        { "update_id": 105, "channel_post": message(8) },
        { "update_id": 106, "message": {
            "message_id": 504, "date": 1_700_000_600, "from": user(7005, "lee"),
            "chat": group(), "reply_to_message": message(8), "caption": "photo reply"
        }}
    ])
}

#[test]
fn updates_are_sorted_into_messages_comments_and_mentions() {
    let host = connected();
    host.push(ok(&updates_batch())).push(ok(&json!([])));

    let dms = Telegram::fetch_messages(&channel(), None, 50).unwrap();

    let first = host
        .requests()
        .into_iter()
        .find(|r| r.url() == url("getUpdates"))
        .unwrap();
    assert_eq!(
        first.body_json::<Value>().unwrap(),
        json!({ "limit": 100, "timeout": 0, "allowed_updates": ["message", "channel_post"] }),
        "the first read starts at the earliest unconfirmed update"
    );
    assert_eq!(dms.items.len(), 1);
    let dm = &dms.items[0];
    assert_eq!(dm.kind, ItemKind::DirectMessage);
    assert_eq!(dm.remote_id, "7001:1:7001");
    assert_eq!(dm.text, "hello bot");
    assert_eq!(dm.author.handle, "@rita");
    assert_eq!(dm.author.display_name.as_deref(), Some("Rita Reader"));
    assert_eq!(dm.created_at, "2023-11-14T22:15:00Z");
    assert_eq!(dm.thread_id.as_deref(), Some("7001"));
    assert_eq!(dms.next_cursor.as_deref(), Some("100"));

    // The mentions were filed on the same pull: the next one starts past it.
    let mentions = Telegram::fetch_mentions(&channel(), None, 50).unwrap();
    let body: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(body["offset"], 107, "confirms everything read so far");
    let texts: Vec<&str> = mentions.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(
        texts,
        ["🎉 @Acme_Bot look"],
        "only mentions in our chats: {mentions:?}"
    );
    assert_eq!(mentions.items[0].remote_id, format!("{GROUP}:502:7003"));
    assert_eq!(
        mentions.items[0].url.as_deref(),
        Some("https://t.me/acme_chat/502")
    );

    // Comments on post 7 (through the discussion group's copy), and on 8.
    host.push(ok(&json!([]))).push(ok(&json!([])));
    let on_seven = Telegram::fetch_comments(&channel(), &format!("{CHANNEL}:7"), None, 50).unwrap();
    assert_eq!(on_seven.items.len(), 1, "{on_seven:?}");
    let comment = &on_seven.items[0];
    assert_eq!(comment.kind, ItemKind::Comment);
    assert_eq!(comment.text, "great post");
    assert_eq!(comment.post_id.as_deref(), Some(&*format!("{CHANNEL}:7")));
    assert_eq!(comment.parent_id.as_deref(), Some(&*format!("{GROUP}:500")));
    let on_eight = Telegram::fetch_comments(&channel(), &format!("{CHANNEL}:8"), None, 50).unwrap();
    let texts: Vec<&str> = on_eight.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, ["photo reply"]);
}

#[test]
fn cursors_confirm_only_their_own_kind() {
    let host = connected();
    host.push(ok(&updates_batch()));
    let mentions = Telegram::fetch_mentions(&channel(), None, 50).unwrap();
    assert_eq!(mentions.items.len(), 1);
    let cursor = mentions.next_cursor.unwrap();
    assert_eq!(cursor, "102");

    // Reading on from the cursor: nothing new, and the cursor stays usable.
    host.push(ok(&json!([])));
    let again = Telegram::fetch_mentions(&channel(), Some(&cursor), 50).unwrap();
    assert!(again.items.is_empty());
    let cursor = again.next_cursor.unwrap();
    assert_eq!(cursor, "106", "past everything seen");

    // The direct message, pulled earlier and older than that cursor, is
    // still there for its own reader.
    host.push(ok(&json!([])));
    let dms = Telegram::fetch_messages(&channel(), None, 1).unwrap();
    assert_eq!(dms.items.len(), 1);

    // New updates come after the stored offset.
    host.push(ok(&json!([{ "update_id": 107, "message": {
        "message_id": 505, "date": 1_700_000_700, "from": user(7003, "kim"),
        "chat": group(), "text": "@acme_bot again", "entities": [{ "type": "mention", "offset": 0, "length": 9 }]
    }}])));
    let newer = Telegram::fetch_mentions(&channel(), Some(&cursor), 50).unwrap();
    let texts: Vec<&str> = newer.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, ["@acme_bot again"]);
    let body: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(body["offset"], 107);

    assert!(matches!(
        Telegram::fetch_mentions(&channel(), Some("not-a-number"), 5),
        Err(PluginError::Invalid(_))
    ));
    assert_eq!(
        sent_to(&host, "getMe").len(),
        1,
        "the bot and the chat are resolved once"
    );
    // A channel configured for another chat resolves again.
    host.push(ok(&json!([])));
    let other = Channel::with_config("ch-1", &json!({ "chat_id": CHANNEL }));
    Telegram::fetch_mentions(&other, None, 5).unwrap();
    assert_eq!(sent_to(&host, "getMe").len(), 2);
}

#[test]
fn reading_updates_while_a_webhook_is_set_says_so() {
    let host = connected();
    host.push(failure(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    ));
    match Telegram::fetch_mentions(&channel(), None, 10) {
        Err(PluginError::Invalid(reason)) => assert!(reason.contains("webhook"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn replies_answer_the_item_in_its_own_chat() {
    let host = connected();
    let mut answer = message(600);
    answer["chat"] = group();
    host.on("POST", &url("sendMessage"), ok(&answer));

    let published = Telegram::reply(
        &channel(),
        &format!("{GROUP}:501:7002"),
        Post::new("Thanks!").idempotency_key("r1"),
    )
    .unwrap();

    assert_eq!(published.remote_id, format!("{GROUP}:600"));
    let body: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(body["chat_id"], GROUP);
    assert_eq!(body["reply_parameters"], json!({ "message_id": 501 }));
    assert_eq!(body["text"], "Thanks!");
}

#[test]
fn moderation_deletes_bans_and_mutes() {
    let host = connected();
    for method in ["deleteMessage", "banChatMember", "restrictChatMember"] {
        host.on("POST", &url(method), ok(&json!(true)));
    }
    let item = format!("{GROUP}:501:7002");
    Telegram::moderate(&channel(), &item, Moderation::Delete).unwrap();
    Telegram::moderate(&channel(), &item, Moderation::BlockAuthor).unwrap();
    Telegram::moderate(&channel(), &item, Moderation::MuteAuthor).unwrap();

    let body = |method: &str| -> Value { sent_to(&host, method)[0].body_json().unwrap() };
    assert_eq!(
        body("deleteMessage"),
        json!({ "chat_id": GROUP, "message_id": 501 })
    );
    assert_eq!(
        body("banChatMember"),
        json!({ "chat_id": GROUP, "user_id": 7002 })
    );
    let restrict = body("restrictChatMember");
    assert_eq!(restrict["user_id"], 7002);
    assert_eq!(restrict["permissions"]["can_send_messages"], false);
    assert_eq!(restrict["permissions"]["can_send_photos"], false);
    assert_eq!(restrict["use_independent_chat_permissions"], true);

    assert!(matches!(
        Telegram::moderate(&channel(), &format!("{GROUP}:501"), Moderation::BlockAuthor),
        Err(PluginError::Invalid(_))
    ));
    let sent_before = host.requests().len();
    for action in [Moderation::Hide, Moderation::Unhide, Moderation::Report] {
        assert_eq!(
            Telegram::moderate(&channel(), &item, action),
            Err(PluginError::Unsupported)
        );
        assert_eq!(
            Telegram::moderate(&channel(), "1", action),
            Err(PluginError::Unsupported),
            "answered without asking Telegram"
        );
    }
    assert_eq!(host.requests().len(), sent_before);
    host.on(
        "POST",
        &url("deleteMessage"),
        failure(400, "Bad Request: message to delete not found"),
    );
    assert_eq!(
        Telegram::moderate(&channel(), &item, Moderation::Delete),
        Err(PluginError::NotFound)
    );
    assert!(matches!(
        Telegram::moderate(&channel(), "abc", Moderation::Delete),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn deleting_a_bare_id_uses_the_configured_chat() {
    let host = connected();
    host.on("POST", &url("deleteMessage"), ok(&json!(true)));
    Telegram::delete_post(&channel(), "7").unwrap();
    assert_eq!(
        host.last_request().unwrap().body_json::<Value>().unwrap(),
        json!({ "chat_id": CHANNEL, "message_id": 7 })
    );
    host.on(
        "POST",
        &url("deleteMessage"),
        failure(400, "Bad Request: message to delete not found"),
    );
    assert_eq!(
        Telegram::delete_post(&channel(), &format!("{CHANNEL}:7")),
        Err(PluginError::NotFound)
    );
}

#[test]
fn the_account_is_the_chat_with_its_member_count() {
    let host = connected();
    host.on("POST", &url("getChatMemberCount"), ok(&json!(1234)));

    let author = Telegram::check_credentials(&channel()).unwrap();
    assert_eq!(author.remote_id, CHANNEL.to_string());
    assert_eq!(author.handle, "@acme_news");
    assert_eq!(author.display_name.as_deref(), Some("Acme News"));
    assert_eq!(author.followers, Some(1234));
    assert_eq!(
        sent_to(&host, "getChat")[0].body_json::<Value>().unwrap(),
        json!({ "chat_id": "@acme_news" })
    );

    let metrics = Telegram::account_metrics(&channel()).unwrap();
    let value = |name: &str| metrics.iter().find(|m| m.name == name).map(|m| m.value);
    assert_eq!(value("followers"), Some(1234.0));
    assert_eq!(value("x_chat_members"), Some(1234.0));

    host.on("POST", &url("getMe"), failure(401, "Unauthorized"));
    assert_eq!(
        Telegram::check_credentials(&channel()),
        Err(PluginError::Unauthorized("Unauthorized".into()))
    );
    host.remove_credential("bot_token");
    assert!(matches!(
        Telegram::account_metrics(&channel()),
        Err(PluginError::Unauthorized(_))
    ));
}

fn webhook(secret: Option<&str>, body: &Value) -> WebhookRequest {
    WebhookRequest {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: secret
            .map(|s| vec![("x-telegram-bot-api-secret-token".to_owned(), s.to_owned())])
            .unwrap_or_default(),
        body: body.to_string().into_bytes(),
    }
}

#[test]
fn webhooks_carry_the_secret_token_and_an_update() {
    let host = connected();
    let update = updates_batch()[0].clone();
    assert!(
        matches!(
            Telegram::verify_webhook(&channel(), &webhook(Some("s3cret"), &update)),
            Err(PluginError::Unauthorized(_))
        ),
        "no secret configured: nothing is trusted"
    );

    host.credential("webhook_secret", "s3cret_Token-1");
    assert_eq!(
        Telegram::verify_webhook(&channel(), &webhook(Some("s3cret_Token-1"), &update)),
        Ok(())
    );
    for wrong in [
        Some("s3cret_Token-2"),
        Some("s3cret_Token-1x"),
        Some(""),
        None,
    ] {
        assert!(
            matches!(
                Telegram::verify_webhook(&channel(), &webhook(wrong, &update)),
                Err(PluginError::Unauthorized(_))
            ),
            "{wrong:?}"
        );
    }
    let mut get = webhook(Some("s3cret_Token-1"), &update);
    get.method = "GET".into();
    assert!(Telegram::verify_webhook(&channel(), &get).is_err());

    let outcome = Telegram::parse_webhook(&channel(), &webhook(None, &update)).unwrap();
    assert_eq!(outcome.items.len(), 1);
    assert_eq!(outcome.items[0].kind, ItemKind::DirectMessage);
    assert!(outcome.reply.is_none());
    let ours = json!({ "update_id": 9, "channel_post": message(3) });
    assert!(
        Telegram::parse_webhook(&channel(), &webhook(None, &ours))
            .unwrap()
            .items
            .is_empty()
    );
    assert!(matches!(
        Telegram::parse_webhook(&channel(), &webhook(None, &json!([1]))),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn constant_time_comparison_is_plain_equality() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abd", b"abc"));
    assert!(!constant_time_eq(b"ab", b"abc"));
    assert!(!constant_time_eq(b"abcabc", b"abc"));
    assert!(!constant_time_eq(b"", b""));
}

#[test]
fn message_ids_parse_with_or_without_chat_and_author() {
    assert_eq!(
        MessageRef::parse("-100123:45:678").unwrap(),
        MessageRef {
            chat: Some(-100_123),
            message: 45,
            user: Some(678)
        }
    );
    assert_eq!(MessageRef::parse("45").unwrap().chat, None);
    for bad in ["", "a:b", "1:2:3:4", "1::2"] {
        assert!(MessageRef::parse(bad).is_err(), "{bad}");
    }
}
