//! The Matrix plugin's logic, run natively against the SDK's test host.

use plaza_sdk::http::Response;
use plaza_sdk::testing::TestHost;
use plaza_sdk::{Capabilities, Channel, ItemKind, MediaRef, Moderation, Plugin, PluginError, Post};
use serde_json::{Value, json};

use super::{Matrix, markdown, txn_id};
use crate::api::matrix_error;

const HS: &str = "https://matrix.example.org";
const ROOM: &str = "!room:example.org";
/// The room id as it appears in paths.
const ROOM_PATH: &str = "%21room%3Aexample.org";
const ME: &str = "@plaza:example.org";

fn channel() -> Channel {
    Channel::with_config(
        "ch-1",
        &json!({ "homeserver": format!("{HS}/"), "room_id": ROOM }),
    )
}

fn room(rest: &str) -> String {
    format!("{HS}/_matrix/client/v3/rooms/{ROOM_PATH}{rest}")
}

fn connected() -> TestHost {
    let host = TestHost::new();
    host.credential("access_token", "syt_token");
    host.on(
        "GET",
        &format!("{HS}/_matrix/client/v3/account/whoami"),
        Response::json_body(200, &json!({ "user_id": ME, "device_id": "DEV" })),
    );
    host
}

fn error(status: u16, body: &Value) -> Response {
    Response::json_body(status, body)
}

fn sent_bodies(host: &TestHost) -> Vec<(String, Value)> {
    host.requests()
        .into_iter()
        .filter(|r| r.method() == "PUT" && r.url().contains("/send/"))
        .filter_map(|r| Some((r.url().to_owned(), r.body_json()?)))
        .collect()
}

#[test]
fn describe_declares_a_room_channel() {
    let manifest = Matrix::describe();
    assert_eq!(manifest.id, "matrix");
    assert_eq!(manifest.allowed_hosts, ["{config.homeserver}"]);
    assert!(manifest.capabilities.contains(
        Capabilities::PUBLISH
            | Capabilities::THREADS
            | Capabilities::MENTIONS
            | Capabilities::REPLY
            | Capabilities::DELETE_POST
            | Capabilities::ACCOUNT_METRICS
    ));
    let schema: Value = serde_json::from_str(&manifest.config_schema).unwrap();
    assert_eq!(schema["required"], json!(["homeserver", "room_id"]));
}

#[test]
fn configs_need_a_homeserver_url_and_a_room_id() {
    assert_eq!(
        Matrix::validate_config(
            r#"{"homeserver": "http://127.0.0.1:8008", "room_id": "!abc:localhost"}"#
        ),
        Ok(())
    );
    for bad in [
        r#"{"homeserver": "ftp://x", "room_id": "!a:b"}"#,
        r##"{"homeserver": "https://x", "room_id": "#alias:b"}"##,
        r#"{"homeserver": "https://x"}"#,
        r#"{"homeserver": "https://x", "room_id": "!a:b", "extra": 1}"#,
    ] {
        assert!(
            matches!(Matrix::validate_config(bad), Err(PluginError::Invalid(_))),
            "{bad}"
        );
    }
}

