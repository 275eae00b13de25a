//! The feeds plugin's logic, run natively against the SDK's test host.

use plaza_sdk::http::Response;
use plaza_sdk::testing::TestHost;
use plaza_sdk::{Capabilities, Channel, ItemKind, Plugin, PluginError};
use serde_json::json;

use super::Feeds;

const URL: &str = "https://blog.example.com/feed.xml";

fn channel() -> Channel {
    Channel::with_config("ch-1", &json!({ "feed_url": URL }))
}

fn rss(items: &[(&str, &str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(guid, title, date)| {
            format!(
                "<item><guid>{guid}</guid><title>{title}</title>\
                 <link>https://blog.example.com/{guid}</link>\
                 <description>&lt;p&gt;About &lt;b&gt;{title}&lt;/b&gt;&lt;/p&gt;</description>\
                 <author>ed@blog.example.com (Ed Itor)</author>\
                 <pubDate>{date}</pubDate></item>"
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Roastery news</title>
        <link>https://blog.example.com/</link><description>News</description>{items}</channel></rss>"#
    )
}

const MON: &str = "Mon, 06 Jan 2025 10:00:00 GMT";
const TUE: &str = "Tue, 07 Jan 2025 10:00:00 GMT";
const WED: &str = "Wed, 08 Jan 2025 10:00:00 GMT";

#[test]
fn describe_declares_listening_only() {
    let manifest = Feeds::describe();
    assert_eq!(manifest.id, "feeds");
    assert_eq!(manifest.allowed_hosts, ["{config.feed_url}"]);
    assert_eq!(
        manifest.capabilities,
        Capabilities::MENTIONS | Capabilities::SEARCH
    );
    assert!(!manifest.capabilities.contains(Capabilities::PUBLISH));
}

#[test]
fn entries_come_oldest_first_and_the_cursor_returns_only_new_ones() {
    let host = TestHost::new();
    // The feed lists newest first, as feeds do.
    host.on(
        "GET",
        URL,
        Response::text_body(200, rss(&[("b", "Second", TUE), ("a", "First", MON)])),
    );

    let first = Feeds::fetch_mentions(&channel(), None, 50).unwrap();

    let ids: Vec<&str> = first.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    let item = &first.items[0];
    assert_eq!(item.kind, ItemKind::Mention);
    assert_eq!(item.text, "First\n\nAbout First");
    assert_eq!(item.url.as_deref(), Some("https://blog.example.com/a"));
    assert_eq!(item.created_at, "2025-01-06T10:00:00Z");
    assert_eq!(item.author.handle, "Ed Itor");
    let cursor = first.next_cursor.clone().unwrap();

    host.on(
        "GET",
        URL,
        Response::text_body(
            200,
            rss(&[
                ("c", "Third", WED),
                ("b", "Second", TUE),
                ("a", "First", MON),
            ]),
        ),
    );
    let second = Feeds::fetch_mentions(&channel(), Some(&cursor), 50).unwrap();
    let ids: Vec<&str> = second.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["c"]);

    let third = Feeds::fetch_mentions(&channel(), second.next_cursor.as_deref(), 50).unwrap();
    assert!(third.items.is_empty());
    assert_eq!(third.next_cursor, second.next_cursor, "the cursor stays");
}

#[test]
fn the_limit_pages_through_what_is_new() {
    let host = TestHost::new();
    host.on(
        "GET",
        URL,
        Response::text_body(
            200,
            rss(&[
                ("c", "Third", WED),
                ("b", "Second", TUE),
                ("a", "First", MON),
            ]),
        ),
    );
    let first = Feeds::fetch_mentions(&channel(), None, 2).unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = Feeds::fetch_mentions(&channel(), first.next_cursor.as_deref(), 2).unwrap();
    let ids: Vec<&str> = rest.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["c"]);
}

#[test]
fn an_atom_feed_reads_the_same_way() {
    let host = TestHost::new();
    host.on(
        "GET",
        URL,
        Response::text_body(
            200,
            r#"<?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
              <title>Roastery</title><id>urn:uuid:feed</id><updated>2025-01-07T10:00:00Z</updated>
              <link rel="alternate" href="https://blog.example.com/"/>
              <author><name>Ann</name><uri>https://blog.example.com/ann</uri></author>
              <entry><id>urn:uuid:2</id><title type="html">&lt;i&gt;Cold&lt;/i&gt; brew</title>
                <link rel="alternate" href="https://blog.example.com/cold"/>
                <updated>2025-01-07T10:00:00Z</updated><summary>Iced.</summary></entry>
              <entry><id>urn:uuid:1</id><title>Espresso</title>
                <link href="https://blog.example.com/espresso"/>
                <published>2025-01-05T08:30:00+01:00</published><updated>2025-01-06T00:00:00Z</updated>
                <content type="html">&lt;p&gt;Dark &amp;amp; rich&lt;/p&gt;</content></entry>
            </feed>"#,
        ),
    );

    let page = Feeds::fetch_mentions(&channel(), None, 10).unwrap();

    let ids: Vec<&str> = page.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["urn:uuid:1", "urn:uuid:2"]);
    assert_eq!(
        page.items[0].created_at, "2025-01-05T07:30:00Z",
        "published wins"
    );
    assert_eq!(page.items[0].text, "Espresso\n\nDark & rich");
    assert_eq!(page.items[1].text, "Cold brew\n\nIced.");
    assert_eq!(page.items[1].author.handle, "Ann", "the feed's author");
    assert_eq!(
        page.items[1].author.remote_id,
        "https://blog.example.com/ann"
    );
}

