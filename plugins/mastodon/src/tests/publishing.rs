//! Statuses, media, threads, deletion, counts and finding a post after a crash.

use plaza_sdk::http::Response;
use plaza_sdk::{MediaRef, Plugin, PluginError, Post};
use serde_json::{Value, json};

use super::{INSTANCE, ME, Mastodon, channel, connected, own_status, url};
use crate::publish::Record;

fn created(id: &str, content: &str) -> Response {
    Response::json_body(200, &own_status(id, content))
}

fn status_posts(host: &plaza_sdk::testing::TestHost) -> Vec<plaza_sdk::http::Request> {
    host.requests()
        .into_iter()
        .filter(|r| r.method() == "POST" && r.url() == url("/api/v1/statuses"))
        .collect()
}

fn record(host: &plaza_sdk::testing::TestHost, key: &str) -> Option<Record> {
    serde_json::from_slice(&host.kv_get(&format!("publish/{key}"))?).ok()
}

#[test]
fn publish_sends_the_text_the_options_and_the_idempotency_key() {
    let host = connected();
    host.on(
        "POST",
        &url("/api/v1/statuses"),
        created("103254962155278888", "<p>Hi</p>"),
    );
    let post = Post::new("Hi")
        .idempotency_key("plaza-k1")
        .options(r#"{"visibility": "unlisted", "content_warning": "food", "language": "de", "sensitive": true}"#);

    let published = Mastodon::publish(&channel(), post).unwrap();

    assert_eq!(published.remote_id, "103254962155278888");
    assert_eq!(
        published.url.as_deref(),
        Some(format!("{INSTANCE}/@x/103254962155278888").as_str())
    );
    let sent = status_posts(&host).pop().unwrap();
    assert_eq!(sent.header_value("idempotency-key"), Some("plaza-k1"));
    assert_eq!(sent.header_value("authorization"), Some("Bearer tok3n"));
    assert_eq!(sent.header_value("content-type"), Some("application/json"));
    assert_eq!(
        sent.body_json::<Value>().unwrap(),
        json!({
            "status": "Hi",
            "spoiler_text": "food",
            "sensitive": true,
            "visibility": "unlisted",
            "language": "de"
        })
    );
    assert_eq!(
        record(&host, "plaza-k1"),
        Some(Record::Published {
            id: "103254962155278888".into(),
            url: Some(format!("{INSTANCE}/@x/103254962155278888")),
        })
    );
}

#[test]
fn a_follow_up_part_answers_the_part_before_it() {
    let host = connected();
    host.on(
        "POST",
        &url("/api/v1/statuses"),
        created("2", "<p>Part two</p>"),
    );
    let post = Post::new("Part two").reply_to("1").idempotency_key("k2");
    Mastodon::publish(&channel(), post).unwrap();
    let body: Value = status_posts(&host).pop().unwrap().body_json().unwrap();
    assert_eq!(body, json!({ "status": "Part two", "in_reply_to_id": "1" }));
}

#[test]
fn publishing_a_key_again_answers_the_first_status_without_sending() {
    let host = connected();
    host.on(
        "POST",
        &url("/api/v1/statuses"),
        created("7", "<p>Once</p>"),
    );
    let first = Mastodon::publish(&channel(), Post::new("Once").idempotency_key("k")).unwrap();
    let again = Mastodon::publish(&channel(), Post::new("Once").idempotency_key("k")).unwrap();
    assert_eq!(first, again);
    assert_eq!(status_posts(&host).len(), 1);
}

#[test]
fn media_is_uploaded_as_multipart_and_attached() {
    let host = connected();
    host.media("m1", b"\x89PNG fake image".to_vec());
    // Small images are processed at once: `200` with a `url` (docs example).
    host.on(
        "POST",
        &url("/api/v2/media"),
        Response::json_body(
            200,
            &json!({
                "id": "22348641",
                "type": "image",
                "url": "https://files.mastodon.social/media_attachments/files/022/348/641/original/e96382f26c72a29c.jpeg",
                "preview_url": "https://files.mastodon.social/media_attachments/files/022/348/641/small/e96382f26c72a29c.jpeg",
                "description": "a cat",
                "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}"
            }),
        ),
    );
    host.on(
        "POST",
        &url("/api/v1/statuses"),
        created("9", "<p>Look</p>"),
    );
    let post = Post::new("Look")
        .media(MediaRef::new("m1", "image/png", 15).alt_text("a cat"))
        .idempotency_key("k-media");

    Mastodon::publish(&channel(), post).unwrap();

    let upload = host
        .requests()
        .into_iter()
        .find(|r| r.url() == url("/api/v2/media"))
        .unwrap();
    let content_type = upload.header_value("content-type").unwrap().to_owned();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap();
    let body = upload.body_text();
    assert!(body.starts_with(&format!("--{boundary}\r\n")), "{body}");
    assert!(body.contains("Content-Disposition: form-data; name=\"description\"\r\n"));
    assert!(body.contains("\r\n\r\na cat\r\n"));
    assert!(body.contains(
        "Content-Disposition: form-data; name=\"file\"; filename=\"plaza-1.png\"\r\nContent-Type: image/png\r\n\r\n\u{fffd}PNG fake image\r\n"
    ));
    assert!(body.ends_with(&format!("\r\n--{boundary}--\r\n")));
    let status: Value = status_posts(&host).pop().unwrap().body_json().unwrap();
    assert_eq!(status["media_ids"], json!(["22348641"]));
    // Nothing about the uploads is left behind once published.
    assert!(!host.kv_keys().iter().any(|k| k.starts_with("media/")));
}

#[test]
fn media_still_processing_is_checked_and_retried_without_uploading_again() {
    let host = connected();
    host.media("v1", vec![0_u8; 64]);
    // Video is processed in the background: `202` with `url: null`.
    host.on(
        "POST",
        &url("/api/v2/media"),
        Response::json_body(202, &json!({ "id": "555", "type": "video", "url": null })),
    );
    host.on("GET", &url("/api/v1/media/555"), Response::new(206));
    let post = || {
        Post::new("Clip")
            .media(MediaRef::new("v1", "video/mp4", 64))
            .idempotency_key("k-video")
    };

    let first = Mastodon::publish(&channel(), post());
    assert!(
        matches!(&first, Err(PluginError::Transient(reason)) if reason.contains("processing")),
        "{first:?}"
    );
    assert!(status_posts(&host).is_empty());

    host.on(
        "GET",
        &url("/api/v1/media/555"),
        Response::json_body(
            200,
            &json!({ "id": "555", "type": "video", "url": "https://files.example/555.mp4" }),
        ),
    );
    // Before sending again, the retry looks for a status the first attempt made.
    host.on(
        "GET",
        &url(&format!(
            "/api/v1/accounts/{ME}/statuses?exclude_reblogs=true&limit=40"
        )),
        Response::json_body(200, &json!([])),
    );
    host.on(
        "POST",
        &url("/api/v1/statuses"),
        created("10", "<p>Clip</p>"),
    );
    Mastodon::publish(&channel(), post()).unwrap();

    let uploads = host
        .requests()
        .iter()
        .filter(|r| r.url() == url("/api/v2/media"))
        .count();
    assert_eq!(uploads, 1, "the retry reuses the upload");
    let status: Value = status_posts(&host).pop().unwrap().body_json().unwrap();
    assert_eq!(status["media_ids"], json!(["555"]));
}

#[test]
fn attaching_media_that_is_not_ready_is_worth_retrying() {
    let host = connected();
    host.on(
        "POST",
        &url("/api/v1/statuses"),
        Response::json_body(
            422,
            &json!({ "error": "Cannot attach files that have not finished processing. Try again in a moment!" }),
        ),
    );
    assert!(matches!(
        Mastodon::publish(&channel(), Post::new("x").idempotency_key("k")),
        Err(PluginError::Transient(_))
    ));
    host.on(
        "POST",
        &url("/api/v1/statuses"),
        Response::json_body(
            422,
            &json!({ "error": "Validation failed: Text can't be blank" }),
        ),
    );
    assert_eq!(
        Mastodon::publish(&channel(), Post::new("").idempotency_key("k2")),
        Err(PluginError::invalid(
            "Validation failed: Text can't be blank"
        ))
    );
}

#[test]
fn media_mastodon_cannot_take_is_refused_before_sending() {
    let host = connected();
    let image = |id: &str| MediaRef::new(id, "image/png", 1);
    let cases = [
        Post::new("five")
            .media(image("a"))
            .media(image("b"))
            .media(image("c"))
            .media(image("d"))
            .media(image("e")),
        Post::new("mixed")
            .media(image("a"))
            .media(MediaRef::new("v", "video/mp4", 1)),
        Post::new("pdf").media(MediaRef::new("p", "application/pdf", 1)),
    ];
    for post in cases {
        assert!(matches!(
            Mastodon::publish(&channel(), post),
            Err(PluginError::Invalid(_))
        ));
    }
    assert!(host.requests().is_empty());
}

#[test]
fn delete_post_deletes_the_status() {
    let host = connected();
    host.on(
        "DELETE",
        &url("/api/v1/statuses/103254193998341330"),
        Response::json_body(200, &own_status("103254193998341330", "<p>test</p>")),
    );
    Mastodon::delete_post(&channel(), "103254193998341330").unwrap();
    assert_eq!(host.last_request().unwrap().method(), "DELETE");
    host.on(
        "DELETE",
        &url("/api/v1/statuses/1"),
        Response::json_body(404, &json!({ "error": "Record not found" })),
    );
    assert_eq!(
        Mastodon::delete_post(&channel(), "1"),
        Err(PluginError::NotFound)
    );
}

#[test]
fn post_metrics_read_the_counts_of_each_status() {
    let host = connected();
    host.on(
        "GET",
        &url("/api/v1/statuses?id%5B%5D=1&id%5B%5D=2"),
        // The documented sample: asked for 1 and 2, only 1 exists.
        Response::json_body(200, &json!([own_status("1", "<p>Hello world</p>")])),
    );
    let metrics = Mastodon::post_metrics(&channel(), &["1".into(), "2".into()]).unwrap();
    let value = |name: &str| {
        metrics
            .iter()
            .find(|m| m.name == name && m.post_id.as_deref() == Some("1"))
            .map(|m| m.value)
    };
    assert_eq!(value("likes"), Some(112.0));
    assert_eq!(value("reposts"), Some(98.0));
    assert_eq!(value("replies"), Some(7.0));
    assert!(metrics.iter().all(|m| m.post_id.as_deref() == Some("1")));
}

#[test]
fn post_metrics_fall_back_to_one_status_at_a_time_before_4_3() {
    let host = connected();
    host.on(
        "GET",
        &url("/api/v1/statuses?id%5B%5D=1&id%5B%5D=2"),
        Response::json_body(404, &json!({ "error": "Record not found" })),
    );
    let mut with_quotes = own_status("1", "<p>Hi</p>");
    with_quotes["quotes_count"] = json!(3);
    host.on(
        "GET",
        &url("/api/v1/statuses/1"),
        Response::json_body(200, &with_quotes),
    );
    host.on(
        "GET",
        &url("/api/v1/statuses/2"),
        Response::json_body(404, &json!({ "error": "Record not found" })),
    );
    let metrics = Mastodon::post_metrics(&channel(), &["1".into(), "2".into()]).unwrap();
    assert!(metrics.iter().any(|m| m.name == "quotes" && m.value == 3.0));
    assert_eq!(metrics.len(), 4);
}

mod find_published {
    use super::*;

    fn sending(host: &plaza_sdk::testing::TestHost, key: &str, text: &str, reply_to: Option<&str>) {
        let record = Record::Sending {
            started_ms: 1_700_000_000_000,
            fingerprint: crate::html::fingerprint(text),
            reply_to: reply_to.map(str::to_owned),
        };
        host.kv_set(
            &format!("publish/{key}"),
            serde_json::to_vec(&record).unwrap_or_default(),
        );
    }

    fn statuses_url(max_id: Option<&str>) -> String {
        let mut path = format!("/api/v1/accounts/{ME}/statuses?exclude_reblogs=true&limit=40");
        if let Some(max_id) = max_id {
            path.push_str(&format!("&max_id={max_id}"));
        }
        url(&path)
    }

    #[test]
    fn a_key_never_sent_is_not_there_without_asking() {
        let host = connected();
        assert_eq!(Mastodon::find_published(&channel(), "plaza-new"), Ok(None));
        assert!(host.requests().is_empty());
        assert!(matches!(
            Mastodon::find_published(&channel(), ""),
            Err(PluginError::Invalid(_))
        ));
    }

    #[test]
    fn a_published_key_is_answered_from_the_store() {
        let host = connected();
        host.on("POST", &url("/api/v1/statuses"), created("42", "<p>Hi</p>"));
        Mastodon::publish(&channel(), Post::new("Hi").idempotency_key("k")).unwrap();
        let found = Mastodon::find_published(&channel(), "k").unwrap().unwrap();
        assert_eq!(found.remote_id, "42");
        assert_eq!(host.requests().len(), 1, "only the publish itself");
    }

    #[test]
    fn a_send_with_unknown_outcome_is_found_among_the_account_statuses() {
        let host = connected();
        sending(
            &host,
            "k",
            "Spring roast\n\nwith @ada@other.example",
            Some("5"),
        );
        let mut wrong_parent =
            own_status("103", "<p>Spring roast</p><p>with @<span>ada</span></p>");
        wrong_parent["in_reply_to_id"] = json!("4");
        let mut ours = own_status(
            "102",
            "<p>Spring roast</p><p>with <span class=\"h-card\"><a href=\"https://other.example/@ada\" class=\"u-url mention\">@<span>ada</span></a></span></p>",
        );
        ours["in_reply_to_id"] = json!("5");
        host.on(
            "GET",
            &statuses_url(None),
            Response::json_body(
                200,
                &json!([own_status("104", "<p>Later</p>"), wrong_parent, ours]),
            ),
        );
        let found = Mastodon::find_published(&channel(), "k").unwrap().unwrap();
        assert_eq!(found.remote_id, "102");
        // Remembered: the next lookup needs no request.
        let before = host.requests().len();
        assert!(Mastodon::find_published(&channel(), "k").unwrap().is_some());
        assert_eq!(host.requests().len(), before);
    }

    #[test]
    fn statuses_reaching_back_past_the_send_without_it_mean_not_there() {
        let host = connected();
        sending(&host, "k", "Never made it", None);
        let mut old = own_status("90", "<p>Never made it</p>");
        old["created_at"] = json!("2023-11-14T21:00:00.000Z"); // long before the send
        host.on(
            "GET",
            &statuses_url(None),
            Response::json_body(200, &json!([own_status("95", "<p>Other</p>"), old])),
        );
        assert_eq!(Mastodon::find_published(&channel(), "k"), Ok(None));
    }

    #[test]
    fn too_many_statuses_since_the_send_cannot_be_told() {
        let host = connected();
        sending(&host, "k", "Needle", None);
        let page = |from: u64| {
            let statuses: Vec<Value> = (0..40)
                .map(|i| own_status(&(from - i).to_string(), "<p>hay</p>"))
                .collect();
            Response::json_body(200, &Value::Array(statuses))
        };
        host.on("GET", &statuses_url(None), page(1000));
        host.on("GET", &statuses_url(Some("961")), page(960));
        host.on("GET", &statuses_url(Some("921")), page(920));
        assert!(matches!(
            Mastodon::find_published(&channel(), "k"),
            Err(PluginError::Invalid(reason)) if reason.contains("by hand")
        ));
    }

    #[test]
    fn a_failed_lookup_is_an_error_not_absence() {
        let host = connected();
        sending(&host, "k", "Needle", None);
        host.on(
            "GET",
            &statuses_url(None),
            Response::json_body(503, &json!({ "error": "Service Unavailable" })),
        );
        assert!(matches!(
            Mastodon::find_published(&channel(), "k"),
            Err(PluginError::Transient(_))
        ));
    }
}

#[test]
fn the_content_warning_counts_into_the_length_as_mastodon_counts_it() {
    let host = connected();
    host.on("POST", &url("/api/v1/statuses"), created("1", "<p>ok</p>"));
    let long_link = format!("https://example.com/{}", "a".repeat(200));
    // 469 letters, a space and a long link (counted as 23), with a 7-character warning: 500.
    let text = format!("{} {long_link}", "x".repeat(469));
    assert_eq!(crate::publish::counted_length(&text), 493);
    let fits = Post::new(text).options(r#"{"content_warning": "spoiler"}"#);
    Mastodon::publish(&channel(), fits).unwrap();
    // A remote mention counts without its domain.
    assert_eq!(crate::publish::counted_length("@ada@other.example hi"), 7);

    let over = Post::new("y".repeat(495)).options(r#"{"content_warning": "spoiler"}"#);
    assert!(matches!(
        Mastodon::publish(&channel(), over),
        Err(PluginError::Invalid(reason)) if reason.contains("content warning included")
    ));
    assert_eq!(status_posts(&host).len(), 1, "the long one was not sent");
}

#[test]
fn a_retry_after_an_unknown_outcome_answers_the_status_the_first_attempt_made() {
    let host = connected();
    host.on(
        "POST",
        &url("/api/v1/statuses"),
        Response::json_body(504, &json!({ "error": "Gateway Timeout" })),
    );
    assert!(matches!(
        Mastodon::publish(&channel(), Post::new("Beans are back").idempotency_key("k")),
        Err(PluginError::Transient(_))
    ));
    // The instance did make it; more than an hour passes, it forgot the key.
    host.advance_ms(2 * 60 * 60 * 1000);
    host.on(
        "GET",
        &url(&format!(
            "/api/v1/accounts/{ME}/statuses?exclude_reblogs=true&limit=40"
        )),
        Response::json_body(200, &json!([own_status("77", "<p>Beans are back</p>")])),
    );
    let published =
        Mastodon::publish(&channel(), Post::new("Beans are back").idempotency_key("k")).unwrap();
    assert_eq!(published.remote_id, "77");
    assert_eq!(status_posts(&host).len(), 1, "not sent a second time");
}