#[test]
fn markdown_becomes_matrix_html_and_plain_text_stays_plain() {
    assert_eq!(markdown::to_html("Spring roast"), None);
    assert_eq!(markdown::to_html("Fish & chips"), None);
    assert_eq!(
        markdown::to_html("**Spring** roast, _cherry_ and `code`").as_deref(),
        Some("<strong>Spring</strong> roast, <em>cherry</em> and <code>code</code>")
    );
    assert_eq!(
        markdown::to_html("[Menu](https://example.com/menu)").as_deref(),
        Some(r#"<a href="https://example.com/menu">Menu</a>"#)
    );
    assert_eq!(
        markdown::to_html("line one\nline two").as_deref(),
        Some("line one<br />\nline two")
    );
    // Several blocks keep their paragraphs.
    let two = markdown::to_html("First\n\n- a\n- b").unwrap();
    assert!(
        two.starts_with("<p>First</p>") && two.contains("<li>a</li>"),
        "{two}"
    );
    // Raw HTML is shown, never passed through.
    let html = markdown::to_html("hi <script>alert(1)</script> **x**").unwrap();
    assert!(
        html.contains("&lt;script&gt;") && !html.contains("<script>"),
        "{html}"
    );
}

#[test]
fn matrix_errors_map_to_plugin_errors() {
    let limited = error(
        429,
        &json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too many", "retry_after_ms": 2500}),
    );
    assert_eq!(matrix_error(&limited), PluginError::RateLimited(Some(3)));
    let header = limited.with_header("Retry-After", "7");
    assert_eq!(
        matrix_error(&header),
        PluginError::RateLimited(Some(7)),
        "the header wins"
    );
    let bare = error(
        429,
        &json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too many"}),
    );
    assert_eq!(matrix_error(&bare), PluginError::RateLimited(None));

    let token = error(
        401,
        &json!({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed.", "soft_logout": false}),
    );
    assert_eq!(
        matrix_error(&token),
        PluginError::Unauthorized("M_UNKNOWN_TOKEN: Invalid access token passed.".into())
    );
    let missing = error(
        401,
        &json!({"errcode": "M_MISSING_TOKEN", "error": "Missing"}),
    );
    assert!(matches!(
        matrix_error(&missing),
        PluginError::Unauthorized(_)
    ));

    let forbidden = error(
        403,
        &json!({"errcode": "M_FORBIDDEN", "error": "You don't have permission to ban"}),
    );
    match matrix_error(&forbidden) {
        PluginError::Invalid(reason) => assert!(reason.starts_with("M_FORBIDDEN"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let not_found = error(
        404,
        &json!({"errcode": "M_NOT_FOUND", "error": "Event not found."}),
    );
    assert_eq!(matrix_error(&not_found), PluginError::NotFound);
    assert_eq!(
        matrix_error(&Response::text_body(404, "nope")),
        PluginError::NotFound
    );
    let unrecognized = error(
        404,
        &json!({"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}),
    );
    assert_eq!(matrix_error(&unrecognized), PluginError::Unsupported);
    let too_large = error(
        413,
        &json!({"errcode": "M_TOO_LARGE", "error": "Upload too large"}),
    );
    assert!(matches!(matrix_error(&too_large), PluginError::Invalid(_)));
    let down = Response::text_body(502, "Bad Gateway");
    match matrix_error(&down) {
        PluginError::Transient(reason) => assert!(reason.contains("502"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn transaction_ids_come_from_the_idempotency_key() {
    assert_eq!(txn_id("plaza-p1-c1", None), "plaza-p1-c1");
    assert_eq!(txn_id("plaza-p1-c1", Some(0)), "plaza-p1-c1.media0");
    assert_ne!(txn_id("plaza-p1-c1-1", None), txn_id("plaza-p1-c1-2", None));
    let _host = TestHost::new();
    assert!(txn_id("", None).starts_with("plaza-unkeyed-"));
}

#[test]
fn publish_sends_html_with_the_key_as_transaction_id_and_remembers_it() {
    let host = connected();
    host.on(
        "PUT",
        &room("/send/m.room.message/plaza-p%2F1"),
        Response::json_body(200, &json!({"event_id": "$root"})),
    );
    let published =
        Matrix::publish(&channel(), Post::new("**Hi**").idempotency_key("plaza-p/1")).unwrap();
    assert_eq!(published.remote_id, "$root");
    assert_eq!(
        published.url.as_deref(),
        Some("https://matrix.to/#/%21room%3Aexample.org/%24root")
    );
    let sent = sent_bodies(&host);
    assert_eq!(sent.len(), 1);
    let content = &sent[0].1;
    assert_eq!(content["msgtype"], "m.text");
    assert_eq!(content["body"], "**Hi**");
    assert_eq!(content["format"], "org.matrix.custom.html");
    assert_eq!(content["formatted_body"], "<strong>Hi</strong>");
    assert_eq!(content["app.plaza.idempotency_key"], "plaza-p/1");
    assert_eq!(
        host.last_request().unwrap().header_value("authorization"),
        Some("Bearer syt_token")
    );
    assert_eq!(
        host.kv_get("sent:plaza-p/1").as_deref(),
        Some(&b"$root"[..])
    );

    // Found again from the kv store alone, with no request.
    let before = host.requests().len();
    let found = Matrix::find_published(&channel(), "plaza-p/1")
        .unwrap()
        .unwrap();
    assert_eq!(found.remote_id, "$root");
    assert_eq!(host.requests().len(), before);
}

#[test]
fn follow_ups_thread_under_the_root_and_reply_to_the_part_before() {
    let host = connected();
    // The root is a plain event; the first follow-up is threaded under it.
    host.on("GET", &room("/event/%24root"), Response::json_body(200, &json!({
        "event_id": "$root", "sender": ME, "type": "m.room.message", "content": {"msgtype": "m.text", "body": "root"}
    })));
    host.on(
        "PUT",
        &room("/send/m.room.message/k-1"),
        Response::json_body(200, &json!({"event_id": "$one"})),
    );
    host.on(
        "PUT",
        &room("/send/m.room.message/k-2"),
        Response::json_body(200, &json!({"event_id": "$two"})),
    );
    Matrix::publish(
        &channel(),
        Post::new("one").reply_to("$root").idempotency_key("k-1"),
    )
    .unwrap();
    // The second follow-up answers $one: its root comes from the kv store.
    Matrix::publish(
        &channel(),
        Post::new("two").reply_to("$one").idempotency_key("k-2"),
    )
    .unwrap();
    let event_reads = host
        .requests()
        .iter()
        .filter(|r| r.url().contains("/event/"))
        .count();
    assert_eq!(
        event_reads, 1,
        "the root is looked up once, then remembered"
    );
    let sent = sent_bodies(&host);
    let one = &sent[0].1["m.relates_to"];
    assert_eq!(
        one,
        &json!({"rel_type": "m.thread", "event_id": "$root", "is_falling_back": true, "m.in_reply_to": {"event_id": "$root"}})
    );
    let two = &sent[1].1["m.relates_to"];
    assert_eq!(
        two,
        &json!({"rel_type": "m.thread", "event_id": "$root", "is_falling_back": true, "m.in_reply_to": {"event_id": "$one"}})
    );
}

#[test]
fn a_reply_to_a_thread_message_stays_in_the_thread_and_a_plain_one_does_not() {
    let host = connected();
    host.on("GET", &room("/event/%24inthread"), Response::json_body(200, &json!({
        "event_id": "$inthread", "sender": "@rita:example.org", "type": "m.room.message",
        "content": {"body": "q", "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}
    })));
    host.on("GET", &room("/event/%24plain"), Response::json_body(200, &json!({
        "event_id": "$plain", "sender": "@rita:example.org", "type": "m.room.message", "content": {"body": "q"}
    })));
    host.on(
        "PUT",
        &room("/send/m.room.message/r-1"),
        Response::json_body(200, &json!({"event_id": "$a1"})),
    );
    host.on(
        "PUT",
        &room("/send/m.room.message/r-2"),
        Response::json_body(200, &json!({"event_id": "$a2"})),
    );
    Matrix::reply(
        &channel(),
        "$inthread",
        Post::new("thanks").idempotency_key("r-1"),
    )
    .unwrap();
    Matrix::reply(
        &channel(),
        "$plain",
        Post::new("thanks").idempotency_key("r-2"),
    )
    .unwrap();
    let sent = sent_bodies(&host);
    assert_eq!(
        sent[0].1["m.relates_to"],
        json!({"rel_type": "m.thread", "event_id": "$root", "is_falling_back": false, "m.in_reply_to": {"event_id": "$inthread"}})
    );
    assert_eq!(
        sent[1].1["m.relates_to"],
        json!({"m.in_reply_to": {"event_id": "$plain"}})
    );
}

#[test]
fn media_is_uploaded_then_sent_as_image_events() {
    let host = connected();
    host.media("m1", vec![0x89, b'P', b'N', b'G']);
    host.on(
        "POST",
        &format!("{HS}/_matrix/media/v3/upload?filename=attachment-1.png"),
        Response::json_body(200, &json!({"content_uri": "mxc://example.org/abc"})),
    );
    host.on(
        "PUT",
        &room("/send/m.room.message/k"),
        Response::json_body(200, &json!({"event_id": "$text"})),
    );
    host.on(
        "PUT",
        &room("/send/m.room.message/k.media0"),
        Response::json_body(200, &json!({"event_id": "$img"})),
    );
    let post = Post::new("look")
        .idempotency_key("k")
        .media(MediaRef::new("m1", "image/png", 4).alt_text("a cup"));
    let published = Matrix::publish(&channel(), post).unwrap();
    assert_eq!(published.remote_id, "$text");
    let upload = host
        .requests()
        .into_iter()
        .find(|r| r.url().contains("/upload"))
        .unwrap();
    assert_eq!(upload.header_value("content-type"), Some("image/png"));
    assert_eq!(upload.body(), Some(&[0x89, b'P', b'N', b'G'][..]));
    let sent = sent_bodies(&host);
    assert_eq!(sent[1].1["msgtype"], "m.image");
    assert_eq!(sent[1].1["url"], "mxc://example.org/abc");
    assert_eq!(sent[1].1["body"], "a cup");
    assert_eq!(
        sent[1].1["info"],
        json!({"mimetype": "image/png", "size": 4})
    );

    // Deleting the post redacts the image too.
    host.on(
        "PUT",
        &room("/redact/%24text/plaza-redact-%24text"),
        Response::json_body(200, &json!({"event_id": "$r1"})),
    );
    host.on(
        "PUT",
        &room("/redact/%24img/plaza-redact-%24img"),
        Response::json_body(200, &json!({"event_id": "$r2"})),
    );
    Matrix::delete_post(&channel(), "$text").unwrap();
    let redactions = host
        .requests()
        .iter()
        .filter(|r| r.url().contains("/redact/"))
        .count();
    assert_eq!(redactions, 2);
}

#[test]
fn find_published_reads_own_events_when_the_kv_store_missed_the_send() {
    let host = connected();
    let filter = json!({"types": ["m.room.message"], "senders": [ME]}).to_string();
    let url = format!(
        "{}?dir=b&limit=100&filter={}",
        room("/messages"),
        plaza_sdk::http::encode_component(&filter)
    );
    host.on("GET", &url, Response::json_body(200, &json!({
        "chunk": [
            {"event_id": "$other", "sender": ME, "type": "m.room.message", "content": {"body": "x", "app.plaza.idempotency_key": "k-other"}},
            {"event_id": "$mine", "sender": ME, "type": "m.room.message", "content": {"body": "y"}, "unsigned": {"transaction_id": "k-1"}}
        ],
        "start": "s1"
    })));
    let found = Matrix::find_published(&channel(), "k-1").unwrap().unwrap();
    assert_eq!(found.remote_id, "$mine");
    assert_eq!(Matrix::find_published(&channel(), "k-none").unwrap(), None);
    assert!(
        host.requests().iter().all(|r| r.method() == "GET"),
        "a lookup never sends"
    );

    // "Cannot tell" is an error, never "not there".
    host.on("GET", &url, error(502, &json!({})));
    assert!(matches!(
        Matrix::find_published(&channel(), "k-2"),
        Err(PluginError::Transient(_))
    ));
    assert!(matches!(
        Matrix::find_published(&channel(), ""),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn mentions_page_forward_from_the_cursor_and_keep_it_when_nothing_is_new() {
    let host = connected();
    let filter =
        json!({"types": ["m.room.message"], "not_senders": [ME], "lazy_load_members": true})
            .to_string();
    let base = format!(
        "{}?dir=f&limit=50&filter={}",
        room("/messages"),
        plaza_sdk::http::encode_component(&filter)
    );
    host.on("GET", &base, Response::json_body(200, &json!({
        "chunk": [
            {"event_id": "$1", "sender": "@rita:example.org", "type": "m.room.message", "origin_server_ts": 1_700_000_000_123_u64,
             "content": {"msgtype": "m.text", "body": "hello", "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}},
            {"event_id": "$2", "sender": ME, "type": "m.room.message", "content": {"body": "mine"}},
            {"event_id": "$3", "sender": "@sam:example.org", "type": "m.room.message", "content": {}}
        ],
        "start": "t0",
        "end": "t1",
        "state": [{"event_id": "$m", "sender": "@rita:example.org", "type": "m.room.member", "state_key": "@rita:example.org",
                   "content": {"membership": "join", "displayname": "Rita"}}]
    })));
    host.on(
        "GET",
        &format!("{base}&from=t1"),
        Response::json_body(200, &json!({"chunk": [], "start": "t1"})),
    );

    let page = Matrix::fetch_mentions(&channel(), None, 50).unwrap();
    assert_eq!(
        page.items.len(),
        1,
        "own and redacted events are left out: {page:?}"
    );
    let item = &page.items[0];
    assert_eq!(item.kind, ItemKind::Mention);
    assert_eq!(item.remote_id, "$1");
    assert_eq!(item.text, "hello");
    assert_eq!(item.author.remote_id, "@rita:example.org");
    assert_eq!(item.author.display_name.as_deref(), Some("Rita"));
    assert_eq!(item.thread_id.as_deref(), Some("$root"));
    assert_eq!(item.created_at, "2023-11-14T22:13:20.123Z");
    assert_eq!(page.next_cursor.as_deref(), Some("t1"));

    let empty = Matrix::fetch_mentions(&channel(), Some("t1"), 50).unwrap();
    assert!(empty.items.is_empty());
    assert_eq!(
        empty.next_cursor.as_deref(),
        Some("t1"),
        "no `end`: stay put"
    );

    // Comments are the messages of one post's thread.
    let comments = Matrix::fetch_comments(&channel(), "$root", None, 50).unwrap();
    assert_eq!(comments.items.len(), 1);
    assert_eq!(comments.items[0].kind, ItemKind::Comment);
    assert!(
        Matrix::fetch_comments(&channel(), "$elsewhere", None, 50)
            .unwrap()
            .items
            .is_empty()
    );

    // A bad cursor is the homeserver's M_INVALID_PARAM: invalid input.
    host.on(
        "GET",
        &format!("{base}&from=junk"),
        error(
            400,
            &json!({"errcode": "M_INVALID_PARAM", "error": "Invalid stream token"}),
        ),
    );
    assert!(matches!(
        Matrix::fetch_mentions(&channel(), Some("junk"), 50),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn moderation_redacts_bans_and_kicks() {
    let host = connected();
    host.on(
        "PUT",
        &room("/redact/%24e/plaza-redact-%24e"),
        Response::json_body(200, &json!({"event_id": "$r"})),
    );
    host.on("GET", &room("/event/%24e"), Response::json_body(200, &json!({
        "event_id": "$e", "sender": "@troll:example.org", "type": "m.room.message", "content": {"body": "spam"}
    })));
    host.on("POST", &room("/ban"), Response::json_body(200, &json!({})));
    host.on(
        "POST",
        &room("/kick"),
        error(
            403,
            &json!({"errcode": "M_FORBIDDEN", "error": "You cannot kick user"}),
        ),
    );

    Matrix::moderate(&channel(), "$e", Moderation::Delete).unwrap();
    Matrix::moderate(&channel(), "$e", Moderation::BlockAuthor).unwrap();
    let ban = host
        .requests()
        .into_iter()
        .find(|r| r.url().ends_with("/ban"))
        .unwrap();
    assert_eq!(
        ban.body_json::<Value>().unwrap()["user_id"],
        "@troll:example.org"
    );
    assert!(matches!(
        Matrix::moderate(&channel(), "@troll:example.org", Moderation::MuteAuthor),
        Err(PluginError::Invalid(_))
    ));
    assert_eq!(
        Matrix::moderate(&channel(), "$e", Moderation::Report),
        Err(PluginError::Unsupported)
    );
}

#[test]
fn account_metrics_count_joined_members() {
    let host = connected();
    host.on(
        "GET",
        &room("/joined_members"),
        Response::json_body(
            200,
            &json!({"joined": {
                ME: {"display_name": "Plaza"}, "@a:example.org": {}, "@b:example.org": {}
            }}),
        ),
    );
    let metrics = Matrix::account_metrics(&channel()).unwrap();
    let value = |name: &str| metrics.iter().find(|m| m.name == name).map(|m| m.value);
    assert_eq!(value("followers"), Some(2.0));
    assert_eq!(value("x_joined_members"), Some(3.0));

    host.remove_credential("access_token");
    assert!(matches!(
        Matrix::account_metrics(&channel()),
        Err(PluginError::Unauthorized(_))
    ));
}
