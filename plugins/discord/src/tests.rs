//! The Discord plugin's logic, run natively against the SDK's test host.

use ed25519_dalek::{Signer, SigningKey};
use plaza_sdk::http::Response;
use plaza_sdk::testing::{DEFAULT_NOW_MS, TestHost};
use plaza_sdk::{
    Capabilities, Channel, ItemKind, MediaRef, Moderation, Plugin, PluginError, Post,
    WebhookRequest,
};
use serde_json::{Value, json};

use super::{Discord, nonce, snowflake_time, timeout_until};
use crate::api::{Api, RateLimit, ceil_secs, discord_error};

const API: &str = "https://discord.test/api/v10";
const CHANNEL: &str = "1100";
const GUILD: &str = "1000";
const BOT: &str = "900";
const READER: &str = "901";

fn config() -> Value {
    json!({ "channel_id": CHANNEL, "guild_id": GUILD, "api_base_url": format!("{API}/") })
}

fn channel() -> Channel {
    Channel::with_config("ch-1", &config())
}

fn url(path: &str) -> String {
    format!("{API}{path}")
}

fn user(id: &str, name: &str) -> Value {
    json!({ "id": id, "username": name, "global_name": format!("{name} display"), "discriminator": "0", "avatar": null })
}

/// A message as the API serves it.
fn message(id: &str, channel: &str, author: &str, content: &str) -> Value {
    json!({
        "id": id,
        "channel_id": channel,
        "author": user(author, if author == BOT { "plaza-bot" } else { "rita" }),
        "content": content,
        "timestamp": "2023-11-14T22:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "type": 0
    })
}

fn connected() -> TestHost {
    let host = TestHost::new();
    host.credential("bot_token", "MTk4.bot.token");
    host.on(
        "GET",
        &url("/users/@me"),
        Response::json_body(200, &user(BOT, "plaza-bot")),
    );
    host
}

fn error(status: u16, body: &Value) -> Response {
    Response::json_body(status, body)
}

#[test]
fn describe_declares_a_discord_channel() {
    let manifest = Discord::describe();
    assert_eq!(manifest.id, "discord");
    assert_eq!(
        manifest.allowed_hosts,
        ["discord.com", "{config.api_base_url}"]
    );
    assert!(manifest.capabilities.contains(
        Capabilities::PUBLISH
            | Capabilities::PUBLISH_MEDIA
            | Capabilities::THREADS
            | Capabilities::MENTIONS
            | Capabilities::COMMENTS
            | Capabilities::REPLY
            | Capabilities::DELETE_POST
            | Capabilities::DELETE_COMMENT
            | Capabilities::BLOCK_AUTHOR
            | Capabilities::WEBHOOKS
    ));
    assert!(!manifest.capabilities.contains(Capabilities::HIDE));
    assert_eq!(manifest.limits.max_text_chars, 2000);
    assert_eq!(manifest.limits.max_media, 10);
    let schema: Value = serde_json::from_str(&manifest.config_schema).unwrap();
    assert_eq!(schema["required"], json!(["channel_id", "guild_id"]));
    let options: Value = serde_json::from_str(&manifest.post_options_schema).unwrap();
    assert_eq!(options["properties"]["embeds"]["maxItems"], 10);
}

#[test]
fn configs_need_snowflakes_and_a_plain_base_url() {
    let ok = [
        json!({ "channel_id": "1", "guild_id": "2" }),
        json!({ "channel_id": "1", "guild_id": "2", "api_base_url": "http://127.0.0.1:9/api/v10" }),
        json!({ "channel_id": "1", "guild_id": "2", "public_key": "AB".repeat(32), "timeout_minutes": 40320 }),
    ];
    for config in ok {
        assert_eq!(
            Discord::validate_config(&config.to_string()),
            Ok(()),
            "{config}"
        );
    }
    let bad = [
        json!({ "channel_id": "general", "guild_id": "2" }),
        json!({ "channel_id": "1" }),
        json!({ "channel_id": "1", "guild_id": "-2" }),
        json!({ "channel_id": "1", "guild_id": "2", "api_base_url": "ftp://x" }),
        json!({ "channel_id": "1", "guild_id": "2", "api_base_url": "https://u:p@x" }),
        json!({ "channel_id": "1", "guild_id": "2", "public_key": "abc" }),
        json!({ "channel_id": "1", "guild_id": "2", "public_key": "zz".repeat(32) }),
        json!({ "channel_id": "1", "guild_id": "2", "timeout_minutes": 40321 }),
        json!({ "channel_id": "1", "guild_id": "2", "timeout_minutes": 0 }),
        json!({ "channel_id": "1", "guild_id": "2", "extra": true }),
    ];
    for config in bad {
        assert!(
            matches!(
                Discord::validate_config(&config.to_string()),
                Err(PluginError::Invalid(_))
            ),
            "{config}"
        );
    }
}

