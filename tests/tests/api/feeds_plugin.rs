//! The `feeds` plugin end to end: a local server serves an RSS feed, then an
//! Atom feed; a `feeds` channel is connected through the API and its
//! fetch-mentions called through the plugin host (the inbox API does not
//! exist yet). The first call answers every entry, the next one with the
//! cursor only what was added since, and an unchanged feed is asked for
//! conditionally.

use std::collections::HashMap;

use plaza_api::plugins::bindings::Page;
use plaza_api::plugins::channels::context;
use plaza_api::plugins::{CallError, PluginFault};
use plaza_tests::receiver::{Answer, Receiver};
use plaza_tests::{Session, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A feed document in `format` holding `entries` (id, title, RFC 3339 date),
/// newest first as feeds list them.
fn feed(format: &str, entries: &[(&str, &str, &str)]) -> String {
    match format {
        "rss" => {
            let items: String = entries
                .iter()
                .map(|(id, title, at)| {
                    let date = chrono::DateTime::parse_from_rfc3339(at).unwrap().to_rfc2822();
                    format!(
                        "<item><guid>{id}</guid><title>{title}</title>\
                         <link>https://blog.example.com/{id}</link>\
                         <description>&lt;p&gt;All about &lt;b&gt;{title}&lt;/b&gt;&lt;/p&gt;</description>\
                         <pubDate>{date}</pubDate></item>"
                    )
                })
                .collect();
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
                <title>Roastery news</title><link>https://blog.example.com/</link>
                <description>News</description>{items}</channel></rss>"#
            )
        }
        _ => {
            let items: String = entries
                .iter()
                .map(|(id, title, at)| {
                    format!(
                        "<entry><id>urn:roastery:{id}</id><title>{title}</title>\
                         <link rel=\"alternate\" href=\"https://blog.example.com/{id}\"/>\
                         <updated>{at}</updated>\
                         <summary type=\"html\">&lt;p&gt;All about &lt;b&gt;{title}&lt;/b&gt;&lt;/p&gt;</summary></entry>"
                    )
                })
                .collect();
            format!(
                r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
                <title>Roastery news</title><id>urn:roastery</id><updated>2025-01-08T10:00:00Z</updated>
                <link rel="alternate" href="https://blog.example.com/"/>
                <author><name>Ann Roaster</name></author>{items}</feed>"#
            )
        }
    }
}

fn serve(receiver: &Receiver, body: String, etag: &str) {
    receiver.answer_always(Answer {
        status: 200,
        body,
        headers: vec![
            ("content-type".to_owned(), "application/xml".to_owned()),
            ("etag".to_owned(), etag.to_owned()),
        ],
    });
}

async fn connect_feed(app: &TestApp, owner: &Session, ws: &str, url: &str) -> Value {
    app.call(
        app.post(
            &format!("/v1/workspaces/{ws}/channels"),
            &owner.access,
            &json!({"plugin_id": "feeds", "config": {"feed_url": url}}),
        ),
        StatusCode::CREATED,
    )
    .await
}

