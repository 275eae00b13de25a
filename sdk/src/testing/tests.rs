use serde_json::json;

use super::*;
use crate::{PluginError, clock, credentials, kv, log, media};

#[test]
fn rules_answer_by_method_and_url_and_the_latest_wins() {
    let host = TestHost::new();
    host.on("get", "https://a.example/x", Response::new(200))
        .on("GET", "https://a.example/x", Response::new(204))
        .on("POST", "https://a.example/x", Response::new(201));

    let get = Request::get("https://a.example/x").send().unwrap();
    let post = Request::post("https://a.example/x").send().unwrap();
    let again = Request::get("https://a.example/x").send().unwrap();

    assert_eq!((get.status, post.status, again.status), (204, 201, 204));
}

#[test]
fn the_queue_answers_what_no_rule_does_then_the_host_denies() {
    let host = TestHost::new();
    host.push(Response::text_body(500, "boom"))
        .push_error(HttpError::Timeout);

    let first = Request::get("https://a.example/1").send().unwrap();
    let second = Request::get("https://a.example/2").send().unwrap_err();
    let third = Request::get("https://a.example/3").send().unwrap_err();

    assert_eq!(first.status, 500);
    assert_eq!(second, HttpError::Timeout);
    assert!(matches!(third, HttpError::Denied(m) if m.contains("GET https://a.example/3")));
    assert_eq!(host.requests().len(), 3);
}

#[test]
fn requests_are_captured_with_headers_and_body() {
    let host = TestHost::new();
    host.push(Response::new(201));

    Request::post("https://a.example/posts")
        .bearer("t")
        .header("Idempotency-Key", "k1")
        .json(&json!({ "text": "hi" }))
        .unwrap()
        .send()
        .unwrap();

    let request = host.last_request().unwrap();
    assert_eq!(request.method(), "POST");
    assert_eq!(request.url(), "https://a.example/posts");
    assert_eq!(request.header_value("authorization"), Some("Bearer t"));
    assert_eq!(request.header_value("idempotency-key"), Some("k1"));
    assert_eq!(request.body_json(), Some(json!({ "text": "hi" })));
}

#[test]
fn credentials_kv_clock_logs_and_media_are_held() {
    let host = TestHost::new();
    host.credential("access_token", "t")
        .kv_set("cursor", "c1")
        .set_now_ms(1_000)
        .media("m1", b"abcdef".to_vec());

    assert_eq!(credentials::get("access_token").as_deref(), Some("t"));
    assert_eq!(
        credentials::require("app_password"),
        Err(PluginError::Unauthorized(
            "missing credential app_password".into()
        ))
    );
    host.remove_credential("access_token");
    assert!(credentials::get("access_token").is_none());

    assert_eq!(kv::get_string("cursor").as_deref(), Some("c1"));
    kv::set_json("state", &json!({ "n": 1 })).unwrap();
    kv::delete("cursor");
    assert_eq!(host.kv_keys(), ["state"]);
    assert_eq!(
        kv::get_json::<serde_json::Value>("state").unwrap(),
        Some(json!({ "n": 1 }))
    );

    host.advance_ms(500);
    assert_eq!(clock::now_ms(), 1_500);

    log::warn("careful");
    assert_eq!(
        host.logs(),
        [LogLine {
            level: Level::Warn,
            message: "careful".into()
        }]
    );

    assert_eq!(media::read("m1", 2, 3).unwrap(), b"cde");
    assert_eq!(media::read("m1", 10, 3).unwrap(), b"");
    assert!(matches!(
        media::read("m2", 0, 1),
        Err(PluginError::Transient(_))
    ));
    let whole = media::read_all(&crate::MediaRef::new("m1", "image/png", 6)).unwrap();
    assert_eq!(whole, b"abcdef");
}

#[test]
fn new_resets_everything() {
    let host = TestHost::new();
    host.credential("a", "b")
        .kv_set("k", "v")
        .push(Response::new(200));
    log::info("x");

    let host = TestHost::new();
    assert!(credentials::get("a").is_none());
    assert!(host.kv_keys().is_empty());
    assert!(host.logs().is_empty());
    assert_eq!(clock::now_ms(), DEFAULT_NOW_MS);
    assert!(Request::get("https://a.example").send().is_err());
}