#[test]
fn discord_errors_map_to_plugin_errors() {
    // 429: the body's float seconds, rounded up, win over the headers.
    let limited = error(
        429,
        &json!({ "message": "You are being rate limited.", "retry_after": 1.234, "global": false }),
    )
    .with_header("Retry-After", "7")
    .with_header("X-RateLimit-Reset-After", "9.5");
    assert_eq!(discord_error(&limited), PluginError::RateLimited(Some(2)));
    let header_only = Response::new(429).with_header("Retry-After", "7");
    assert_eq!(
        discord_error(&header_only),
        PluginError::RateLimited(Some(7))
    );
    let reset_only = Response::new(429).with_header("X-RateLimit-Reset-After", "0.25");
    assert_eq!(
        discord_error(&reset_only),
        PluginError::RateLimited(Some(1))
    );
    assert_eq!(
        discord_error(&Response::new(429)),
        PluginError::RateLimited(None)
    );

    let token = error(401, &json!({ "message": "401: Unauthorized", "code": 0 }));
    assert_eq!(
        discord_error(&token),
        PluginError::Unauthorized("401: Unauthorized".into())
    );
    let permissions = error(
        403,
        &json!({ "message": "Missing Permissions", "code": 50013 }),
    );
    assert_eq!(
        discord_error(&permissions),
        PluginError::Invalid("Missing Permissions (code 50013)".into())
    );
    for code in [10003, 10008, 10007] {
        let unknown = error(404, &json!({ "message": "Unknown Message", "code": code }));
        assert_eq!(discord_error(&unknown), PluginError::NotFound);
    }
    let form = error(
        400,
        &json!({
            "code": 50035,
            "message": "Invalid Form Body",
            "errors": { "content": { "_errors": [
                { "code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length." }
            ] } }
        }),
    );
    assert_eq!(
        discord_error(&form),
        PluginError::Invalid(
            "Invalid Form Body (code 50035): content: Must be 2000 or fewer in length.".into()
        )
    );
    let nested = error(
        400,
        &json!({
            "code": 50035,
            "message": "Invalid Form Body",
            "errors": { "embeds": { "0": { "title": { "_errors": [
                { "code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length." }
            ] } } } }
        }),
    );
    match discord_error(&nested) {
        PluginError::Invalid(reason) => {
            assert!(
                reason.ends_with("embeds.0.title: Must be 256 or fewer in length."),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    let down = error(502, &json!({ "message": "Bad Gateway", "code": 0 }));
    assert_eq!(
        discord_error(&down),
        PluginError::Transient("HTTP 502: Bad Gateway".into())
    );
    match discord_error(&Response::text_body(503, "<html>upstream</html>")) {
        PluginError::Transient(reason) => assert!(reason.contains("503"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rate_limit_headers_are_read_and_an_exhausted_bucket_is_not_asked_again() {
    let response = Response::json_body(200, &json!([]))
        .with_header("X-RateLimit-Limit", "5")
        .with_header("X-RateLimit-Remaining", "0")
        .with_header("X-RateLimit-Reset", "1470173023.123")
        .with_header("X-RateLimit-Reset-After", "1.2")
        .with_header("X-RateLimit-Bucket", "abcd1234")
        .with_header("X-RateLimit-Global", "true")
        .with_header("X-RateLimit-Scope", "shared");
    let limit = RateLimit::from_response(&response);
    assert_eq!(
        limit,
        RateLimit {
            limit: Some(5),
            remaining: Some(0),
            reset: Some(1_470_173_023.123),
            reset_after: Some(1.2),
            bucket: Some("abcd1234".into()),
            global: true,
            scope: Some("shared".into()),
        }
    );
    assert!(limit.exhausted());
    assert_eq!(limit.reset_after_secs(), Some(2));
    let garbage = Response::new(200)
        .with_header("X-RateLimit-Remaining", "many")
        .with_header("X-RateLimit-Reset-After", "-3");
    assert_eq!(RateLimit::from_response(&garbage), RateLimit::default());
    assert_eq!(ceil_secs(0.0), 0);
    assert_eq!(ceil_secs(64.57), 65);
    assert_eq!(ceil_secs(f64::NAN), 0);

    // The bucket is used up: the next request on that route waits instead
    // of earning a 429.
    let host = connected();
    host.on("GET", &url("/channels/1100/messages?limit=10"), response);
    let api = Api::connect(&channel()).unwrap();
    assert!(api.messages(CHANNEL, None, None, 10).unwrap().is_empty());
    assert_eq!(
        api.messages(CHANNEL, None, None, 10).unwrap_err(),
        PluginError::RateLimited(Some(2))
    );
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn nonces_are_short_stable_and_distinct() {
    let key = "plaza-0193a4b2-7c1d-7000-8000-000000000001-0193a4b2-7c1d-7000-8000-000000000002";
    assert_eq!(nonce(key), nonce(key));
    assert_eq!(nonce(key).len(), 25);
    assert!(nonce(key).starts_with('p'));
    assert_ne!(nonce(key), nonce(&format!("{key}-0")));
}

#[test]
fn snowflakes_carry_their_time() {
    // Discord's documented example: 175928847299117063 is 2016-04-30 11:18:25.796 UTC.
    assert_eq!(
        snowflake_time("175928847299117063"),
        "2016-04-30T11:18:25.796Z"
    );
    assert_eq!(timeout_until(DEFAULT_NOW_MS, 60), "2023-11-14T23:13:20Z");
}

#[test]
fn publish_sends_a_message_with_a_nonce_and_remembers_it() {
    let host = connected();
    let key = "plaza-p1-c1";
    let mut created = message("2001", CHANNEL, BOT, "**Spring** roast");
    created["nonce"] = json!(nonce(key));
    host.on(
        "POST",
        &url("/channels/1100/messages"),
        Response::json_body(200, &created),
    );
    let options = json!({
        "embeds": [{ "title": "Menu", "description": "New beans", "url": "https://acme.example/menu", "color": 0x00AA_5500 }],
        "silent": true
    });
    let published = Discord::publish(
        &channel(),
        Post::new("**Spring** roast")
            .idempotency_key(key)
            .options(options.to_string()),
    )
    .unwrap();
    assert_eq!(published.remote_id, "2001");
    assert_eq!(
        published.url.as_deref(),
        Some("https://discord.com/channels/1000/1100/2001")
    );
    let sent = host.last_request().unwrap();
    assert_eq!(sent.method(), "POST");
    assert_eq!(
        sent.header_value("authorization"),
        Some("Bot MTk4.bot.token")
    );
    assert!(
        sent.header_value("user-agent")
            .unwrap()
            .starts_with("DiscordBot (")
    );
    assert_eq!(sent.header_value("content-type"), Some("application/json"));
    assert_eq!(
        sent.body_json::<Value>().unwrap(),
        json!({
            "content": "**Spring** roast",
            "nonce": nonce(key),
            "enforce_nonce": true,
            "embeds": [{ "title": "Menu", "description": "New beans", "url": "https://acme.example/menu", "color": 0x00AA_5500 }],
            "allowed_mentions": { "parse": ["users", "roles"] },
            "flags": 4096
        })
    );
    assert_eq!(
        host.kv_get("sent:plaza-p1-c1").as_deref(),
        Some(&b"2001"[..])
    );

    // Found again from the kv store alone, with no request.
    let before = host.requests().len();
    let found = Discord::find_published(&channel(), key).unwrap().unwrap();
    assert_eq!(found.remote_id, "2001");
    assert_eq!(host.requests().len(), before);
}

#[test]
fn empty_or_oversized_posts_are_refused_before_sending() {
    let host = connected();
    assert!(matches!(
        Discord::publish(&channel(), Post::new("  ")),
        Err(PluginError::Invalid(_))
    ));
    let long = "x".repeat(4000);
    let options = json!({ "embeds": [{ "description": long }, { "description": long }] });
    assert!(matches!(
        Discord::publish(&channel(), Post::new("hi").options(options.to_string())),
        Err(PluginError::Invalid(reason)) if reason.contains("6000")
    ));
    assert!(matches!(
        Discord::publish(&channel(), Post::new("hi").options(r#"{"colour": 1}"#)),
        Err(PluginError::Invalid(_))
    ));
    assert!(host.requests().is_empty());
}

#[test]
fn media_goes_in_one_multipart_message() {
    let host = connected();
    host.media("m1", b"PNGDATA".to_vec());
    host.media("m2", b"MP4DATA".to_vec());
    host.on(
        "POST",
        &url("/channels/1100/messages"),
        Response::json_body(200, &message("2002", CHANNEL, BOT, "Photos")),
    );
    let post = Post::new("Photos")
        .idempotency_key("k-media")
        .media(MediaRef::new("m1", "image/png", 7).alt_text("A cup"))
        .media(MediaRef::new("m2", "video/mp4", 7));
    let published = Discord::publish(&channel(), post).unwrap();
    assert_eq!(published.remote_id, "2002");

    let sent = host.last_request().unwrap();
    let content_type = sent.header_value("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap();
    let body = sent.body_text();
    let parts: Vec<&str> = body.split(&format!("--{boundary}")).collect();
    assert_eq!(
        parts.len(),
        5,
        "payload, two files, the closing marker: {body}"
    );
    assert!(parts[1].contains("name=\"payload_json\""));
    let json_start = parts[1].find('{').unwrap();
    let payload: Value = serde_json::from_str(parts[1][json_start..].trim()).unwrap();
    assert_eq!(payload["content"], "Photos");
    assert_eq!(payload["nonce"], nonce("k-media"));
    assert_eq!(
        payload["attachments"],
        json!([
            { "id": 0, "filename": "attachment-1.png", "description": "A cup" },
            { "id": 1, "filename": "attachment-2.mp4" }
        ])
    );
    assert!(parts[2].contains("name=\"files[0]\"; filename=\"attachment-1.png\""));
    assert!(parts[2].contains("Content-Type: image/png\r\n\r\nPNGDATA\r\n"));
    assert!(parts[3].contains("name=\"files[1]\"; filename=\"attachment-2.mp4\""));
    assert!(parts[3].contains("MP4DATA"));
    assert_eq!(parts[4], "--\r\n");
}

#[test]
fn follow_ups_go_into_a_thread_started_from_the_first_message() {
    let host = connected();
    host.on(
        "POST",
        &url("/channels/1100/messages"),
        Response::json_body(200, &message("2001", CHANNEL, BOT, "Spring roast\nmore")),
    );
    Discord::publish(
        &channel(),
        Post::new("Spring roast\nmore").idempotency_key("k"),
    )
    .unwrap();

    host.on(
        "POST",
        &url("/channels/1100/messages/2001/threads"),
        Response::json_body(201, &json!({ "id": "2001", "type": 11, "guild_id": GUILD, "parent_id": CHANNEL, "name": "Spring roast" })),
    );
    host.on(
        "POST",
        &url("/channels/2001/messages"),
        Response::json_body(200, &message("2003", "2001", BOT, "Notes: cherry")),
    );
    let first = Discord::publish(
        &channel(),
        Post::new("Notes: cherry")
            .reply_to("2001")
            .idempotency_key("k-0"),
    )
    .unwrap();
    assert_eq!(first.remote_id, "2001/2003");
    assert_eq!(
        first.url.as_deref(),
        Some("https://discord.com/channels/1000/2001/2003")
    );
    let requests = host.requests();
    let thread = requests
        .iter()
        .find(|r| r.url().ends_with("/threads"))
        .unwrap();
    assert_eq!(
        thread.body_json::<Value>().unwrap(),
        json!({ "name": "Spring roast", "auto_archive_duration": 1440 })
    );

    // The next part goes straight into the thread.
    host.on(
        "POST",
        &url("/channels/2001/messages"),
        Response::json_body(200, &message("2004", "2001", BOT, "Notes: cocoa")),
    );
    let before = host.requests().len();
    let second = Discord::publish(
        &channel(),
        Post::new("Notes: cocoa")
            .reply_to("2001/2003")
            .idempotency_key("k-1"),
    )
    .unwrap();
    assert_eq!(second.remote_id, "2001/2004");
    let after = host.requests();
    assert_eq!(after.len(), before + 1);
    assert_eq!(after.last().unwrap().url(), url("/channels/2001/messages"));
}

#[test]
fn a_thread_started_before_is_reused() {
    let host = connected();
    host.on(
        "GET",
        &url("/channels/1100/messages/2001"),
        Response::json_body(200, &message("2001", CHANNEL, BOT, "Root")),
    );
    host.on(
        "POST",
        &url("/channels/1100/messages/2001/threads"),
        error(400, &json!({ "message": "A thread has already been created for this message", "code": 160_004 })),
    );
    host.on(
        "POST",
        &url("/channels/2001/messages"),
        Response::json_body(200, &message("2005", "2001", BOT, "More")),
    );
    let part = Discord::publish(
        &channel(),
        Post::new("More").reply_to("2001").idempotency_key("k-0"),
    )
    .unwrap();
    assert_eq!(part.remote_id, "2001/2005");
    assert_eq!(host.kv_get("thread:2001").as_deref(), Some(&b"2001"[..]));
}

#[test]
fn find_published_scans_the_bots_recent_messages_for_the_nonce() {
    let host = connected();
    let mut mine = message("3002", CHANNEL, BOT, "Hello");
    mine["nonce"] = json!(nonce("plaza-k"));
    let mut imposter = message("3003", CHANNEL, READER, "Hello");
    imposter["nonce"] = json!(nonce("plaza-k"));
    host.on(
        "GET",
        &url("/channels/1100/messages?limit=100"),
        Response::json_body(
            200,
            &json!([imposter, mine, message("3001", CHANNEL, BOT, "old")]),
        ),
    );
    let found = Discord::find_published(&channel(), "plaza-k")
        .unwrap()
        .unwrap();
    assert_eq!(found.remote_id, "3002");
    assert_eq!(host.kv_get("sent:plaza-k").as_deref(), Some(&b"3002"[..]));
    assert_eq!(
        Discord::find_published(&channel(), "plaza-other").unwrap(),
        None
    );
}

#[test]
fn find_published_reads_a_follow_ups_thread_and_errors_are_not_absence() {
    let host = connected();
    host.kv_set("sent:plaza-k", "3002");
    host.on(
        "GET",
        &url("/channels/1100/messages?limit=100"),
        Response::json_body(200, &json!([])),
    );
    let mut part = message("3010", "3002", BOT, "part");
    part["nonce"] = json!(nonce("plaza-k-0"));
    host.on(
        "GET",
        &url("/channels/3002/messages?limit=100"),
        Response::json_body(200, &json!([part])),
    );
    let found = Discord::find_published(&channel(), "plaza-k-0")
        .unwrap()
        .unwrap();
    assert_eq!(found.remote_id, "3002/3010");

    // A thread never started: not there.
    host.on(
        "GET",
        &url("/channels/3002/messages?limit=100"),
        error(404, &json!({ "message": "Unknown Channel", "code": 10003 })),
    );
    assert_eq!(
        Discord::find_published(&channel(), "plaza-k-1").unwrap(),
        None
    );

    // The channel cannot be read: an error, never "not published".
    host.on(
        "GET",
        &url("/channels/1100/messages?limit=100"),
        error(
            500,
            &json!({ "message": "500: Internal Server Error", "code": 0 }),
        ),
    );
    assert!(matches!(
        Discord::find_published(&channel(), "plaza-k-2"),
        Err(PluginError::Transient(_))
    ));
    assert!(matches!(
        Discord::find_published(&channel(), ""),
        Err(PluginError::Invalid(_))
    ));
}

fn mentioning(id: &str, author: &str, content: &str) -> Value {
    let mut m = message(id, CHANNEL, author, content);
    if let Some(fields) = m.as_object_mut() {
        fields.insert("mentions".into(), json!([user(BOT, "plaza-bot")]));
    }
    m
}

#[test]
fn mentions_are_others_messages_that_mention_the_bot_read_from_a_cursor() {
    let host = connected();
    let mut joined = mentioning("4004", READER, "");
    joined["type"] = json!(7);
    host.on(
        "GET",
        &url("/channels/1100/messages?limit=50"),
        Response::json_body(
            200,
            &json!([
                joined,
                mentioning("4003", READER, "<@900> hello"),
                mentioning("4002", BOT, "<@900> talking to myself"),
                message("4001", CHANNEL, READER, "no mention"),
            ]),
        ),
    );
    let page = Discord::fetch_mentions(&channel(), None, 50).unwrap();
    assert_eq!(page.items.len(), 1, "{page:?}");
    let item = &page.items[0];
    assert_eq!(item.kind, ItemKind::Mention);
    assert_eq!(item.remote_id, "4003");
    assert_eq!(item.text, "<@900> hello");
    assert_eq!(item.author.remote_id, READER);
    assert_eq!(item.author.handle, "rita");
    assert_eq!(item.author.display_name.as_deref(), Some("rita display"));
    assert_eq!(item.created_at, "2023-11-14T22:00:00.000000+00:00");
    assert_eq!(
        item.url.as_deref(),
        Some("https://discord.com/channels/1000/1100/4003")
    );
    assert_eq!(page.next_cursor.as_deref(), Some("4004"));

    // From the cursor: `after=`; nothing new keeps the cursor.
    host.on(
        "GET",
        &url("/channels/1100/messages?limit=50&after=4004"),
        Response::json_body(200, &json!([])),
    );
    let again = Discord::fetch_mentions(&channel(), Some("4004"), 50).unwrap();
    assert!(again.items.is_empty());
    assert_eq!(again.next_cursor.as_deref(), Some("4004"));
}

#[test]
fn comments_are_the_posts_thread_and_replies_to_it() {
    let host = connected();
    let mut reply = message("5003", CHANNEL, READER, "replying");
    reply["type"] = json!(19);
    reply["message_reference"] =
        json!({ "message_id": "2001", "channel_id": CHANNEL, "guild_id": GUILD });
    let mut other_reply = message("5004", CHANNEL, READER, "other");
    other_reply["type"] = json!(19);
    other_reply["message_reference"] = json!({ "message_id": "1999", "channel_id": CHANNEL });
    host.on(
        "GET",
        &url("/channels/1100/messages?limit=10&after=5000"),
        Response::json_body(200, &json!([other_reply, reply])),
    );
    let mut starter = message("5001", "2001", BOT, "");
    starter["type"] = json!(21);
    host.on(
        "GET",
        &url("/channels/2001/messages?limit=10&after=5000"),
        Response::json_body(
            200,
            &json!([
                message("5005", "2001", READER, "in the thread"),
                message("5002", "2001", BOT, "our follow-up"),
                starter
            ]),
        ),
    );
    let page = Discord::fetch_comments(&channel(), "2001", Some("5000"), 10).unwrap();
    let ids: Vec<&str> = page.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["2001/5005", "5003"], "newest first: {page:?}");
    let in_thread = &page.items[0];
    assert_eq!(in_thread.kind, ItemKind::Comment);
    assert_eq!(in_thread.thread_id.as_deref(), Some("2001"));
    assert_eq!(in_thread.parent_id.as_deref(), Some("2001"));
    assert_eq!(in_thread.post_id.as_deref(), Some("2001"));
    assert_eq!(page.items[1].parent_id.as_deref(), Some("2001"));
    assert_eq!(page.next_cursor.as_deref(), Some("5005"));
}

#[test]
fn comments_without_a_thread_and_with_a_full_page_keep_their_place() {
    let host = connected();
    // The channel answers a full page (2 of 2): there may be more after 5002.
    let mut r1 = message("5001", CHANNEL, READER, "a");
    r1["message_reference"] = json!({ "message_id": "2001" });
    let mut r2 = message("5002", CHANNEL, READER, "b");
    r2["message_reference"] = json!({ "message_id": "2001" });
    host.on(
        "GET",
        &url("/channels/1100/messages?limit=2"),
        Response::json_body(200, &json!([r2, r1])),
    );
    host.on(
        "GET",
        &url("/channels/2001/messages?limit=2"),
        Response::json_body(
            200,
            &json!([message("5009", "2001", READER, "later, in the thread")]),
        ),
    );
    let page = Discord::fetch_comments(&channel(), "2001", None, 2).unwrap();
    let ids: Vec<&str> = page.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["5002", "5001"], "5009 waits for the next page");
    assert_eq!(page.next_cursor.as_deref(), Some("5002"));

    // No thread yet: Unknown Channel reads as no comments there.
    host.on(
        "GET",
        &url("/channels/2001/messages?limit=2"),
        error(404, &json!({ "message": "Unknown Channel", "code": 10003 })),
    );
    let page = Discord::fetch_comments(&channel(), "2001", None, 2).unwrap();
    assert_eq!(page.items.len(), 2);
}

#[test]
fn replies_reference_the_message_in_its_channel() {
    let host = connected();
    host.on(
        "POST",
        &url("/channels/2001/messages"),
        Response::json_body(200, &message("6001", "2001", BOT, "Thanks!")),
    );
    let published = Discord::reply(
        &channel(),
        "2001/5005",
        Post::new("Thanks!").idempotency_key("r1"),
    )
    .unwrap();
    assert_eq!(published.remote_id, "2001/6001");
    let body: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(
        body["message_reference"],
        json!({ "message_id": "5005", "channel_id": "2001", "guild_id": GUILD, "fail_if_not_exists": true })
    );
    assert_eq!(body["nonce"], nonce("r1"));
    assert!(matches!(
        Discord::reply(&channel(), "interaction:77", Post::new("x")),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn deleting_posts_and_comments() {
    let host = connected();
    host.on(
        "DELETE",
        &url("/channels/1100/messages/2001"),
        Response::new(204),
    );
    host.on(
        "DELETE",
        &url("/channels/2001/messages/2003"),
        Response::new(204),
    );
    Discord::delete_post(&channel(), "2001").unwrap();
    Discord::delete_post(&channel(), "2001/2003").unwrap();
    let sent = host.last_request().unwrap();
    assert_eq!(sent.method(), "DELETE");
    assert!(
        sent.header_value("x-audit-log-reason")
            .unwrap()
            .starts_with("Plaza")
    );

    host.on(
        "DELETE",
        &url("/channels/1100/messages/5003"),
        error(
            403,
            &json!({ "message": "Missing Permissions", "code": 50013 }),
        ),
    );
    assert!(matches!(
        Discord::moderate(&channel(), "5003", Moderation::Delete),
        Err(PluginError::Invalid(reason)) if reason.contains("50013")
    ));
    host.on(
        "DELETE",
        &url("/channels/1100/messages/5004"),
        error(404, &json!({ "message": "Unknown Message", "code": 10008 })),
    );
    assert_eq!(
        Discord::delete_post(&channel(), "5004"),
        Err(PluginError::NotFound)
    );
    assert!(matches!(
        Discord::delete_post(&channel(), "not-an-id"),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn block_bans_and_mute_times_the_author_out() {
    let host = connected();
    host.on(
        "GET",
        &url("/channels/1100/messages/5003"),
        Response::json_body(200, &message("5003", CHANNEL, READER, "spam")),
    );
    host.on("PUT", &url("/guilds/1000/bans/901"), Response::new(204));
    Discord::moderate(&channel(), "5003", Moderation::BlockAuthor).unwrap();
    let ban = host.last_request().unwrap();
    assert_eq!(
        ban.body_json::<Value>().unwrap(),
        json!({ "delete_message_seconds": 0 })
    );

    host.on(
        "PATCH",
        &url("/guilds/1000/members/901"),
        Response::json_body(200, &json!({ "user": user(READER, "rita"), "roles": [] })),
    );
    Discord::moderate(&channel(), "5003", Moderation::MuteAuthor).unwrap();
    let timeout = host.last_request().unwrap();
    assert_eq!(
        timeout.body_json::<Value>().unwrap(),
        json!({ "communication_disabled_until": "2023-11-14T23:13:20Z" })
    );

    let custom = Channel::with_config(
        "ch-1",
        &json!({ "channel_id": CHANNEL, "guild_id": GUILD, "api_base_url": API, "timeout_minutes": 1440 }),
    );
    Discord::moderate(&custom, "5003", Moderation::MuteAuthor).unwrap();
    let body: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(body["communication_disabled_until"], "2023-11-15T22:13:20Z");

    for action in [Moderation::Hide, Moderation::Unhide, Moderation::Report] {
        assert_eq!(
            Discord::moderate(&channel(), "5003", action),
            Err(PluginError::Unsupported)
        );
    }
}

#[test]
fn credentials_name_the_bot_and_check_the_channel_is_in_the_server() {
    let host = connected();
    host.on(
        "GET",
        &url("/channels/1100"),
        Response::json_body(
            200,
            &json!({ "id": CHANNEL, "type": 0, "guild_id": GUILD, "name": "general" }),
        ),
    );
    host.on(
        "GET",
        &url("/guilds/1000?with_counts=true"),
        Response::json_body(200, &json!({ "id": GUILD, "name": "Acme", "approximate_member_count": 42, "approximate_presence_count": 7 })),
    );
    let me = Discord::check_credentials(&channel()).unwrap();
    assert_eq!(me.remote_id, BOT);
    assert_eq!(me.handle, "plaza-bot");
    assert_eq!(me.followers, Some(42));
    let metrics = Discord::account_metrics(&channel()).unwrap();
    let value = |name: &str| metrics.iter().find(|m| m.name == name).map(|m| m.value);
    assert_eq!(value("followers"), Some(42.0));
    assert_eq!(value("x_online_members"), Some(7.0));

    host.on(
        "GET",
        &url("/channels/1100"),
        Response::json_body(200, &json!({ "id": CHANNEL, "type": 0, "guild_id": "777" })),
    );
    assert!(matches!(
        Discord::check_credentials(&channel()),
        Err(PluginError::Invalid(reason)) if reason.contains("not in server")
    ));

    host.on(
        "GET",
        &url("/users/@me"),
        error(401, &json!({ "message": "401: Unauthorized", "code": 0 })),
    );
    assert!(matches!(
        Discord::check_credentials(&channel()),
        Err(PluginError::Unauthorized(_))
    ));
    host.remove_credential("bot_token");
    assert!(matches!(
        Discord::check_credentials(&channel()),
        Err(PluginError::Unauthorized(_))
    ));
}

fn application_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn interactions_channel() -> Channel {
    let mut config = config();
    if let Some(fields) = config.as_object_mut() {
        let key = hex(application_key().verifying_key().as_bytes());
        fields.insert("public_key".into(), key.into());
    }
    Channel::with_config("ch-1", &config)
}

/// A request signed as Discord signs one: `timestamp + body`.
fn signed(key: &SigningKey, timestamp: &str, body: &Value) -> WebhookRequest {
    let body = body.to_string().into_bytes();
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(&body);
    let signature = key.sign(&message);
    WebhookRequest {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: vec![
            ("X-Signature-Ed25519".into(), hex(&signature.to_bytes())),
            ("X-Signature-Timestamp".into(), timestamp.into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body,
    }
}

const NOW_SECS: &str = "1700000000";

#[test]
fn a_signed_ping_is_answered_with_a_pong() {
    let _host = TestHost::new();
    let ping = json!({ "id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1 });
    let request = signed(&application_key(), NOW_SECS, &ping);
    assert_eq!(
        Discord::verify_webhook(&interactions_channel(), &request),
        Ok(())
    );
    let outcome = Discord::parse_webhook(&interactions_channel(), &request).unwrap();
    assert!(outcome.items.is_empty());
    let reply = outcome.reply.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_slice::<Value>(&reply.body).unwrap(),
        json!({ "type": 1 })
    );
}

#[test]
fn forged_stale_and_malformed_signatures_are_refused() {
    let host = TestHost::new();
    let ping = json!({ "id": "1", "type": 1 });
    let unauthorized = |request: &WebhookRequest| {
        matches!(
            Discord::verify_webhook(&interactions_channel(), request),
            Err(PluginError::Unauthorized(_))
        )
    };
    // Signed with another key.
    let forged = signed(&SigningKey::from_bytes(&[8; 32]), NOW_SECS, &ping);
    assert!(unauthorized(&forged));
    // The body changed after signing.
    let mut tampered = signed(&application_key(), NOW_SECS, &ping);
    tampered.body = br#"{"id":"1","type":2}"#.to_vec();
    assert!(unauthorized(&tampered));
    assert!(matches!(
        Discord::parse_webhook(&interactions_channel(), &tampered),
        Err(PluginError::Unauthorized(_))
    ));
    // The timestamp changed after signing.
    let mut retimed = signed(&application_key(), NOW_SECS, &ping);
    retimed.headers[1].1 = "1700000001".into();
    assert!(unauthorized(&retimed));
    // Correctly signed but ten minutes old: a replay.
    let stale = signed(&application_key(), "1699999400", &ping);
    assert!(unauthorized(&stale));
    host.set_now_ms(1_699_999_400_000);
    assert!(!unauthorized(&stale), "fresh at the time it was sent");
    host.set_now_ms(DEFAULT_NOW_MS);
    // Not hex, the wrong length, missing.
    let mut not_hex = signed(&application_key(), NOW_SECS, &ping);
    not_hex.headers[0].1 = "zz".repeat(64);
    assert!(unauthorized(&not_hex));
    let mut short = signed(&application_key(), NOW_SECS, &ping);
    short.headers[0].1.truncate(100);
    assert!(unauthorized(&short));
    let mut unsigned = signed(&application_key(), NOW_SECS, &ping);
    unsigned.headers.remove(0);
    assert!(unauthorized(&unsigned));
    let mut no_time = signed(&application_key(), NOW_SECS, &ping);
    no_time.headers[1].1 = "yesterday".into();
    assert!(unauthorized(&no_time));
    // No public key configured: nothing can be verified.
    let request = signed(&application_key(), NOW_SECS, &ping);
    assert!(matches!(
        Discord::verify_webhook(&channel(), &request),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn commands_and_modals_become_items_with_a_private_acknowledgement() {
    let _host = TestHost::new();
    let command = json!({
        "id": "175928847299117063",
        "type": 2,
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "member": { "user": user(READER, "rita"), "nick": "Rita R", "roles": [] },
        "data": { "id": "3", "name": "support", "type": 1, "options": [
            { "name": "topic", "type": 3, "value": "refund" },
            { "name": "order", "type": 4, "value": 42 }
        ] },
        "token": "tok",
        "version": 1
    });
    let outcome = Discord::parse_webhook(
        &interactions_channel(),
        &signed(&application_key(), NOW_SECS, &command),
    )
    .unwrap();
    assert_eq!(outcome.items.len(), 1);
    let item = &outcome.items[0];
    assert_eq!(item.kind, ItemKind::Mention);
    assert_eq!(item.remote_id, "interaction:175928847299117063");
    assert_eq!(item.text, "/support topic=refund order=42");
    assert_eq!(item.author.remote_id, READER);
    assert_eq!(item.author.display_name.as_deref(), Some("Rita R"));
    assert_eq!(item.created_at, "2016-04-30T11:18:25.796Z");
    let reply: Value = serde_json::from_slice(&outcome.reply.unwrap().body).unwrap();
    assert_eq!(reply["type"], 4);
    assert_eq!(reply["data"]["flags"], 64);

    let modal = json!({
        "id": "175928847299117064",
        "type": 5,
        "user": user(READER, "rita"),
        "data": { "custom_id": "feedback", "components": [
            { "type": 1, "components": [{ "type": 4, "custom_id": "a", "value": "Great coffee" }] },
            { "type": 18, "component": { "type": 4, "custom_id": "b", "value": "More oat milk" } }
        ] }
    });
    let outcome = Discord::parse_webhook(
        &interactions_channel(),
        &signed(&application_key(), NOW_SECS, &modal),
    )
    .unwrap();
    assert_eq!(outcome.items[0].text, "Great coffee\nMore oat milk");

    let button = json!({ "id": "9", "type": 3, "data": { "custom_id": "x", "component_type": 2 } });
    let outcome = Discord::parse_webhook(
        &interactions_channel(),
        &signed(&application_key(), NOW_SECS, &button),
    )
    .unwrap();
    assert!(outcome.items.is_empty());
    let reply: Value = serde_json::from_slice(&outcome.reply.unwrap().body).unwrap();
    assert_eq!(reply, json!({ "type": 6 }));

    let garbage = signed(&application_key(), NOW_SECS, &json!({ "hello": 1 }));
    assert!(matches!(
        Discord::parse_webhook(&interactions_channel(), &garbage),
        Err(PluginError::Invalid(_))
    ));
}
