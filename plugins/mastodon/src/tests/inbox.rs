//! Mentions, comments, replies and moderation.

use plaza_sdk::http::Response;
use plaza_sdk::{ItemKind, Moderation, Plugin, PluginError, Post};
use serde_json::{Value, json};

use super::{INSTANCE, Mastodon, account, channel, connected, own_status, status, url};

fn mention(id: &str, status_id: &str, text_html: &str) -> Value {
    // The `Notification` entity's documented shape for a `mention`.
    json!({
        "id": id,
        "type": "mention",
        "created_at": "2019-11-23T07:49:02.064Z",
        "account": account("971724", "zsc@mastodon.example", "Zach"),
        "status": status(status_id, &account("971724", "zsc@other.example", "Zach"), text_html, None)
    })
}

#[test]
fn mentions_are_read_from_mention_notifications() {
    let host = connected();
    let mut with_cw = mention(
        "34975861",
        "103186126728896492",
        "<p><span class=\"h-card\"><a href=\"https://mastodon.example/@trwnh\" class=\"u-url mention\">@<span>trwnh</span></a></span> hello &amp; welcome</p>",
    );
    with_cw["status"]["spoiler_text"] = json!("greeting");
    host.on(
        "GET",
        &url("/api/v1/notifications?types%5B%5D=mention&limit=20"),
        Response::json_body(200, &json!([with_cw, mention("34975535", "103186100000000000", "<p>older</p>")]))
            .with_header(
                "Link",
                "<https://mastodon.example/api/v1/notifications?max_id=34975535>; rel=\"next\", <https://mastodon.example/api/v1/notifications?min_id=34975861>; rel=\"prev\"",
            ),
    );

    let page = Mastodon::fetch_mentions(&channel(), None, 20).unwrap();

    assert_eq!(page.next_cursor.as_deref(), Some("34975861"));
    assert_eq!(page.items.len(), 2);
    let item = &page.items[0];
    assert_eq!(item.kind, ItemKind::Mention);
    assert_eq!(
        item.remote_id, "103186126728896492",
        "the status, so it can be answered"
    );
    assert_eq!(item.text, "CW: greeting\n\n@trwnh hello & welcome");
    assert_eq!(item.author.remote_id, "971724");
    assert_eq!(item.author.handle, "zsc@other.example");
    assert_eq!(item.author.display_name.as_deref(), Some("Zach"));
    assert_eq!(item.lang.as_deref(), Some("en"));
    assert_eq!(item.created_at, "2023-11-14T22:13:25.580Z");
    assert_eq!(
        item.url.as_deref(),
        Some(format!("{INSTANCE}/@x/103186126728896492").as_str())
    );
}

#[test]
fn mentions_continue_from_the_cursor_and_keep_it_when_nothing_is_new() {
    let host = connected();
    host.on(
        "GET",
        &url("/api/v1/notifications?types%5B%5D=mention&limit=80&min_id=34975861"),
        Response::json_body(200, &json!([])),
    );
    let page = Mastodon::fetch_mentions(&channel(), Some("34975861"), 500).unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.next_cursor.as_deref(), Some("34975861"));

    host.on(
        "GET",
        &url("/api/v1/notifications?types%5B%5D=mention&limit=80&min_id=34975861"),
        Response::json_body(200, &json!([mention("34975900", "2", "<p>new</p>")])),
    );
    let page = Mastodon::fetch_mentions(&channel(), Some("34975861"), 500).unwrap();
    assert_eq!(page.items[0].text, "new");
    assert_eq!(page.next_cursor.as_deref(), Some("34975900"));
}

#[test]
fn comments_are_the_replies_of_others_after_the_cursor() {
    let host = connected();
    let other = account("3", "ada@other.example", "Ada");
    host.on(
        "GET",
        &url("/api/v1/statuses/100/context"),
        Response::json_body(
            200,
            &json!({
                "ancestors": [],
                "descendants": [
                    status("101", &other, "<p>first!</p>", Some("100")),
                    own_status("102", "<p>our own follow-up</p>"),
                    status("1000", &other, "<p>much later</p>", Some("102")),
                    status("103", &other, "<p>second</p>", Some("101")),
                ]
            }),
        ),
    );

    let page = Mastodon::fetch_comments(&channel(), "100", None, 2).unwrap();
    let ids: Vec<&str> = page.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["101", "103"], "oldest first, own statuses left out");
    assert_eq!(page.items[1].parent_id.as_deref(), Some("101"));
    assert_eq!(page.items[1].post_id.as_deref(), Some("100"));
    assert_eq!(page.items[1].kind, ItemKind::Comment);
    assert_eq!(page.next_cursor.as_deref(), Some("103"));

    let rest = Mastodon::fetch_comments(&channel(), "100", Some("103"), 2).unwrap();
    let ids: Vec<&str> = rest.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["1000"], "a longer id is a newer one");
    let none = Mastodon::fetch_comments(&channel(), "100", Some("1000"), 2).unwrap();
    assert!(none.items.is_empty());
    assert_eq!(none.next_cursor.as_deref(), Some("1000"));
}