/// The plugin's `fetch-mentions` for a channel, through the plugin host.
async fn fetch(
    app: &TestApp,
    channel: &str,
    config: &Value,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page, CallError> {
    let plugin = app.state.plugins.get("feeds").expect("the feeds plugin");
    let call = context(channel, config.clone(), HashMap::new());
    app.state
        .plugins
        .fetch_mentions(&plugin, call, cursor.map(str::to_owned), limit)
        .await
}

fn ids(page: &Page) -> Vec<&str> {
    page.items.iter().map(|i| i.remote_id.as_str()).collect()
}

#[actix_web::test]
async fn new_entries_of_rss_and_atom_feeds_come_once_each() {
    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;

    for (format, prefix, author) in [
        ("rss", "", "Roastery news"),
        ("atom", "urn:roastery:", "Ann Roaster"),
    ] {
        let receiver = Receiver::start();
        let url = format!("{}/feed.xml", receiver.url);
        serve(
            &receiver,
            feed(
                format,
                &[
                    ("b", "Cold brew", "2025-01-07T10:00:00Z"),
                    ("a", "Espresso", "2025-01-06T10:00:00Z"),
                ],
            ),
            "\"v1\"",
        );
        let channel = connect_feed(&app, &owner, &ws, &url).await;
        assert_eq!(channel["account"]["handle"], "Roastery news", "{channel}");
        let id = channel["id"].as_str().unwrap();
        let config = &channel["config"];

        let first = fetch(&app, id, config, None, 50).await.unwrap();
        assert_eq!(
            ids(&first),
            [format!("{prefix}a"), format!("{prefix}b")],
            "{format}"
        );
        let espresso = &first.items[0];
        assert_eq!(espresso.text, "Espresso\n\nAll about Espresso", "{format}");
        assert_eq!(espresso.created_at, "2025-01-06T10:00:00Z");
        assert_eq!(espresso.url.as_deref(), Some("https://blog.example.com/a"));
        assert_eq!(espresso.author.handle, author, "{format}");
        let cursor = first.next_cursor.clone().expect("a cursor");

        // Unchanged: asked for with the ETag, answered 304, nothing new.
        receiver.answer_next([Answer::status(304, "")]);
        let unchanged = fetch(&app, id, config, Some(&cursor), 50).await.unwrap();
        assert!(
            unchanged.items.is_empty(),
            "{format}: {:?}",
            unchanged.items
        );
        assert_eq!(unchanged.next_cursor.as_deref(), Some(cursor.as_str()));
        let asked = receiver.received();
        assert_eq!(
            asked
                .last()
                .unwrap()
                .headers
                .get("if-none-match")
                .map(String::as_str),
            Some("\"v1\""),
            "{format}"
        );

        serve(
            &receiver,
            feed(
                format,
                &[
                    ("d", "Decaf", "2025-01-09T10:00:00Z"),
                    ("c", "Cortado", "2025-01-08T10:00:00Z"),
                    ("b", "Cold brew", "2025-01-07T10:00:00Z"),
                    ("a", "Espresso", "2025-01-06T10:00:00Z"),
                ],
            ),
            "\"v2\"",
        );
        let second = fetch(&app, id, config, Some(&cursor), 1).await.unwrap();
        assert_eq!(
            ids(&second),
            [format!("{prefix}c")],
            "{format}: the limit holds"
        );
        let third = fetch(&app, id, config, second.next_cursor.as_deref(), 50)
            .await
            .unwrap();
        assert_eq!(ids(&third), [format!("{prefix}d")], "{format}");
        let none = fetch(&app, id, config, third.next_cursor.as_deref(), 50)
            .await
            .unwrap();
        assert!(none.items.is_empty(), "{format}: {:?}", none.items);
    }
}

#[actix_web::test]
async fn a_malformed_feed_is_refused_with_a_reason() {
    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let receiver = Receiver::start();
    let url = format!("{}/feed.xml", receiver.url);
    serve(
        &receiver,
        feed("rss", &[("a", "Espresso", "2025-01-06T10:00:00Z")]),
        "\"v1\"",
    );
    let channel = connect_feed(&app, &owner, &ws, &url).await;
    let id = channel["id"].as_str().unwrap();

    serve(
        &receiver,
        "<html><body>We moved!</body></html>".to_owned(),
        "\"v2\"",
    );
    match fetch(&app, id, &channel["config"], None, 50).await {
        Err(CallError::Plugin(PluginFault::Invalid(reason))) => {
            assert!(reason.contains("not an RSS or Atom feed"), "{reason}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[actix_web::test]
async fn a_listening_query_tags_what_it_finds_in_the_inbox() {
    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let receiver = Receiver::start();
    serve(
        &receiver,
        feed(
            "rss",
            &[
                ("c", "Espresso machines compared", "2025-01-08T10:00:00Z"),
                ("b", "Cold brew", "2025-01-07T10:00:00Z"),
                ("a", "Espresso", "2025-01-06T10:00:00Z"),
            ],
        ),
        "\"v1\"",
    );
    let channel = connect_feed(&app, &owner, &ws, &format!("{}/feed.xml", receiver.url)).await;
    let channel = channel["id"].as_str().unwrap();
    let base = format!("/v1/workspaces/{ws}");
    let query = app
        .call(
            app.post(
                &format!("{base}/listening-queries"),
                &owner.access,
                &json!({"channel_id": channel, "name": "Espresso talk", "query": "espresso", "subject": "topic"}),
            ),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(query["subject"], "topic");
    let poll = app
        .call(
            app.post(
                &format!("{base}/channels/{channel}/inbox/poll"),
                &owner.access,
                &json!({}),
            ),
            StatusCode::OK,
        )
        .await;
    let streams: Vec<&str> = poll["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stream"].as_str().unwrap())
        .collect();
    assert_eq!(streams[0], "mentions", "{poll}");
    assert!(streams[1].starts_with("search:"), "{poll}");
    assert_eq!(poll["created"], 3, "every entry once: {poll}");

    let hits = app
        .call(
            app.get(
                &format!(
                    "{base}/inbox/items?listening_query_id={}",
                    query["id"].as_str().unwrap()
                ),
                &owner.access,
            ),
            StatusCode::OK,
        )
        .await;
    let mut titles: Vec<&str> = hits["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    assert_eq!(titles.len(), 2, "{hits}");
    assert!(
        titles.iter().all(|t| t.to_lowercase().contains("espresso")),
        "{titles:?}"
    );

    // A channel whose plugin cannot search is refused for listening.
    let platform = plaza_tests::fake_platform::FakePlatform::start("t0ken");
    let other = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let refused = app
        .post(
            &format!("{base}/listening-queries"),
            &owner.access,
            &json!({"channel_id": other["id"], "name": "x", "query": "x"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
