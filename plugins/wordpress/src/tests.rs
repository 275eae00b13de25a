//! The WordPress plugin's logic, run natively against the SDK's test host.

use plaza_sdk::http::{HttpError, Response};
use plaza_sdk::testing::TestHost;
use plaza_sdk::{Capabilities, Channel, ItemKind, MediaRef, Moderation, Plugin, PluginError, Post};
use serde_json::{Value, json};

use super::WordPress;
use crate::api::wp_error;
use crate::comments::Cursor;
use crate::content::{
    ascii_slug, body_html, decode_entities, key_marker, key_token, plain_text, title_and_body,
    with_marker,
};
use crate::options::Format;

const SITE: &str = "https://blog.example.com";
const API: &str = "https://blog.example.com/wp-json/wp/v2";
/// `base64("editor:abcd efgh ijkl")` without the spaces WordPress ignores.
const BASIC: &str = "Basic ZWRpdG9yOmFiY2RlZmdoaWprbA==";

fn channel() -> Channel {
    Channel::with_config("ch-1", &json!({ "site_url": format!("{SITE}/") }))
}

fn forcing_channel() -> Channel {
    Channel::with_config("ch-1", &json!({ "site_url": SITE, "delete_mode": "force" }))
}

fn connected() -> TestHost {
    let host = TestHost::new();
    host.credential("username", "editor")
        .credential("application_password", "abcd efgh ijkl");
    host
}

fn wp(status: u16, code: &str, message: &str) -> Response {
    Response::json_body(
        status,
        &json!({ "code": code, "message": message, "data": { "status": status } }),
    )
}

fn comment(id: u64, post: u64, date: &str, text: &str) -> Value {
    json!({
        "id": id, "post": post, "parent": 0, "author": 0, "author_name": "Rita",
        "date": date, "date_gmt": date, "status": "approved",
        "content": { "raw": text, "rendered": format!("<p>{text}</p>\n") },
        "link": format!("{SITE}/hello/#comment-{id}"),
    })
}

fn query_of(url: &str) -> Vec<(String, String)> {
    url.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), decode(v)))
        .collect()
}

fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn decode(value: &str) -> String {
    let mut out = Vec::new();
    let mut bytes = value.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let hex: String = bytes.by_ref().take(2).map(char::from).collect();
            out.push(u8::from_str_radix(&hex, 16).unwrap_or(b'?'));
        } else {
            out.push(byte);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn path_of(url: &str) -> &str {
    url.split_once('?').map_or(url, |(path, _)| path)
}

#[test]
fn describe_declares_a_site_channel() {
    let manifest = WordPress::describe();
    assert_eq!(manifest.id, "wordpress");
    assert_eq!(manifest.allowed_hosts, ["{config.site_url}"]);
    assert!(manifest.capabilities.contains(
        Capabilities::PUBLISH
            | Capabilities::PUBLISH_MEDIA
            | Capabilities::DELETE_POST
            | Capabilities::MENTIONS
            | Capabilities::COMMENTS
            | Capabilities::REPLY
            | Capabilities::HIDE
            | Capabilities::DELETE_COMMENT
            | Capabilities::POST_METRICS
            | Capabilities::ACCOUNT_METRICS
    ));
    assert!(!manifest.capabilities.contains(Capabilities::BLOCK_AUTHOR));
    assert!(!manifest.capabilities.contains(Capabilities::THREADS));
    let schema: Value = serde_json::from_str(&manifest.config_schema).unwrap();
    assert_eq!(schema["required"], json!(["site_url"]));
    let options: Value = serde_json::from_str(&manifest.post_options_schema).unwrap();
    assert_eq!(
        options["properties"]["status"]["enum"],
        json!(["publish", "future", "draft", "pending", "private"])
    );
    assert_eq!(options["then"]["required"], json!(["date"]));
}

#[test]
fn configs_need_a_plain_site_url() {
    assert_eq!(
        WordPress::validate_config(r#"{"site_url": "http://127.0.0.1:8080"}"#),
        Ok(())
    );
    assert_eq!(
        WordPress::validate_config(
            r#"{"site_url": "https://example.com/blog/", "delete_mode": "force"}"#
        ),
        Ok(())
    );
    for bad in [
        r#"{"site_url": "ftp://x"}"#,
        r#"{"site_url": "https://user:pw@x.example"}"#,
        r#"{"site_url": "https://x.example/wp-json"}"#,
        r#"{"site_url": "https://x.example/?p=1"}"#,
        r#"{"site_url": "https://x.example", "delete_mode": "shred"}"#,
        r#"{"site_url": "https://x.example", "extra": 1}"#,
        r#"{}"#,
    ] {
        assert!(
            matches!(
                WordPress::validate_config(bad),
                Err(PluginError::Invalid(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn wordpress_errors_map_to_plugin_errors() {
    let _host = TestHost::new();
    assert_eq!(
        wp_error(&wp(
            401,
            "rest_not_logged_in",
            "You are not currently logged in."
        )),
        PluginError::Unauthorized("rest_not_logged_in: You are not currently logged in.".into())
    );
    assert!(matches!(
        wp_error(&wp(403, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")),
        PluginError::Unauthorized(reason) if reason.starts_with("rest_cannot_create")
    ));
    assert!(matches!(
        wp_error(&wp(
            401,
            "incorrect_password",
            "The provided password is an invalid application password."
        )),
        PluginError::Unauthorized(_)
    ));
    let invalid = Response::json_body(
        400,
        &json!({
            "code": "rest_invalid_param",
            "message": "Invalid parameter(s): status",
            "data": { "status": 400, "params": { "status": "status is not one of publish, future." } }
        }),
    );
    assert_eq!(
        wp_error(&invalid),
        PluginError::Invalid(
            "rest_invalid_param: Invalid parameter(s): status (status: status is not one of publish, future.)"
                .into()
        )
    );
    assert_eq!(
        wp_error(&wp(404, "rest_post_invalid_id", "Invalid post ID.")),
        PluginError::NotFound
    );
    assert_eq!(
        wp_error(&wp(
            410,
            "rest_already_trashed",
            "The post has already been deleted."
        )),
        PluginError::NotFound
    );
    assert!(matches!(
        wp_error(&wp(404, "rest_no_route", "No route was found matching the URL and request method.")),
        PluginError::Invalid(reason) if reason.contains("site_url")
    ));
    // Entities in messages are decoded.
    assert_eq!(
        wp_error(&wp(409, "comment_duplicate", "Duplicate comment detected; it looks as though you&#8217;ve already said that!")),
        PluginError::Invalid(
            "comment_duplicate: Duplicate comment detected; it looks as though you\u{2019}ve already said that!".into()
        )
    );
    assert_eq!(
        wp_error(&wp(
            400,
            "comment_flood",
            "You are posting comments too quickly. Slow down."
        )),
        PluginError::RateLimited(None)
    );
    assert_eq!(
        wp_error(&Response::text_body(429, "slow down").with_header("Retry-After", "42")),
        PluginError::RateLimited(Some(42))
    );
    match wp_error(&Response::text_body(502, "<html>Bad Gateway</html>")) {
        PluginError::Transient(reason) => assert_eq!(reason, "HTTP 502: HTTP 502"),
        other => panic!("{other:?}"),
    }
    match wp_error(&wp(
        500,
        "db_insert_error",
        "Could not insert post into the database.",
    )) {
        PluginError::Transient(reason) => assert!(reason.contains("db_insert_error"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_credentials_are_unauthorized_before_any_request() {
    let host = TestHost::new();
    host.credential("username", "editor");
    assert!(matches!(
        WordPress::publish(&channel(), Post::new("Hi")),
        Err(PluginError::Unauthorized(reason)) if reason.contains("application_password")
    ));
    assert!(host.requests().is_empty());
}

#[test]
fn check_credentials_answers_the_account_and_needs_publish_rights() {
    let host = connected();
    let me_url = format!("{API}/users/me?context=edit");
    host.on(
        "GET",
        &me_url,
        Response::json_body(
            200,
            &json!({ "id": 7, "username": "editor", "name": "Eddie &amp; Co", "slug": "eddie",
                     "capabilities": { "publish_posts": true, "moderate_comments": true } }),
        ),
    );
    let author = WordPress::check_credentials(&channel()).unwrap();
    assert_eq!(author.remote_id, "7");
    assert_eq!(author.handle, "editor");
    assert_eq!(author.display_name.as_deref(), Some("Eddie & Co"));
    let sent = host.last_request().unwrap();
    assert_eq!(sent.header_value("authorization"), Some(BASIC));
    assert_eq!(host.kv_get("me:editor"), Some(b"7".to_vec()));

    host.on(
        "GET",
        &me_url,
        Response::json_body(
            200,
            &json!({ "id": 8, "username": "sub", "name": "Sub", "slug": "sub",
                     "capabilities": { "read": true } }),
        ),
    );
    assert!(matches!(
        WordPress::check_credentials(&channel()),
        Err(PluginError::Unauthorized(reason)) if reason.contains("Author role")
    ));

    host.on(
        "GET",
        &me_url,
        wp(
            401,
            "incorrect_password",
            "The provided password is an invalid application password.",
        ),
    );
    assert!(matches!(
        WordPress::check_credentials(&channel()),
        Err(PluginError::Unauthorized(_))
    ));
}

/// Scripts the answers of a publish with two categories (one existing,
/// one new), a tag that exists under another case, and two media.
fn script_full_publish(host: &TestHost) {
    host.push(Response::json_body(200, &json!([])))
        // categories?slug=coffee,new-roasts
        .push(Response::json_body(
            200,
            &json!([{ "id": 3, "name": "Coffee", "slug": "coffee" }]),
        ))
        // POST categories {name: "New Roasts"}
        .push(Response::json_body(201, &json!({ "id": 12 })))
        // tags?slug=spring
        .push(Response::json_body(
            200,
            &json!([{ "id": 20, "name": "Spring", "slug": "spring" }]),
        ))
        // POST media (featured)
        .push(Response::json_body(
            201,
            &json!({ "id": 31, "source_url": format!("{SITE}/wp-content/uploads/a.png") }),
        ))
        // POST media (in the text)
        .push(Response::json_body(
            201,
            &json!({ "id": 32, "source_url": format!("{SITE}/wp-content/uploads/b.jpg") }),
        ))
        // POST posts
        .push(Response::json_body(
            201,
            &json!({ "id": 40, "link": format!("{SITE}/spring-roast/"), "status": "publish" }),
        ));
}

fn full_post() -> Post {
    Post::new("# Spring roast\n\nIt is **in**.\n\n<script>x</script>")
        .idempotency_key("plaza-p1-c1")
        .options(
            json!({
                "excerpt": "Cherry & cocoa",
                "categories": ["Coffee", "New Roasts"],
                "tags": ["spring"],
                "comment_status": "open",
            })
            .to_string(),
        )
        .media(MediaRef::new("m-1", "image/png", 3).alt_text("A red cup"))
        .media(MediaRef::new("m-2", "image/jpeg", 2))
}

#[test]
fn publish_sends_an_article_with_terms_featured_image_and_marker() {
    let host = connected();
    host.media("m-1", b"png".to_vec())
        .media("m-2", b"jp".to_vec());
    script_full_publish(&host);

    let published = WordPress::publish(&channel(), full_post()).unwrap();

    assert_eq!(published.remote_id, "40");
    assert_eq!(
        published.url.as_deref(),
        Some("https://blog.example.com/spring-roast/")
    );
    let requests = host.requests();
    assert_eq!(requests.len(), 7, "{requests:#?}");
    for request in &requests {
        assert_eq!(request.header_value("authorization"), Some(BASIC));
    }

    // 1. The marker search, in every status a publish leaves.
    let search = &requests[0];
    assert_eq!(search.method(), "GET");
    assert_eq!(path_of(search.url()), format!("{API}/posts"));
    assert_eq!(
        param(search.url(), "search"),
        Some(key_token("plaza-p1-c1"))
    );
    assert_eq!(
        param(search.url(), "status").as_deref(),
        Some("publish,future,draft,pending,private,trash")
    );
    assert_eq!(param(search.url(), "context").as_deref(), Some("edit"));

    // 2-4. Terms by slug, the missing one created.
    assert_eq!(path_of(requests[1].url()), format!("{API}/categories"));
    assert_eq!(
        param(requests[1].url(), "slug").as_deref(),
        Some("coffee,new-roasts")
    );
    assert_eq!(requests[2].method(), "POST");
    assert_eq!(path_of(requests[2].url()), format!("{API}/categories"));
    assert_eq!(
        requests[2].body_json(),
        Some(json!({ "name": "New Roasts" }))
    );
    assert_eq!(param(requests[3].url(), "slug").as_deref(), Some("spring"));

    // 5-6. Media: raw bytes, type, disposition, alt text.
    let featured = &requests[4];
    assert_eq!(featured.method(), "POST");
    assert_eq!(path_of(featured.url()), format!("{API}/media"));
    assert_eq!(featured.header_value("content-type"), Some("image/png"));
    assert_eq!(
        featured.header_value("content-disposition"),
        Some("attachment; filename=\"plaza-m1-1.png\"")
    );
    assert_eq!(
        param(featured.url(), "alt_text").as_deref(),
        Some("A red cup")
    );
    assert_eq!(featured.body(), Some(&b"png"[..]));
    assert_eq!(
        requests[5].header_value("content-disposition"),
        Some("attachment; filename=\"plaza-m2-2.jpg\"")
    );
    assert_eq!(param(requests[5].url(), "alt_text"), None);

    // 7. The post.
    let create = &requests[6];
    assert_eq!(create.method(), "POST");
    assert_eq!(path_of(create.url()), format!("{API}/posts"));
    let body: Value = create.body_json().unwrap();
    assert_eq!(body["title"], "Spring roast");
    assert_eq!(body["status"], "publish");
    assert_eq!(body["excerpt"], "Cherry & cocoa");
    assert_eq!(body["categories"], json!([3, 12]));
    assert_eq!(body["tags"], json!([20]));
    assert_eq!(body["featured_media"], 31);
    assert_eq!(body["comment_status"], "open");
    assert!(body.get("date_gmt").is_none());
    let html = body["content"].as_str().unwrap();
    assert!(
        html.starts_with("<p>It is <strong>in</strong>.</p>"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");
    assert!(
        !html.contains("# Spring"),
        "the heading is the title: {html}"
    );
    assert!(
        html.contains(&format!(
            "<img src=\"{SITE}/wp-content/uploads/b.jpg\" alt=\"\"/>"
        )),
        "{html}"
    );
    assert!(
        !html.contains("a.png"),
        "the featured image is not repeated: {html}"
    );
    assert!(
        html.ends_with(&format!("{}</figure>", key_marker("plaza-p1-c1"))),
        "{html}"
    );

    // Remembered: a second publish under the key sends nothing.
    let before = host.requests().len();
    let again = WordPress::publish(&channel(), full_post()).unwrap();
    assert_eq!(again, published);
    assert_eq!(host.requests().len(), before);
    let found = WordPress::find_published(&channel(), "plaza-p1-c1").unwrap();
    assert_eq!(found, Some(published));
}

#[test]
fn a_publish_that_runs_out_of_requests_goes_on_where_it_stopped() {
    let host = connected();
    host.media("m-1", b"png".to_vec())
        .media("m-2", b"jp".to_vec());
    host.push(Response::json_body(200, &json!([])))
        .push(Response::json_body(
            200,
            &json!([{ "id": 3, "name": "Coffee", "slug": "coffee" }]),
        ))
        .push(Response::json_body(201, &json!({ "id": 12 })))
        .push(Response::json_body(200, &json!([])))
        .push_error(HttpError::TooManyRequests);
    assert_eq!(
        WordPress::publish(&channel(), full_post()),
        Err(PluginError::Transient(
            "too many requests in one call".into()
        ))
    );

    // The retry: the search, then only the tag and the media, from the kv store on.
    let sent = host.requests().len();
    host.push(Response::json_body(200, &json!([])))
        .push(Response::json_body(
            200,
            &json!([{ "id": 20, "name": "Spring", "slug": "spring" }]),
        ))
        .push(Response::json_body(
            201,
            &json!({ "id": 31, "source_url": "u1" }),
        ))
        .push(Response::json_body(
            201,
            &json!({ "id": 32, "source_url": "u2" }),
        ))
        .push(Response::json_body(
            201,
            &json!({ "id": 40, "link": null, "status": "publish" }),
        ));
    let published = WordPress::publish(&channel(), full_post()).unwrap();
    assert_eq!(published.remote_id, "40");
    let retry: Vec<_> = host.requests().into_iter().skip(sent).collect();
    assert_eq!(retry.len(), 5, "{retry:#?}");
    assert_eq!(path_of(retry[1].url()), format!("{API}/tags"));
    let body: Value = retry[4].body_json().unwrap();
    assert_eq!(body["categories"], json!([3, 12]));
}

#[test]
fn terms_wordpress_already_has_under_another_slug_come_from_term_exists() {
    let host = connected();
    host.push(Response::json_body(200, &json!([])))
        // tags?slug=… finds nothing for "Café" (not looked up: not ASCII) nor "R&D".
        .push(Response::json_body(
            400,
            &json!({ "code": "term_exists", "message": "A term with the name provided already exists in this taxonomy.",
                     "data": { "status": 400, "term_id": 77 } }),
        ))
        .push(Response::json_body(201, &json!({ "id": 78 })))
        .push(Response::json_body(201, &json!({ "id": 90, "link": "l", "status": "draft" })));
    let post = Post::new("Body").idempotency_key("k2").options(
        json!({ "title": "Café news", "tags": ["Café", "R&D"], "status": "draft" }).to_string(),
    );
    let published = WordPress::publish(&channel(), post).unwrap();
    assert_eq!(published.remote_id, "90");
    let requests = host.requests();
    assert_eq!(
        requests.len(),
        4,
        "no slug lookup for names without one: {requests:#?}"
    );
    assert_eq!(requests[1].body_json(), Some(json!({ "name": "Café" })));
    assert_eq!(requests[2].body_json(), Some(json!({ "name": "R&D" })));
    let body: Value = requests[3].body_json().unwrap();
    assert_eq!(body["tags"], json!([77, 78]));
    assert_eq!(body["title"], "Café news");
    assert_eq!(body["status"], "draft");
    assert_eq!(body["content"], format!("<p>Body{}</p>", key_marker("k2")));
}

#[test]
fn future_posts_carry_their_date_in_utc() {
    let host = connected();
    host.push(Response::json_body(200, &json!([])))
        .push(Response::json_body(
            201,
            &json!({ "id": 5, "link": "l", "status": "future" }),
        ));
    let post = Post::new("Later")
        .idempotency_key("k3")
        .options(json!({ "status": "future", "date": "2031-05-01T10:00:00+02:00", "slug": "later", "format": "html" }).to_string());
    WordPress::publish(&channel(), post).unwrap();
    let body: Value = host.last_request().unwrap().body_json().unwrap();
    assert_eq!(body["status"], "future");
    assert_eq!(body["date_gmt"], "2031-05-01T08:00:00");
    assert_eq!(body["slug"], "later");
    assert_eq!(body["title"], "Later");

    // Scheduling needs a date; options outside the schema are refused.
    for options in [
        json!({ "status": "future" }),
        json!({ "status": "future", "date": "tomorrow" }),
        json!({ "tags": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"] }),
        json!({ "categories": [""] }),
        json!({ "colour": "red" }),
    ] {
        let post = Post::new("x")
            .idempotency_key("k4")
            .options(options.to_string());
        assert!(
            matches!(
                WordPress::publish(&channel(), post),
                Err(PluginError::Invalid(_))
            ),
            "{options}"
        );
    }
}

#[test]
fn find_published_searches_the_site_for_the_marker() {
    let host = connected();
    let marker = key_marker("plaza-p9-c1");
    host.push(Response::json_body(
        200,
        &json!([
            // A post that only mentions the token in its title is not it.
            { "id": 3, "link": "l3", "status": "publish", "content": { "raw": "<p>other</p>", "rendered": "" } },
            { "id": 4, "link": format!("{SITE}/x/"), "status": "trash", "content": { "raw": format!("<p>x{marker}</p>"), "rendered": "" } },
        ]),
    ));
    let found = WordPress::find_published(&channel(), "plaza-p9-c1")
        .unwrap()
        .unwrap();
    assert_eq!(found.remote_id, "4");
    assert_eq!(found.url.as_deref(), Some("https://blog.example.com/x/"));
    let sent = host.last_request().unwrap();
    assert_eq!(param(sent.url(), "search"), Some(key_token("plaza-p9-c1")));

    // WordPress answering an empty list is "no such post".
    host.push(Response::json_body(200, &json!([])));
    assert_eq!(
        WordPress::find_published(&channel(), "plaza-none").unwrap(),
        None
    );

    // Anything else is not "not there".
    host.push(Response::text_body(503, "down"));
    assert!(matches!(
        WordPress::find_published(&channel(), "plaza-none"),
        Err(PluginError::Transient(_))
    ));
    host.push(Response::text_body(200, "<html>maintenance</html>"));
    assert!(matches!(
        WordPress::find_published(&channel(), "plaza-none"),
        Err(PluginError::Transient(_))
    ));
    host.push(wp(404, "rest_no_route", "No route"));
    assert!(matches!(
        WordPress::find_published(&channel(), "plaza-none"),
        Err(PluginError::Invalid(_))
    ));
    assert!(matches!(
        WordPress::find_published(&channel(), ""),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn delete_post_trashes_or_forces() {
    let host = connected();
    host.on(
        "DELETE",
        &format!("{API}/posts/40?_fields=id"),
        Response::json_body(200, &json!({ "id": 40 })),
    );
    WordPress::delete_post(&channel(), "40").unwrap();
    assert_eq!(host.last_request().unwrap().method(), "DELETE");

    // Already in the trash is what was asked.
    host.on(
        "DELETE",
        &format!("{API}/posts/40?_fields=id"),
        wp(
            410,
            "rest_already_trashed",
            "The post has already been deleted.",
        ),
    );
    WordPress::delete_post(&channel(), "40").unwrap();

    host.on(
        "DELETE",
        &format!("{API}/posts/40?_fields=id&force=true"),
        Response::json_body(200, &json!({ "deleted": true })),
    );
    WordPress::delete_post(&forcing_channel(), "40").unwrap();
    host.on(
        "DELETE",
        &format!("{API}/posts/41?_fields=id&force=true"),
        wp(404, "rest_post_invalid_id", "Invalid post ID."),
    );
    assert_eq!(
        WordPress::delete_post(&forcing_channel(), "41"),
        Err(PluginError::NotFound)
    );
    assert!(matches!(
        WordPress::delete_post(&channel(), "../users/1"),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn comments_are_read_from_a_cursor_without_skips_or_repeats() {
    let host = connected();
    host.kv_set("me:editor", b"7");
    host.push(Response::json_body(
        200,
        &json!([
            comment(5, 40, "2026-01-02T10:00:00", "first"),
            comment(6, 40, "2026-01-02T10:00:00", "same second"),
        ]),
    ));
    let page = WordPress::fetch_comments(&channel(), "40", None, 2).unwrap();
    let ids: Vec<&str> = page.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["5", "6"]);
    let item = &page.items[0];
    assert_eq!(item.kind, ItemKind::Comment);
    assert_eq!(item.text, "first");
    assert_eq!(item.post_id.as_deref(), Some("40"));
    assert_eq!(item.thread_id.as_deref(), Some("40"));
    assert_eq!(item.parent_id, None);
    assert_eq!(item.author.remote_id, "guest:Rita");
    assert_eq!(item.created_at, "2026-01-02T10:00:00Z");
    assert_eq!(
        item.url.as_deref(),
        Some("https://blog.example.com/hello/#comment-5")
    );
    let cursor = page.next_cursor.clone().unwrap();
    assert_eq!(cursor, "2026-01-02T10:00:00~6");
    let first = host.last_request().unwrap();
    assert_eq!(path_of(first.url()), format!("{API}/comments"));
    for (name, value) in [
        ("status", "all"),
        ("type", "comment"),
        ("orderby", "date"),
        ("order", "asc"),
        ("per_page", "2"),
        ("author_exclude", "7"),
        ("post", "40"),
        ("page", "1"),
        ("context", "edit"),
    ] {
        assert_eq!(param(first.url(), name).as_deref(), Some(value), "{name}");
    }
    assert_eq!(param(first.url(), "after"), None);

    // From the cursor: the same second again (after = one second before),
    // what was handed out dropped, a second page read when the first was
    // all old.
    host.push(Response::json_body(
        200,
        &json!([
            comment(5, 40, "2026-01-02T10:00:00", "first"),
            comment(6, 40, "2026-01-02T10:00:00", "same second"),
        ]),
    ))
    .push(Response::json_body(
        200,
        &json!([{
            "id": 9, "post": 40, "parent": 6, "author": 3, "author_name": "Sam",
            "date": "2026-01-02T10:00:00", "date_gmt": "2026-01-02T09:00:00", "status": "hold",
            "content": { "rendered": "<p>held &amp; new</p>\n" }
        }]),
    ));
    let sent = host.requests().len();
    let next = WordPress::fetch_comments(&channel(), "40", Some(&cursor), 2).unwrap();
    let requests: Vec<_> = host.requests().into_iter().skip(sent).collect();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        param(requests[0].url(), "after").as_deref(),
        Some("2026-01-02T09:59:59")
    );
    assert_eq!(param(requests[1].url(), "page").as_deref(), Some("2"));
    assert_eq!(next.items.len(), 1);
    let held = &next.items[0];
    assert_eq!(held.remote_id, "9");
    assert_eq!(held.text, "held & new");
    assert_eq!(held.parent_id.as_deref(), Some("6"));
    assert_eq!(held.author.remote_id, "3");
    assert_eq!(held.created_at, "2026-01-02T09:00:00Z");
    assert_eq!(next.next_cursor.as_deref(), Some("2026-01-02T10:00:00~9"));

    // Nothing new keeps the cursor.
    host.push(Response::json_body(
        200,
        &json!([comment(9, 40, "2026-01-02T10:00:00", "x")]),
    ));
    let empty =
        WordPress::fetch_comments(&channel(), "40", Some("2026-01-02T10:00:00~9"), 2).unwrap();
    assert!(empty.items.is_empty());
    assert_eq!(empty.next_cursor.as_deref(), Some("2026-01-02T10:00:00~9"));

    assert!(matches!(
        WordPress::fetch_comments(&channel(), "40", Some("garbage"), 2),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn mentions_are_new_comments_on_any_post_and_ask_who_the_account_is_once() {
    let host = connected();
    host.on(
        "GET",
        &format!("{API}/users/me?context=edit"),
        Response::json_body(200, &json!({ "id": 7, "name": "Ed", "slug": "ed" })),
    );
    host.push(Response::json_body(
        200,
        &json!([
            comment(5, 40, "2026-01-02T10:00:00", "a"),
            comment(8, 41, "2026-01-02T11:00:00", "b")
        ]),
    ));
    let page = WordPress::fetch_mentions(&channel(), None, 50).unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[1].post_id.as_deref(), Some("41"));
    let listed = host.last_request().unwrap();
    assert_eq!(param(listed.url(), "post"), None);
    assert_eq!(param(listed.url(), "author_exclude").as_deref(), Some("7"));
    assert_eq!(param(listed.url(), "per_page").as_deref(), Some("50"));

    host.push(Response::json_body(200, &json!([])));
    let sent = host.requests().len();
    WordPress::fetch_mentions(&channel(), page.next_cursor.as_deref(), 500).unwrap();
    let again: Vec<_> = host.requests().into_iter().skip(sent).collect();
    assert_eq!(again.len(), 1, "users/me is remembered");
    assert_eq!(param(again[0].url(), "per_page").as_deref(), Some("100"));
}

#[test]
fn reply_posts_an_approved_comment_under_the_comment() {
    let host = connected();
    host.on(
        "GET",
        &format!("{API}/comments/5?context=edit"),
        Response::json_body(200, &comment(5, 40, "2026-01-02T10:00:00", "hi")),
    );
    host.on(
        "POST",
        &format!("{API}/comments?context=edit"),
        Response::json_body(201, &comment(12, 40, "2026-01-02T10:05:00", "Thanks!")),
    );
    let published = WordPress::reply(
        &channel(),
        "5",
        Post::new(" Thanks! ").idempotency_key("r1"),
    )
    .unwrap();
    assert_eq!(published.remote_id, "12");
    assert_eq!(
        published.url.as_deref(),
        Some("https://blog.example.com/hello/#comment-12")
    );
    let sent = host.last_request().unwrap();
    assert_eq!(
        sent.body_json(),
        Some(json!({ "post": 40, "parent": 5, "content": "Thanks!", "status": "approved" }))
    );
    // Once made, the key answers it without a request.
    let before = host.requests().len();
    assert_eq!(
        WordPress::reply(&channel(), "5", Post::new("Thanks!").idempotency_key("r1")).unwrap(),
        published
    );
    assert_eq!(host.requests().len(), before);
}

#[test]
fn a_reply_wordpress_calls_a_duplicate_answers_the_earlier_one() {
    let host = connected();
    host.kv_set("me:editor", b"7");
    host.on(
        "GET",
        &format!("{API}/comments/5?context=edit"),
        Response::json_body(200, &comment(5, 40, "2026-01-02T10:00:00", "hi")),
    );
    host.on(
        "POST",
        &format!("{API}/comments?context=edit"),
        wp(
            409,
            "comment_duplicate",
            "Duplicate comment detected; it looks as though you&#8217;ve already said that!",
        ),
    );
    host.push(Response::json_body(
        200,
        &json!([
            comment(13, 40, "2026-01-02T10:06:00", "Other"),
            comment(12, 40, "2026-01-02T10:05:00", "Thanks!")
        ]),
    ));
    let published =
        WordPress::reply(&channel(), "5", Post::new("Thanks!").idempotency_key("r2")).unwrap();
    assert_eq!(published.remote_id, "12");
    let lookup = host.last_request().unwrap();
    assert_eq!(param(lookup.url(), "parent").as_deref(), Some("5"));
    assert_eq!(param(lookup.url(), "author").as_deref(), Some("7"));

    assert!(matches!(
        WordPress::reply(&channel(), "not-a-comment", Post::new("x")),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn moderation_maps_onto_comment_statuses() {
    let host = connected();
    let url = format!("{API}/comments/5?_fields=id%2Cstatus");
    host.on(
        "POST",
        &url,
        Response::json_body(200, &json!({ "id": 5, "status": "x" })),
    );
    for (action, status) in [
        (Moderation::Hide, "hold"),
        (Moderation::Unhide, "approved"),
        (Moderation::Report, "spam"),
    ] {
        WordPress::moderate(&channel(), "5", action).unwrap();
        let sent = host.last_request().unwrap();
        assert_eq!(sent.url(), url);
        assert_eq!(
            sent.body_json(),
            Some(json!({ "status": status })),
            "{action:?}"
        );
    }
    host.on(
        "DELETE",
        &format!("{API}/comments/5?_fields=id"),
        Response::json_body(200, &json!({ "id": 5 })),
    );
    WordPress::moderate(&channel(), "5", Moderation::Delete).unwrap();
    host.on(
        "DELETE",
        &format!("{API}/comments/5?_fields=id&force=true"),
        Response::json_body(200, &json!({ "deleted": true })),
    );
    WordPress::moderate(&forcing_channel(), "5", Moderation::Delete).unwrap();
    assert_eq!(host.last_request().unwrap().method(), "DELETE");

    let before = host.requests().len();
    for action in [Moderation::BlockAuthor, Moderation::MuteAuthor] {
        assert_eq!(
            WordPress::moderate(&channel(), "5", action),
            Err(PluginError::Unsupported)
        );
    }
    assert_eq!(host.requests().len(), before);

    host.on(
        "POST",
        &url,
        wp(404, "rest_comment_invalid_id", "Invalid comment ID."),
    );
    assert_eq!(
        WordPress::moderate(&channel(), "5", Moderation::Hide),
        Err(PluginError::NotFound)
    );
    host.on(
        "POST",
        &url,
        wp(
            403,
            "rest_cannot_edit",
            "Sorry, you are not allowed to edit this comment.",
        ),
    );
    assert!(matches!(
        WordPress::moderate(&channel(), "5", Moderation::Hide),
        Err(PluginError::Unauthorized(_))
    ));
}

#[test]
fn counts_come_from_x_wp_total() {
    let host = connected();
    let total = |n: u64| {
        Response::json_body(200, &json!([{ "id": 1 }])).with_header("X-WP-Total", n.to_string())
    };
    host.push(total(3)).push(total(0));
    let metrics = WordPress::post_metrics(&channel(), &["40".into(), "41".into()]).unwrap();
    assert_eq!(metrics.len(), 2);
    assert_eq!(
        (
            metrics[0].post_id.as_deref(),
            metrics[0].name.as_str(),
            metrics[0].value
        ),
        (Some("40"), "replies", 3.0)
    );
    assert_eq!(metrics[1].value, 0.0);
    let sent = host.requests();
    assert_eq!(param(sent[0].url(), "post").as_deref(), Some("40"));
    assert_eq!(param(sent[0].url(), "per_page").as_deref(), Some("1"));

    host.push(total(12)).push(total(30)).push(total(2));
    let account = WordPress::account_metrics(&channel()).unwrap();
    let value = |name: &str| account.iter().find(|m| m.name == name).map(|m| m.value);
    assert_eq!(value("posts"), Some(12.0));
    assert_eq!(value("replies"), Some(30.0));
    assert_eq!(value("x_comments_pending"), Some(2.0));
    let sent = host.requests();
    assert_eq!(
        param(sent[sent.len() - 1].url(), "status").as_deref(),
        Some("hold")
    );

    host.push(Response::json_body(200, &json!([])));
    assert!(matches!(
        WordPress::post_metrics(&channel(), &["40".into()]),
        Err(PluginError::Transient(reason)) if reason.contains("X-WP-Total")
    ));
    let many: Vec<String> = (1..=17).map(|n| n.to_string()).collect();
    assert!(matches!(
        WordPress::post_metrics(&channel(), &many),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn rate_limits_and_outages_reach_plaza_as_such() {
    let host = connected();
    host.push(
        Response::text_body(429, "Too Many Requests")
            .with_header("Retry-After", "Tue, 14 Nov 2023 22:14:20 GMT"),
    );
    assert_eq!(
        WordPress::publish(&channel(), Post::new("Hi").idempotency_key("k")),
        Err(PluginError::RateLimited(Some(60)))
    );
    host.push_error(HttpError::Timeout);
    assert_eq!(
        WordPress::account_metrics(&channel()),
        Err(PluginError::Transient("timeout".into()))
    );
    host.kv_set("me:editor", b"7");
    host.push(Response::json_body(200, &json!({ "not": "a list" })));
    assert!(matches!(
        WordPress::fetch_comments(&channel(), "40", Some("2026-01-02T10:00:00~9"), 5),
        Err(PluginError::Transient(reason)) if reason.contains("unexpected answer")
    ));
}

#[test]
fn text_helpers_follow_wordpress() {
    assert_eq!(
        title_and_body(None, "# Spring roast\n\nBody"),
        ("Spring roast".to_owned(), "Body".to_owned())
    );
    assert_eq!(
        title_and_body(None, "Spring roast\nBody"),
        ("Spring roast".to_owned(), "Spring roast\nBody".to_owned())
    );
    assert_eq!(
        title_and_body(Some(" T "), "# Heading\nBody"),
        ("T".to_owned(), "# Heading\nBody".to_owned())
    );
    let long = format!("{} tail", "word ".repeat(30));
    let (title, body) = title_and_body(None, &long);
    assert_eq!(title, format!("{}…", "word ".repeat(24).trim_end()));
    assert_eq!(body, long);
    assert_eq!(body_html("<b>x</b>", Format::Html), "<b>x</b>");
    assert_eq!(body_html("a *b*", Format::Markdown), "<p>a <em>b</em></p>");

    assert_eq!(with_marker("<p>a</p>", "<!--m-->"), "<p>a<!--m--></p>");
    assert_eq!(
        with_marker("<ul><li>a</li></ul>\n", "<!--m-->"),
        "<ul><li>a</li><!--m--></ul>"
    );
    assert_eq!(with_marker("plain", "<!--m-->"), "plain<!--m-->");
    assert_eq!(
        with_marker("<img src=\"x\"/>", "<!--m-->"),
        "<img src=\"x\"/><!--m-->"
    );
    let token = key_token("plaza-p1-c1");
    assert!(
        token.starts_with("plaza-key-") && token.len() == 42,
        "{token}"
    );
    assert!(token[10..].chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(key_token("a"), key_token("b"));
    assert_eq!(key_marker("a"), format!("<!-- {} -->", key_token("a")));

    assert_eq!(ascii_slug("New Roasts").as_deref(), Some("new-roasts"));
    assert_eq!(ascii_slug(" Tips & Tricks ").as_deref(), None);
    assert_eq!(ascii_slug("v2.0 -- beta!").as_deref(), Some("v2-0-beta"));
    assert_eq!(ascii_slug("snake_case").as_deref(), Some("snake_case"));
    assert_eq!(ascii_slug("Café"), None);
    assert_eq!(ascii_slug("!!!"), None);

    assert_eq!(
        decode_entities("Food &amp; Drink &#8217; &#x2019; &lt;b&gt; &bogus; & x"),
        "Food & Drink \u{2019} \u{2019} <b> &bogus; & x"
    );
    assert_eq!(plain_text("<p>held &amp;\n new</p>\n"), "held & new");
    assert_eq!(
        Cursor::parse("2026-01-02T10:00:00~9").unwrap().to_string(),
        "2026-01-02T10:00:00~9"
    );
    assert!(Cursor::parse("2026-01-02~9").is_err());
    assert!(Cursor::parse("2026-01-02T10:00:00~x").is_err());
}

#[test]
fn without_a_featured_image_every_file_goes_into_the_text() {
    let host = connected();
    host.media("v", b"mp4".to_vec()).media("i", b"png".to_vec());
    host.push(Response::json_body(
        201,
        &json!({ "id": 1, "source_url": "https://blog.example.com/v.mp4" }),
    ))
    .push(Response::json_body(
        201,
        &json!({ "id": 2, "source_url": "https://blog.example.com/i.png?a=1&b=\"2\"" }),
    ))
    .push(Response::json_body(
        201,
        &json!({ "id": 3, "link": "l", "status": "publish" }),
    ));
    // No idempotency key: no lookup, no marker, nothing remembered.
    let post = Post::new("Watch this")
        .options(json!({ "featured_image": false, "title": "Clip" }).to_string())
        .media(MediaRef::new("v", "video/mp4", 3))
        .media(MediaRef::new("i", "image/png", 3).alt_text("a \"quoted\" cup"));
    WordPress::publish(&channel(), post).unwrap();
    let requests = host.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].header_value("content-type"), Some("video/mp4"));
    let body: Value = requests[2].body_json().unwrap();
    assert!(body.get("featured_media").is_none());
    assert_eq!(
        body["content"],
        "<p>Watch this</p>\n\
         <figure class=\"wp-block-video\"><video controls src=\"https://blog.example.com/v.mp4\"></video></figure>\n\
         <figure class=\"wp-block-image\"><img src=\"https://blog.example.com/i.png?a=1&amp;b=&quot;2&quot;\" alt=\"a &quot;quoted&quot; cup\"/></figure>"
    );
    assert!(host.kv_keys().is_empty(), "{:?}", host.kv_keys());
}