#[test]
fn replies_mention_the_author_and_keep_the_conversation_narrow() {
    let host = connected();
    let mut parent = status(
        "7",
        &account("3", "ada@other.example", "Ada"),
        "<p>hi</p>",
        None,
    );
    parent["visibility"] = json!("private");
    host.on(
        "GET",
        &url("/api/v1/statuses/7"),
        Response::json_body(200, &parent),
    );
    host.on(
        "POST",
        &url("/api/v1/statuses"),
        Response::json_body(200, &own_status("8", "<p>thanks</p>")),
    );

    let published =
        Mastodon::reply(&channel(), "7", Post::new("Thanks!").idempotency_key("r1")).unwrap();

    assert_eq!(published.remote_id, "8");
    let sent = host.last_request().unwrap();
    assert_eq!(sent.header_value("idempotency-key"), Some("r1"));
    assert_eq!(
        sent.body_json::<Value>().unwrap(),
        json!({ "status": "@ada@other.example Thanks!", "in_reply_to_id": "7", "visibility": "private" })
    );

    // Already mentioned, or answering ourselves: the text is left alone.
    Mastodon::reply(&channel(), "7", Post::new("@Ada@other.example, sure")).unwrap();
    let body: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(body["status"], "@Ada@other.example, sure");
    host.on(
        "GET",
        &url("/api/v1/statuses/9"),
        Response::json_body(200, &own_status("9", "<p>ours</p>")),
    );
    Mastodon::reply(&channel(), "9", Post::new("and more")).unwrap();
    let body: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(body, json!({ "status": "and more", "in_reply_to_id": "9" }));
}

#[test]
fn replying_to_a_status_that_is_gone_is_not_found() {
    let host = connected();
    host.on(
        "GET",
        &url("/api/v1/statuses/7"),
        Response::json_body(404, &json!({ "error": "Record not found" })),
    );
    assert_eq!(
        Mastodon::reply(&channel(), "7", Post::new("hello?")),
        Err(PluginError::NotFound)
    );
}

#[test]
fn moderation_blocks_mutes_and_reports_the_author_of_a_status() {
    let host = connected();
    host.on(
        "GET",
        &url("/api/v1/statuses/7"),
        Response::json_body(
            200,
            &status(
                "7",
                &account("3", "spam@other.example", ""),
                "<p>buy</p>",
                None,
            ),
        ),
    );
    let relationship =
        Response::json_body(200, &json!({ "id": "3", "blocking": true, "muting": true }));
    host.on(
        "POST",
        &url("/api/v1/accounts/3/block"),
        relationship.clone(),
    );
    host.on("POST", &url("/api/v1/accounts/3/mute"), relationship);
    host.on(
        "POST",
        &url("/api/v1/reports"),
        Response::json_body(200, &json!({ "id": "48914", "category": "other" })),
    );

    for (action, path) in [
        (Moderation::BlockAuthor, "/api/v1/accounts/3/block"),
        (Moderation::MuteAuthor, "/api/v1/accounts/3/mute"),
        (Moderation::Report, "/api/v1/reports"),
    ] {
        Mastodon::moderate(&channel(), "7", action).unwrap();
        let sent = host.last_request().unwrap();
        assert_eq!((sent.method(), sent.url()), ("POST", url(path).as_str()));
    }
    let report: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(report["account_id"], "3");
    assert_eq!(report["status_ids"], json!(["7"]));
    assert_eq!(report["category"], "other");

    let before = host.requests().len();
    for action in [Moderation::Hide, Moderation::Unhide, Moderation::Delete] {
        assert_eq!(
            Mastodon::moderate(&channel(), "7", action),
            Err(PluginError::Unsupported)
        );
    }
    assert_eq!(host.requests().len(), before);
}

#[test]
fn the_own_account_id_is_asked_once_per_token() {
    let host = connected();
    host.on(
        "GET",
        &url("/api/v1/statuses/1/context"),
        Response::json_body(200, &json!({ "ancestors": [], "descendants": [] })),
    );
    Mastodon::fetch_comments(&channel(), "1", None, 10).unwrap();
    Mastodon::fetch_comments(&channel(), "1", None, 10).unwrap();
    let asked = host
        .requests()
        .iter()
        .filter(|r| r.url().ends_with("/verify_credentials"))
        .count();
    assert_eq!(asked, 1);
    assert!(host.kv_keys().iter().all(|k| !k.contains(super::TOKEN)));
}

#[test]
fn statuses_from_other_mastodon_api_servers_still_read() {
    let host = connected();
    // Pleroma/Akkoma-style: a visibility of their own, nulls for empty fields.
    let mut odd = mention("1", "2", "<p>hi</p>");
    odd["status"]["visibility"] = json!("local");
    odd["status"]["spoiler_text"] = Value::Null;
    odd["status"]["account"]["display_name"] = Value::Null;
    odd["status"]["language"] = Value::Null;
    host.on(
        "GET",
        &url("/api/v1/notifications?types%5B%5D=mention&limit=40"),
        Response::json_body(200, &json!([odd])),
    );
    let page = Mastodon::fetch_mentions(&channel(), None, 40).unwrap();
    assert_eq!(page.items[0].text, "hi");
    assert_eq!(page.items[0].author.display_name, None);
    assert_eq!(page.items[0].lang, None);
}