#[test]
fn a_malformed_feed_is_invalid() {
    let host = TestHost::new();
    host.on(
        "GET",
        URL,
        Response::text_body(200, "<html><body>Not a feed"),
    );
    match Feeds::fetch_mentions(&channel(), None, 10) {
        Err(PluginError::Invalid(reason)) => {
            assert!(reason.contains("not an RSS or Atom feed"), "{reason}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    host.on("GET", URL, Response::text_body(200, "just text"));
    assert!(matches!(
        Feeds::fetch_mentions(&channel(), None, 10),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn a_bad_cursor_is_invalid_and_errors_map() {
    let host = TestHost::new();
    assert!(matches!(
        Feeds::fetch_mentions(&channel(), Some("nonsense"), 10),
        Err(PluginError::Invalid(_))
    ));
    host.on("GET", URL, Response::new(404));
    assert!(matches!(
        Feeds::fetch_mentions(&channel(), None, 10),
        Err(PluginError::Invalid(ref r)) if r.contains("no feed")
    ));
    host.on("GET", URL, Response::new(503));
    assert!(matches!(
        Feeds::fetch_mentions(&channel(), None, 10),
        Err(PluginError::Transient(_))
    ));
    host.on(
        "GET",
        URL,
        Response::new(429).with_header("Retry-After", "60"),
    );
    assert_eq!(
        Feeds::fetch_mentions(&channel(), None, 10),
        Err(PluginError::RateLimited(Some(60)))
    );
}

#[test]
fn an_unchanged_feed_is_fetched_conditionally() {
    let host = TestHost::new();
    host.on(
        "GET",
        URL,
        Response::text_body(200, rss(&[("a", "First", MON)]))
            .with_header("ETag", "\"v1\"")
            .with_header("Last-Modified", MON),
    );
    let first = Feeds::fetch_mentions(&channel(), None, 10).unwrap();
    assert_eq!(
        host.last_request().unwrap().header_value("if-none-match"),
        None
    );

    host.on("GET", URL, Response::new(304));
    let again = Feeds::fetch_mentions(&channel(), first.next_cursor.as_deref(), 10).unwrap();
    assert!(again.items.is_empty());
    assert_eq!(again.next_cursor, first.next_cursor);
    let request = host.last_request().unwrap();
    assert_eq!(request.header_value("if-none-match"), Some("\"v1\""));
    assert_eq!(request.header_value("if-modified-since"), Some(MON));

    // Without a cursor nothing is covered: the whole feed is asked for.
    host.on(
        "GET",
        URL,
        Response::text_body(200, rss(&[("a", "First", MON)])),
    );
    let all = Feeds::fetch_mentions(&channel(), None, 10).unwrap();
    assert_eq!(all.items.len(), 1);
    assert_eq!(
        host.last_request().unwrap().header_value("if-none-match"),
        None
    );
}

#[test]
fn undated_entries_are_new_once() {
    let host = TestHost::new();
    let undated = r#"<rss version="2.0"><channel><title>T</title><link>https://b.example/</link>
        <item><title>No date</title><link>https://b.example/x</link></item></channel></rss>"#;
    host.on("GET", URL, Response::text_body(200, undated));
    let first = Feeds::fetch_mentions(&channel(), None, 10).unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(
        first.items[0].remote_id, "https://b.example/x",
        "the link is the id"
    );

    host.advance_ms(60_000);
    let second = Feeds::fetch_mentions(&channel(), first.next_cursor.as_deref(), 10).unwrap();
    assert!(second.items.is_empty(), "{:?}", second.items);
}

#[test]
fn search_keeps_entries_holding_every_word() {
    let host = TestHost::new();
    host.on(
        "GET",
        URL,
        Response::text_body(
            200,
            rss(&[
                ("c", "Cold brew", WED),
                ("b", "Hot brew", TUE),
                ("a", "Cold snap", MON),
            ]),
        ),
    );
    let page = Feeds::search(&channel(), "COLD brew", None, 10).unwrap();
    let ids: Vec<&str> = page.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["c"]);
    assert_eq!(page.items[0].kind, ItemKind::SearchHit);
    assert!(matches!(
        Feeds::search(&channel(), "  ", None, 10),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn check_credentials_reads_the_feed() {
    let host = TestHost::new();
    host.on(
        "GET",
        URL,
        Response::text_body(200, rss(&[("a", "First", MON)])),
    );
    let author = Feeds::check_credentials(&channel()).unwrap();
    assert_eq!(author.handle, "Roastery news");
    assert_eq!(author.remote_id, URL);
    assert!(host.kv_keys().is_empty(), "a check stores nothing");
}
