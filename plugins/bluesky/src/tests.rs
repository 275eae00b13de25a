//! The Bluesky plugin's logic, run natively against the SDK's test host,
//! with answers shaped like the XRPC lexicons' outputs.

use plaza_sdk::http::{Response, encode_component};
use plaza_sdk::testing::{DEFAULT_NOW_MS, TestHost};
use plaza_sdk::{Capabilities, Channel, ItemKind, MediaRef, Moderation, Plugin, PluginError, Post};
use serde_json::{Value, json};

use super::{Bluesky, tid};
use crate::api::{fingerprint, xrpc_error};

const PDS: &str = "https://pds.example.com";
const ME: &str = "did:plc:plazaaccount";
const BOB: &str = "did:plc:bobbobbob";

fn channel() -> Channel {
    Channel::with_config(
        "ch-1",
        &json!({ "service": format!("{PDS}/"), "langs": ["en"] }),
    )
}

/// The URL of an XRPC call, query encoded as the SDK encodes it.
fn xrpc(nsid: &str, query: &[(&str, &str)]) -> String {
    let mut url = format!("{PDS}/xrpc/{nsid}");
    for (n, (name, value)) in query.iter().enumerate() {
        url.push(if n == 0 { '?' } else { '&' });
        url.push_str(&encode_component(name));
        url.push('=');
        url.push_str(&encode_component(value));
    }
    url
}

fn session(access: &str, refresh: &str) -> Value {
    json!({ "did": ME, "handle": "plaza.example.com", "accessJwt": access, "refreshJwt": refresh, "active": true })
}

/// A host with credentials and a kept session.
fn signed_in() -> TestHost {
    let host = TestHost::new();
    host.credential("identifier", "plaza.example.com")
        .credential("app_password", "abcd-efgh-ijkl-mnop");
    let kept = json!({
        "did": ME, "handle": "plaza.example.com", "accessJwt": "access-1",
        "refreshJwt": "refresh-1",
        "credentials": fingerprint("plaza.example.com", "abcd-efgh-ijkl-mnop")
    });
    host.kv_set("session", kept.to_string());
    host
}

fn xrpc_err(status: u16, error: &str, message: &str) -> Response {
    Response::json_body(status, &json!({ "error": error, "message": message }))
}

fn post_uri(rkey: &str) -> String {
    format!("at://{ME}/app.bsky.feed.post/{rkey}")
}

fn get_record_url(repo: &str, collection: &str, rkey: &str) -> String {
    xrpc(
        "com.atproto.repo.getRecord",
        &[("repo", repo), ("collection", collection), ("rkey", rkey)],
    )
}

fn posted(host: &TestHost, nsid: &str) -> Vec<Value> {
    let url = format!("{PDS}/xrpc/{nsid}");
    host.requests()
        .into_iter()
        .filter(|r| r.method() == "POST" && r.url() == url)
        .filter_map(|r| r.body_json())
        .collect()
}

/// Scripts the lookup before a keyed publish (nothing there yet) and the
/// write; answers the rkey.
fn expect_new_post(host: &TestHost, key: &str) -> String {
    let rkey = tid::for_key(key);
    host.on(
        "GET",
        &get_record_url(ME, "app.bsky.feed.post", &rkey),
        xrpc_err(400, "RecordNotFound", "Could not locate record"),
    )
    .on(
        "POST",
        &xrpc("com.atproto.repo.putRecord", &[]),
        Response::json_body(
            200,
            &json!({ "uri": post_uri(&rkey), "cid": "bafyreinew", "commit": {"cid": "c", "rev": "r"} }),
        ),
    );
    rkey
}

#[test]
fn describe_declares_what_is_implemented_with_bluesky_limits() {
    let manifest = Bluesky::describe();
    assert_eq!(manifest.id, "bluesky");
    assert_eq!(manifest.allowed_hosts, ["bsky.social", "{config.service}"]);
    assert_eq!(manifest.limits.max_text_chars, 300);
    assert_eq!(manifest.limits.max_media, 4);
    assert!(
        manifest
            .limits
            .media_types
            .contains(&"image/jpeg".to_owned())
    );
    let declared = manifest.capabilities;
    assert!(declared.contains(
        Capabilities::PUBLISH
            | Capabilities::PUBLISH_MEDIA
            | Capabilities::THREADS
            | Capabilities::DELETE_POST
            | Capabilities::MENTIONS
            | Capabilities::COMMENTS
            | Capabilities::REPLY
            | Capabilities::HIDE
            | Capabilities::BLOCK_AUTHOR
            | Capabilities::POST_METRICS
            | Capabilities::ACCOUNT_METRICS
    ));
    assert!(!declared.intersects(
        Capabilities::DELETE_COMMENT
            | Capabilities::OAUTH2
            | Capabilities::WEBHOOKS
            | Capabilities::SEARCH
            | Capabilities::DIRECT_MESSAGES
    ));
    let schema: Value = serde_json::from_str(&manifest.config_schema).unwrap();
    assert_eq!(
        schema["properties"]["service"]["default"],
        "https://bsky.social"
    );
    let options: Value = serde_json::from_str(&manifest.post_options_schema).unwrap();
    assert_eq!(options["properties"]["langs"]["maxItems"], 3);
}

#[test]
fn configs_take_a_service_url_and_languages() {
    for good in [
        r#"{}"#,
        r#"{"service": "https://bsky.social"}"#,
        r#"{"service": "http://127.0.0.1:2583/", "langs": ["en", "pt-BR"]}"#,
    ] {
        assert_eq!(Bluesky::validate_config(good), Ok(()), "{good}");
    }
    for bad in [
        r#"{"service": "ftp://bsky.social"}"#,
        r#"{"service": "https://user:pw@bsky.social"}"#,
        r#"{"service": "https://bsky.social?x=1"}"#,
        r#"{"langs": ["en", "de", "fr", "es"]}"#,
        r#"{"langs": ["english!"]}"#,
        r#"{"handle": "x"}"#,
    ] {
        assert!(
            matches!(Bluesky::validate_config(bad), Err(PluginError::Invalid(_))),
            "{bad}"
        );
    }
}

#[test]
fn the_first_call_signs_in_and_keeps_the_session() {
    let host = TestHost::new();
    host.credential("identifier", " plaza.example.com ")
        .credential("app_password", "abcd-efgh-ijkl-mnop")
        .on(
            "POST",
            &xrpc("com.atproto.server.createSession", &[]),
            Response::json_body(200, &session("access-1", "refresh-1")),
        );
    let rkey = expect_new_post(&host, "k1");

    Bluesky::publish(&channel(), Post::new("hello").idempotency_key("k1")).unwrap();

    let login = &host.requests()[0];
    assert_eq!(
        login.body_json(),
        Some(json!({ "identifier": "plaza.example.com", "password": "abcd-efgh-ijkl-mnop" }))
    );
    assert_eq!(login.header_value("authorization"), None);
    let put = host.last_request().unwrap();
    assert_eq!(put.header_value("authorization"), Some("Bearer access-1"));
    assert_eq!(put.body_json::<Value>().unwrap()["rkey"], rkey);
    let kept: Value = serde_json::from_slice(&host.kv_get("session").unwrap()).unwrap();
    assert_eq!(kept["accessJwt"], "access-1");
    assert_eq!(kept["refreshJwt"], "refresh-1");
    assert_eq!(
        kept["credentials"],
        fingerprint("plaza.example.com", "abcd-efgh-ijkl-mnop")
    );
    assert!(!String::from_utf8_lossy(&host.kv_get("session").unwrap()).contains("abcd-efgh"));

    // The next call reuses it: no second sign-in.
    expect_new_post(&host, "k2");
    Bluesky::publish(&channel(), Post::new("again").idempotency_key("k2")).unwrap();
    assert_eq!(posted(&host, "com.atproto.server.createSession").len(), 1);
}

#[test]
fn an_expired_access_token_is_refreshed_and_the_call_repeated() {
    let host = signed_in();
    let did = ME;
    // In order: the call, the refresh, the call again.
    host.push(xrpc_err(400, "ExpiredToken", "Token has expired"))
        .push(Response::json_body(200, &session("access-2", "refresh-2")))
        .push(Response::json_body(200, &json!({ "did": ME, "handle": "plaza.example.com", "followersCount": 7, "followsCount": 2, "postsCount": 40 })));

    let metrics = Bluesky::account_metrics(&channel()).unwrap();

    let requests = host.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        requests[0].url(),
        xrpc("app.bsky.actor.getProfile", &[("actor", did)])
    );
    assert_eq!(
        requests[1].url(),
        xrpc("com.atproto.server.refreshSession", &[])
    );
    assert_eq!(requests[1].method(), "POST");
    assert_eq!(requests[2].url(), requests[0].url());
    assert_eq!(
        requests[0].header_value("authorization"),
        Some("Bearer access-1")
    );
    assert_eq!(
        requests[1].header_value("authorization"),
        Some("Bearer refresh-1")
    );
    assert_eq!(
        requests[2].header_value("authorization"),
        Some("Bearer access-2")
    );
    let kept: Value = serde_json::from_slice(&host.kv_get("session").unwrap()).unwrap();
    assert_eq!(kept["refreshJwt"], "refresh-2");
    let named: Vec<(String, f64)> = metrics.into_iter().map(|m| (m.name, m.value)).collect();
    assert_eq!(
        named,
        [
            ("followers".into(), 7.0),
            ("following".into(), 2.0),
            ("posts".into(), 40.0)
        ]
    );
}

#[test]
fn a_refused_refresh_token_signs_in_again_with_the_app_password() {
    let host = signed_in();
    // In order: the call, the refresh, the sign-in, the call again.
    host.push(xrpc_err(400, "InvalidToken", "Token could not be verified"))
        .push(xrpc_err(400, "ExpiredToken", "Token has expired"))
        .push(Response::json_body(200, &session("access-3", "refresh-3")))
        .push(Response::json_body(
            200,
            &json!({ "did": ME, "handle": "h", "followersCount": 1 }),
        ));

    Bluesky::account_metrics(&channel()).unwrap();

    assert_eq!(
        host.last_request().unwrap().header_value("authorization"),
        Some("Bearer access-3")
    );
    assert_eq!(posted(&host, "com.atproto.server.createSession").len(), 1);
    let kept: Value = serde_json::from_slice(&host.kv_get("session").unwrap()).unwrap();
    assert_eq!(kept["accessJwt"], "access-3");
}

#[test]
fn wrong_credentials_or_a_missing_password_need_a_reconnect() {
    let host = TestHost::new();
    host.credential("identifier", "plaza.example.com")
        .credential("app_password", "wrong")
        .on(
            "POST",
            &xrpc("com.atproto.server.createSession", &[]),
            xrpc_err(
                401,
                "AuthenticationRequired",
                "Invalid identifier or password",
            ),
        );
    assert_eq!(
        Bluesky::account_metrics(&channel()),
        Err(PluginError::Unauthorized(
            "AuthenticationRequired: Invalid identifier or password".into()
        ))
    );

    let host = TestHost::new();
    host.credential("identifier", "plaza.example.com");
    assert!(matches!(
        Bluesky::account_metrics(&channel()),
        Err(PluginError::Unauthorized(m)) if m.contains("app_password")
    ));
    assert!(host.requests().is_empty());
}

#[test]
fn a_session_for_other_credentials_is_not_reused() {
    let host = signed_in();
    // A new app password: the check must sign in with it, not trust the
    // session the old one made.
    host.credential("app_password", "new-pass-word-here").on(
        "POST",
        &xrpc("com.atproto.server.createSession", &[]),
        xrpc_err(
            401,
            "AuthenticationRequired",
            "Invalid identifier or password",
        ),
    );
    assert!(matches!(
        Bluesky::account_metrics(&channel()),
        Err(PluginError::Unauthorized(_))
    ));
    assert_eq!(posted(&host, "com.atproto.server.createSession").len(), 1);
}

#[test]
fn a_post_carries_text_facets_languages_and_a_derived_key() {
    let host = signed_in();
    let rkey = expect_new_post(&host, "plaza-post-1");
    host.on(
        "GET",
        &xrpc(
            "com.atproto.identity.resolveHandle",
            &[("handle", "bob.example.com")],
        ),
        Response::json_body(200, &json!({ "did": BOB })),
    )
    .on(
        "GET",
        &xrpc(
            "com.atproto.identity.resolveHandle",
            &[("handle", "ghost.example.com")],
        ),
        xrpc_err(400, "HandleNotFound", "Unable to resolve handle"),
    );
    let text =
        "Café ☕ with @bob.example.com and @ghost.example.com: https://example.com/menu. #Rôti!";

    let published =
        Bluesky::publish(&channel(), Post::new(text).idempotency_key("plaza-post-1")).unwrap();

    assert_eq!(published.remote_id, post_uri(&rkey));
    assert_eq!(
        published.url.as_deref(),
        Some(format!("https://bsky.app/profile/{ME}/post/{rkey}").as_str())
    );
    let put = &posted(&host, "com.atproto.repo.putRecord")[0];
    assert_eq!(put["repo"], ME);
    assert_eq!(put["collection"], "app.bsky.feed.post");
    assert_eq!(put["rkey"], rkey);
    assert_eq!(put["swapRecord"], Value::Null);
    assert!(put.as_object().unwrap().contains_key("swapRecord"));
    let record = &put["record"];
    assert_eq!(record["$type"], "app.bsky.feed.post");
    assert_eq!(record["text"], text);
    assert_eq!(record["langs"], json!(["en"]));
    assert_eq!(record["createdAt"], "2023-11-14T22:13:20.000Z");
    // "Café ☕ with " is 5 + 1 + 3 + 6 = 15 bytes: é is 2 bytes, ☕ 3.
    let facets = record["facets"].as_array().unwrap();
    assert_eq!(
        facets[0],
        json!({
            "index": { "byteStart": 15, "byteEnd": 31 },
            "features": [{ "$type": "app.bsky.richtext.facet#mention", "did": BOB }]
        })
    );
    // The unresolved handle stays text; the link loses its full stop.
    let link = &facets[1];
    assert_eq!(link["features"][0]["uri"], "https://example.com/menu");
    let start = text.find("https://").unwrap();
    assert_eq!(link["index"]["byteStart"], start);
    assert_eq!(
        link["index"]["byteEnd"],
        start + "https://example.com/menu".len()
    );
    let tag = &facets[2];
    assert_eq!(
        tag["features"][0],
        json!({ "$type": "app.bsky.richtext.facet#tag", "tag": "Rôti" })
    );
    let tag_start = text.find('#').unwrap();
    assert_eq!(tag["index"]["byteStart"], tag_start);
    assert_eq!(tag["index"]["byteEnd"], tag_start + "#Rôti".len());
    assert_eq!(facets.len(), 3);
}

#[test]
fn post_options_choose_the_languages() {
    let host = signed_in();
    expect_new_post(&host, "k");
    Bluesky::publish(
        &channel(),
        Post::new("Olá")
            .idempotency_key("k")
            .options(r#"{"langs": ["pt-BR", "en"]}"#),
    )
    .unwrap();
    let put = &posted(&host, "com.atproto.repo.putRecord")[0];
    assert_eq!(put["record"]["langs"], json!(["pt-BR", "en"]));
    assert!(put["record"].get("facets").is_none());

    let host = signed_in();
    assert!(matches!(
        Bluesky::publish(&channel(), Post::new("x").options(r#"{"lang": "en"}"#)),
        Err(PluginError::Invalid(_))
    ));
    assert!(host.requests().is_empty());
}

#[test]
fn a_post_already_at_its_key_is_answered_without_writing_again() {
    let host = signed_in();
    let rkey = tid::for_key("plaza-post-1");
    host.on(
        "GET",
        &get_record_url(ME, "app.bsky.feed.post", &rkey),
        Response::json_body(
            200,
            &json!({ "uri": post_uri(&rkey), "cid": "bafyold", "value": { "text": "hi" } }),
        ),
    );

    let post = Post::new("hi @bob.example.com")
        .idempotency_key("plaza-post-1")
        .reply_to(post_uri("3kparent22222"));

    let published = Bluesky::publish(&channel(), post).unwrap();

    assert_eq!(published.remote_id, post_uri(&rkey));
    assert_eq!(
        host.requests().len(),
        1,
        "no parent read, no handle lookup, no write"
    );
}

#[test]
fn a_racing_attempt_that_took_the_key_first_is_answered() {
    let host = signed_in();
    let rkey = tid::for_key("k");
    let url = get_record_url(ME, "app.bsky.feed.post", &rkey);
    host.push(xrpc_err(400, "RecordNotFound", "Could not locate record"))
        .push(xrpc_err(400, "InvalidSwap", "Record was at bafyother"))
        .push(Response::json_body(
            200,
            &json!({ "uri": post_uri(&rkey), "cid": "bafyother", "value": {} }),
        ));

    let published = Bluesky::publish(&channel(), Post::new("hi").idempotency_key("k")).unwrap();

    assert_eq!(published.remote_id, post_uri(&rkey));
    let urls: Vec<String> = host.requests().iter().map(|r| r.url().to_owned()).collect();
    assert_eq!(
        urls,
        [url.clone(), xrpc("com.atproto.repo.putRecord", &[]), url]
    );
}

#[test]
fn a_post_without_a_key_lets_the_server_choose_one() {
    let host = signed_in();
    host.on(
        "POST",
        &xrpc("com.atproto.repo.createRecord", &[]),
        Response::json_body(
            200,
            &json!({ "uri": post_uri("3kserverkey22"), "cid": "c" }),
        ),
    );
    let published = Bluesky::publish(&channel(), Post::new("hi")).unwrap();
    assert_eq!(published.remote_id, post_uri("3kserverkey22"));
    let body = &posted(&host, "com.atproto.repo.createRecord")[0];
    assert!(body.get("rkey").is_none());
    assert_eq!(body["record"]["text"], "hi");
}

#[test]
fn text_is_measured_in_graphemes() {
    // A family emoji is 7 chars and 25 bytes, but one grapheme.
    let family = "👨‍👩‍👧‍👦";
    let host = signed_in();
    expect_new_post(&host, "k");
    let long_but_fine = family.repeat(100);
    Bluesky::publish(&channel(), Post::new(&long_but_fine).idempotency_key("k")).unwrap();

    let host = signed_in();
    let too_long = "é".repeat(301);
    assert_eq!(
        Bluesky::publish(&channel(), Post::new(&too_long).idempotency_key("k")),
        Err(PluginError::Invalid(
            "the text is 301 characters; Bluesky takes at most 300".into()
        ))
    );
    assert!(host.requests().is_empty(), "refused before any call");

    let host = signed_in();
    let too_many_bytes = family.repeat(130);
    assert!(matches!(
        Bluesky::publish(&channel(), Post::new(&too_many_bytes)),
        Err(PluginError::Invalid(m)) if m.contains("bytes")
    ));
    assert!(matches!(
        Bluesky::publish(&channel(), Post::new("   ")),
        Err(PluginError::Invalid(_))
    ));
    assert!(host.requests().is_empty());
}

/// A 3×2 PNG: signature, IHDR with width 3 and height 2.
fn png() -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    bytes.extend_from_slice(&[0, 0, 0, 13]);
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&3_u32.to_be_bytes());
    bytes.extend_from_slice(&2_u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

#[test]
fn images_are_uploaded_as_blobs_and_embedded_with_alt_text() {
    let host = signed_in();
    expect_new_post(&host, "k");
    let bytes = png();
    host.media("m1", bytes.clone())
        .media("m2", b"\xff\xd8\xff".to_vec());
    let blob = |cid: &str, mime: &str| json!({ "$type": "blob", "ref": { "$link": cid }, "mimeType": mime, "size": 3 });
    host.push(Response::json_body(
        200,
        &json!({ "blob": blob("bafkpng", "image/png") }),
    ))
    .push(Response::json_body(
        200,
        &json!({ "blob": blob("bafkjpg", "image/jpeg") }),
    ));
    let post = Post::new("")
        .idempotency_key("k")
        .media(MediaRef::new("m1", "image/png", bytes.len() as u64).alt_text("A tiny roast"))
        .media(MediaRef::new("m2", "image/jpeg", 3));

    Bluesky::publish(&channel(), post).unwrap();

    let uploads: Vec<_> = host
        .requests()
        .into_iter()
        .filter(|r| r.url() == xrpc("com.atproto.repo.uploadBlob", &[]))
        .collect();
    assert_eq!(uploads.len(), 2);
    assert_eq!(uploads[0].method(), "POST");
    assert_eq!(uploads[0].header_value("content-type"), Some("image/png"));
    assert_eq!(
        uploads[0].header_value("authorization"),
        Some("Bearer access-1")
    );
    assert_eq!(uploads[0].body(), Some(bytes.as_slice()));
    assert_eq!(uploads[1].header_value("content-type"), Some("image/jpeg"));
    let record = &posted(&host, "com.atproto.repo.putRecord")[0]["record"];
    assert_eq!(
        record["embed"],
        json!({
            "$type": "app.bsky.embed.images",
            "images": [
                { "alt": "A tiny roast", "image": blob("bafkpng", "image/png"), "aspectRatio": { "width": 3, "height": 2 } },
                { "alt": "", "image": blob("bafkjpg", "image/jpeg") }
            ]
        })
    );
    assert_eq!(record["text"], "");
}

#[test]
fn media_bluesky_refuses_is_invalid_before_anything_is_sent() {
    let cases = [
        Post::new("x").media(MediaRef::new("v", "video/mp4", 10)),
        Post::new("x").media(MediaRef::new("big", "image/jpeg", 1_000_001)),
        (0..5).fold(Post::new("x"), |p, n| {
            p.media(MediaRef::new(format!("m{n}"), "image/png", 10))
        }),
    ];
    for post in cases {
        let host = signed_in();
        assert!(
            matches!(
                Bluesky::publish(&channel(), post.clone()),
                Err(PluginError::Invalid(_))
            ),
            "{post:?}"
        );
        assert!(host.requests().is_empty());
    }
}

#[test]
fn a_follow_up_answers_the_part_before_under_the_thread_root() {
    let host = signed_in();
    let rkey = expect_new_post(&host, "k2");
    let parent = post_uri("3kparent22222");
    let root = post_uri("3kroot2222222");
    host.on(
        "GET",
        &get_record_url(ME, "app.bsky.feed.post", "3kparent22222"),
        Response::json_body(
            200,
            &json!({
                "uri": parent, "cid": "bafyparent",
                "value": { "text": "part 2", "reply": {
                    "root": { "uri": root, "cid": "bafyroot" },
                    "parent": { "uri": root, "cid": "bafyroot" }
                } }
            }),
        ),
    );

    let published = Bluesky::publish(
        &channel(),
        Post::new("part 3").idempotency_key("k2").reply_to(&parent),
    )
    .unwrap();

    assert_eq!(published.remote_id, post_uri(&rkey));
    let reply = &posted(&host, "com.atproto.repo.putRecord")[0]["record"]["reply"];
    assert_eq!(
        *reply,
        json!({
            "root": { "uri": root, "cid": "bafyroot" },
            "parent": { "uri": parent, "cid": "bafyparent" }
        })
    );
}

#[test]
fn replying_to_a_thread_start_uses_it_as_root_and_parent() {
    let host = signed_in();
    expect_new_post(&host, "r1");
    let theirs = format!("at://{BOB}/app.bsky.feed.post/3kbob22222222");
    host.on(
        "GET",
        &get_record_url(BOB, "app.bsky.feed.post", "3kbob22222222"),
        Response::json_body(
            200,
            &json!({ "uri": theirs, "cid": "bafybob", "value": { "text": "hi" } }),
        ),
    );

    Bluesky::reply(
        &channel(),
        &theirs,
        Post::new("thanks!").idempotency_key("r1"),
    )
    .unwrap();

    let reply = &posted(&host, "com.atproto.repo.putRecord")[0]["record"]["reply"];
    let strong = json!({ "uri": theirs, "cid": "bafybob" });
    assert_eq!(*reply, json!({ "root": strong, "parent": strong }));

    let host = signed_in();
    host.on(
        "GET",
        &get_record_url(BOB, "app.bsky.feed.post", "3kgone2222222"),
        xrpc_err(400, "RecordNotFound", "Could not locate record"),
    );
    let gone = format!("at://{BOB}/app.bsky.feed.post/3kgone2222222");
    assert_eq!(
        Bluesky::reply(&channel(), &gone, Post::new("hi")),
        Err(PluginError::NotFound)
    );
    assert!(matches!(
        Bluesky::reply(&channel(), "https://bsky.app/x", Post::new("hi")),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn find_published_reads_the_record_at_the_derived_key() {
    let host = signed_in();
    let rkey = tid::for_key("plaza-1");
    let url = get_record_url(ME, "app.bsky.feed.post", &rkey);
    host.on(
        "GET",
        &url,
        Response::json_body(
            200,
            &json!({ "uri": post_uri(&rkey), "cid": "c", "value": {} }),
        ),
    );
    let found = Bluesky::find_published(&channel(), "plaza-1")
        .unwrap()
        .unwrap();
    assert_eq!(found.remote_id, post_uri(&rkey));

    host.on(
        "GET",
        &url,
        xrpc_err(400, "RecordNotFound", "Could not locate record"),
    );
    assert_eq!(Bluesky::find_published(&channel(), "plaza-1"), Ok(None));

    // Anything but the platform's "no such record" is not an answer.
    host.on("GET", &url, Response::text_body(404, "Not Found"));
    assert_eq!(
        Bluesky::find_published(&channel(), "plaza-1"),
        Err(PluginError::NotFound)
    );
    host.on(
        "GET",
        &url,
        xrpc_err(502, "UpstreamFailure", "Upstream service unreachable"),
    );
    assert!(matches!(
        Bluesky::find_published(&channel(), "plaza-1"),
        Err(PluginError::Transient(_))
    ));
    assert!(matches!(
        Bluesky::find_published(&channel(), ""),
        Err(PluginError::Invalid(_))
    ));
}

#[test]
fn deleting_removes_the_record_of_the_account_only() {
    let host = signed_in();
    host.on(
        "POST",
        &xrpc("com.atproto.repo.deleteRecord", &[]),
        Response::json_body(200, &json!({ "commit": { "cid": "c", "rev": "r" } })),
    );
    Bluesky::delete_post(&channel(), &post_uri("3kdelete22222")).unwrap();
    assert_eq!(
        posted(&host, "com.atproto.repo.deleteRecord"),
        [json!({ "repo": ME, "collection": "app.bsky.feed.post", "rkey": "3kdelete22222" })]
    );

    let host = signed_in();
    let theirs = format!("at://{BOB}/app.bsky.feed.post/3kbob22222222");
    assert!(matches!(
        Bluesky::delete_post(&channel(), &theirs),
        Err(PluginError::Invalid(_))
    ));
    assert!(host.requests().is_empty());
}

fn notification(reason: &str, uri: &str, record: &Value, subject: Option<&str>) -> Value {
    json!({
        "uri": uri, "cid": "bafyn",
        "author": { "did": BOB, "handle": "bob.example.com", "displayName": "Bob" },
        "reason": reason,
        "reasonSubject": subject,
        "record": record,
        "isRead": false,
        "indexedAt": "2024-05-01T10:00:00.500Z"
    })
}

#[test]
fn mentions_replies_and_quotes_come_from_notifications() {
    let host = signed_in();
    let mine = post_uri("3kmine2222222");
    let reply_uri = format!("at://{BOB}/app.bsky.feed.post/3kreply222222");
    let answer = json!({
        "cursor": "2024-05-01T09:00:00.000Z",
        "notifications": [
            notification("reply", &reply_uri, &json!({
                "$type": "app.bsky.feed.post", "text": "Lovely!", "createdAt": "2024-05-01T10:00:00.000Z",
                "langs": ["en"],
                "reply": { "root": { "uri": mine, "cid": "a" }, "parent": { "uri": mine, "cid": "a" } }
            }), Some(&mine)),
            notification("like", &format!("at://{BOB}/app.bsky.feed.like/3klike2222222"), &json!({}), Some(&mine)),
            notification("mention", &format!("at://{BOB}/app.bsky.feed.post/3kmention2222"), &json!({
                "$type": "app.bsky.feed.post", "text": "hey @plaza.example.com", "createdAt": "2024-05-01T09:30:00.000Z"
            }), None),
        ]
    });
    let url = xrpc(
        "app.bsky.notification.listNotifications",
        &[
            ("limit", "50"),
            ("reasons", "mention"),
            ("reasons", "reply"),
            ("reasons", "quote"),
            ("cursor", "c0"),
        ],
    );
    host.on("GET", &url, Response::json_body(200, &answer));

    let page = Bluesky::fetch_mentions(&channel(), Some("c0"), 50).unwrap();

    assert_eq!(
        page.next_cursor.as_deref(),
        Some("2024-05-01T09:00:00.000Z")
    );
    assert_eq!(page.items.len(), 2, "the like is not an inbox item");
    let reply = &page.items[0];
    assert_eq!(reply.kind, ItemKind::Comment);
    assert_eq!(reply.remote_id, reply_uri);
    assert_eq!(reply.text, "Lovely!");
    assert_eq!(reply.author.remote_id, BOB);
    assert_eq!(reply.author.handle, "bob.example.com");
    assert_eq!(reply.author.display_name.as_deref(), Some("Bob"));
    assert_eq!(reply.thread_id.as_deref(), Some(mine.as_str()));
    assert_eq!(reply.parent_id.as_deref(), Some(mine.as_str()));
    assert_eq!(reply.post_id.as_deref(), Some(mine.as_str()));
    assert_eq!(reply.lang.as_deref(), Some("en"));
    assert_eq!(reply.created_at, "2024-05-01T10:00:00.000Z");
    assert_eq!(
        reply.url.as_deref(),
        Some(format!("https://bsky.app/profile/{BOB}/post/3kreply222222").as_str())
    );
    let mention = &page.items[1];
    assert_eq!(mention.kind, ItemKind::Mention);
    assert_eq!(mention.thread_id, None);
    assert_eq!(mention.post_id, None);

    // The end: an empty page has no cursor even if the server sends one.
    let first = xrpc(
        "app.bsky.notification.listNotifications",
        &[
            ("limit", "100"),
            ("reasons", "mention"),
            ("reasons", "reply"),
            ("reasons", "quote"),
        ],
    );
    host.on(
        "GET",
        &first,
        Response::json_body(200, &json!({ "notifications": [], "cursor": "x" })),
    );
    let page = Bluesky::fetch_mentions(&channel(), None, 500).unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.next_cursor, None);
}

fn thread_post(uri: &str, did: &str, text: &str, at: &str, replies: &[Value]) -> Value {
    json!({
        "$type": "app.bsky.feed.defs#threadViewPost",
        "post": {
            "uri": uri, "cid": "c",
            "author": { "did": did, "handle": format!("{}.test", &did[8..]) },
            "record": { "$type": "app.bsky.feed.post", "text": text, "createdAt": at },
            "indexedAt": at, "likeCount": 0
        },
        "replies": replies
    })
}

#[test]
fn comments_are_the_threads_replies_by_others_newest_first() {
    let host = signed_in();
    let mine = post_uri("3kmine2222222");
    let a = format!("at://{BOB}/app.bsky.feed.post/3ka2222222222");
    let b = format!("at://{BOB}/app.bsky.feed.post/3kb2222222222");
    let own = post_uri("3kown22222222");
    let thread = thread_post(
        &mine,
        ME,
        "Spring roast",
        "2024-05-01T08:00:00Z",
        &[
            thread_post(
                &a,
                BOB,
                "first",
                "2024-05-01T09:00:00Z",
                &[thread_post(
                    &own,
                    ME,
                    "thanks",
                    "2024-05-01T09:30:00Z",
                    &[thread_post(&b, BOB, "nested", "2024-05-01T10:00:00Z", &[])],
                )],
            ),
            json!({ "$type": "app.bsky.feed.defs#blockedPost", "uri": "at://x/app.bsky.feed.post/y", "blocked": true }),
        ],
    );
    let url = xrpc(
        "app.bsky.feed.getPostThread",
        &[("uri", &mine), ("depth", "1000"), ("parentHeight", "0")],
    );
    host.on(
        "GET",
        &url,
        Response::json_body(200, &json!({ "thread": thread })),
    );

    let page = Bluesky::fetch_comments(&channel(), &mine, None, 1).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].remote_id, b);
    assert_eq!(page.items[0].kind, ItemKind::Comment);
    assert_eq!(page.items[0].post_id.as_deref(), Some(mine.as_str()));
    assert_eq!(page.next_cursor.as_deref(), Some("1"));

    let page = Bluesky::fetch_comments(&channel(), &mine, Some("1"), 10).unwrap();
    let ids: Vec<&str> = page.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, [a.as_str()]);
    assert_eq!(page.next_cursor, None);

    host.on(
        "GET",
        &url,
        xrpc_err(400, "NotFound", "Post not found: at://…"),
    );
    assert_eq!(
        Bluesky::fetch_comments(&channel(), &mine, None, 10),
        Err(PluginError::NotFound)
    );
}

#[test]
fn post_metrics_come_from_get_posts() {
    let host = signed_in();
    let one = post_uri("3kone22222222");
    let two = post_uri("3ktwo22222222");
    let url = xrpc("app.bsky.feed.getPosts", &[("uris", &one), ("uris", &two)]);
    host.on(
        "GET",
        &url,
        Response::json_body(200, &json!({ "posts": [{
            "uri": one, "cid": "c", "author": { "did": ME, "handle": "h" }, "record": {},
            "likeCount": 5, "repostCount": 2, "replyCount": 1, "quoteCount": 3, "indexedAt": "2024-01-01T00:00:00Z"
        }] })),
    );

    let metrics = Bluesky::post_metrics(&channel(), &[one.clone(), two]).unwrap();

    let named: Vec<(&str, &str, f64)> = metrics
        .iter()
        .map(|m| (m.post_id.as_deref().unwrap(), m.name.as_str(), m.value))
        .collect();
    assert_eq!(
        named,
        [
            (one.as_str(), "likes", 5.0),
            (one.as_str(), "reposts", 2.0),
            (one.as_str(), "replies", 1.0),
            (one.as_str(), "quotes", 3.0)
        ]
    );
}

#[test]
fn check_credentials_answers_the_account_with_its_followers() {
    let host = signed_in();
    host.on(
        "GET",
        &xrpc("com.atproto.server.getSession", &[]),
        Response::json_body(200, &json!({ "did": ME, "handle": "plaza.example.com" })),
    )
    .on(
        "GET",
        &xrpc("app.bsky.actor.getProfile", &[("actor", ME)]),
        Response::json_body(200, &json!({ "did": ME, "handle": "plaza.example.com", "displayName": "Plaza Café", "followersCount": 12 })),
    );
    let author = Bluesky::check_credentials(&channel()).unwrap();
    assert_eq!(author.remote_id, ME);
    assert_eq!(author.handle, "plaza.example.com");
    assert_eq!(author.display_name.as_deref(), Some("Plaza Café"));
    assert_eq!(author.followers, Some(12));

    // A PDS without an AppView cannot serve profiles: the check still passes.
    host.on(
        "GET",
        &xrpc("app.bsky.actor.getProfile", &[("actor", ME)]),
        xrpc_err(502, "UpstreamFailure", "Upstream service unreachable"),
    );
    let author = Bluesky::check_credentials(&channel()).unwrap();
    assert_eq!(author.followers, None);
}

#[test]
fn moderation_mutes_blocks_and_reports() {
    let theirs = format!("at://{BOB}/app.bsky.feed.post/3kbob22222222");
    let host = signed_in();
    host.push(Response::json_body(200, &json!({})));
    Bluesky::moderate(&channel(), &theirs, Moderation::MuteAuthor).unwrap();
    assert_eq!(
        posted(&host, "app.bsky.graph.muteActor"),
        [json!({ "actor": BOB })]
    );

    let host = signed_in();
    host.on(
        "GET",
        &xrpc(
            "com.atproto.identity.resolveHandle",
            &[("handle", "bob.example.com")],
        ),
        Response::json_body(200, &json!({ "did": BOB })),
    )
    .push(Response::json_body(
        200,
        &json!({ "uri": "at://x/app.bsky.graph.block/y", "cid": "c" }),
    ))
    .push(xrpc_err(400, "InvalidSwap", "Record was at bafy"));
    Bluesky::moderate(&channel(), "@bob.example.com", Moderation::BlockAuthor).unwrap();
    Bluesky::moderate(&channel(), BOB, Moderation::BlockAuthor).unwrap();
    let blocks = posted(&host, "com.atproto.repo.putRecord");
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0]["collection"], "app.bsky.graph.block");
    assert_eq!(blocks[0]["record"]["subject"], BOB);
    assert_eq!(blocks[0]["record"]["$type"], "app.bsky.graph.block");
    assert_eq!(
        blocks[0]["rkey"], blocks[1]["rkey"],
        "one key per blocked account"
    );
    assert!(tid::is_valid(blocks[0]["rkey"].as_str().unwrap()));

    let host = signed_in();
    host.on(
        "GET",
        &get_record_url(BOB, "app.bsky.feed.post", "3kbob22222222"),
        Response::json_body(
            200,
            &json!({ "uri": theirs, "cid": "bafybob", "value": {} }),
        ),
    )
    .on(
        "POST",
        &xrpc("com.atproto.moderation.createReport", &[]),
        Response::json_body(200, &json!({ "id": 1 })),
    );
    Bluesky::moderate(&channel(), &theirs, Moderation::Report).unwrap();
    Bluesky::moderate(&channel(), BOB, Moderation::Report).unwrap();
    let reports = posted(&host, "com.atproto.moderation.createReport");
    assert_eq!(
        reports[0]["reasonType"],
        "com.atproto.moderation.defs#reasonOther"
    );
    assert_eq!(
        reports[0]["subject"],
        json!({ "$type": "com.atproto.repo.strongRef", "uri": theirs, "cid": "bafybob" })
    );
    assert_eq!(
        reports[1]["subject"],
        json!({ "$type": "com.atproto.admin.defs#repoRef", "did": BOB })
    );

    let host = signed_in();
    assert_eq!(
        Bluesky::moderate(&channel(), &theirs, Moderation::Delete),
        Err(PluginError::Unsupported)
    );
    assert!(host.requests().is_empty());
}

/// Bob's reply in alice's thread rooted at `3kroot2222222`.
fn reply_in_my_thread(host: &TestHost) -> String {
    let reply = format!("at://{BOB}/app.bsky.feed.post/3kreply222222");
    let root = post_uri("3kroot2222222");
    host.on(
        "GET",
        &get_record_url(BOB, "app.bsky.feed.post", "3kreply222222"),
        Response::json_body(
            200,
            &json!({ "uri": reply, "cid": "bafyreply", "value": { "text": "spam", "reply": {
                "root": { "uri": root, "cid": "bafyroot" }, "parent": { "uri": root, "cid": "bafyroot" }
            } } }),
        ),
    );
    reply
}

#[test]
fn hiding_a_reply_lists_it_in_the_threads_gate() {
    let host = signed_in();
    let reply = reply_in_my_thread(&host);
    let gate = get_record_url(ME, "app.bsky.feed.threadgate", "3kroot2222222");
    host.on(
        "GET",
        &gate,
        xrpc_err(400, "RecordNotFound", "Could not locate record"),
    )
    .on(
        "POST",
        &xrpc("com.atproto.repo.putRecord", &[]),
        Response::json_body(200, &json!({ "uri": "at://x", "cid": "c" })),
    );

    Bluesky::moderate(&channel(), &reply, Moderation::Hide).unwrap();

    let put = &posted(&host, "com.atproto.repo.putRecord")[0];
    assert_eq!(put["collection"], "app.bsky.feed.threadgate");
    assert_eq!(put["rkey"], "3kroot2222222", "keyed like the root post");
    assert_eq!(put["swapRecord"], Value::Null);
    assert_eq!(put["record"]["$type"], "app.bsky.feed.threadgate");
    assert_eq!(put["record"]["post"], post_uri("3kroot2222222"));
    assert_eq!(put["record"]["hiddenReplies"], json!([reply]));
    assert!(
        put["record"].get("allow").is_none(),
        "anyone may still reply"
    );
}

#[test]
fn unhiding_keeps_the_gates_other_rules_and_swaps_on_its_cid() {
    let host = signed_in();
    let reply = reply_in_my_thread(&host);
    let other = format!("at://{BOB}/app.bsky.feed.post/3kother222222");
    let gate = get_record_url(ME, "app.bsky.feed.threadgate", "3kroot2222222");
    let rules = json!([{ "$type": "app.bsky.feed.threadgate#followerRule" }]);
    host.on(
        "GET",
        &gate,
        Response::json_body(200, &json!({
            "uri": format!("at://{ME}/app.bsky.feed.threadgate/3kroot2222222"), "cid": "bafygate",
            "value": { "$type": "app.bsky.feed.threadgate", "post": post_uri("3kroot2222222"),
                       "createdAt": "2024-01-01T00:00:00Z", "allow": rules, "hiddenReplies": [other, reply] }
        })),
    )
    .on(
        "POST",
        &xrpc("com.atproto.repo.putRecord", &[]),
        Response::json_body(200, &json!({ "uri": "at://x", "cid": "c" })),
    );

    Bluesky::moderate(&channel(), &reply, Moderation::Unhide).unwrap();
    // Hiding what the gate lists already writes nothing.
    Bluesky::moderate(&channel(), &reply, Moderation::Hide).unwrap();

    let puts = posted(&host, "com.atproto.repo.putRecord");
    assert_eq!(puts.len(), 1);
    let put = &puts[0];
    assert_eq!(put["swapRecord"], "bafygate");
    assert_eq!(put["record"]["hiddenReplies"], json!([other]));
    assert_eq!(put["record"]["allow"], rules);
    assert_eq!(put["record"]["createdAt"], "2024-01-01T00:00:00Z");
}

#[test]
fn only_replies_in_the_accounts_threads_can_be_hidden() {
    let host = signed_in();
    let theirs = format!("at://{BOB}/app.bsky.feed.post/3kbob22222222");
    host.on(
        "GET",
        &get_record_url(BOB, "app.bsky.feed.post", "3kbob22222222"),
        Response::json_body(
            200,
            &json!({ "uri": theirs, "cid": "c", "value": { "text": "top-level" } }),
        ),
    );
    assert!(matches!(
        Bluesky::moderate(&channel(), &theirs, Moderation::Hide),
        Err(PluginError::Invalid(_))
    ));
    let elsewhere = format!("at://{BOB}/app.bsky.feed.post/3kelse2222222");
    let bob_root = format!("at://{BOB}/app.bsky.feed.post/3kbobroot2222");
    host.on(
        "GET",
        &get_record_url(BOB, "app.bsky.feed.post", "3kelse2222222"),
        Response::json_body(200, &json!({ "uri": elsewhere, "cid": "c", "value": { "reply": {
            "root": { "uri": bob_root, "cid": "r" }, "parent": { "uri": bob_root, "cid": "r" } } } })),
    );
    assert!(matches!(
        Bluesky::moderate(&channel(), &elsewhere, Moderation::Hide),
        Err(PluginError::Invalid(m)) if m.contains("own threads")
    ));
    assert!(posted(&host, "com.atproto.repo.putRecord").is_empty());
}

#[test]
fn xrpc_errors_map_to_plugin_errors() {
    let _host = TestHost::new();
    let now_secs = DEFAULT_NOW_MS / 1000;
    let limited = xrpc_err(429, "RateLimitExceeded", "Rate Limit Exceeded")
        .with_header("RateLimit-Limit", "5000")
        .with_header("RateLimit-Remaining", "0")
        .with_header("RateLimit-Reset", (now_secs + 90).to_string());
    assert_eq!(xrpc_error(&limited), PluginError::RateLimited(Some(90)));
    assert_eq!(
        xrpc_error(&Response::new(429).with_header("Retry-After", "12")),
        PluginError::RateLimited(Some(12))
    );
    assert_eq!(
        xrpc_error(&Response::new(429)),
        PluginError::RateLimited(None)
    );
    let past_reset = Response::new(429).with_header("ratelimit-reset", (now_secs - 5).to_string());
    assert_eq!(xrpc_error(&past_reset), PluginError::RateLimited(Some(0)));

    assert_eq!(
        xrpc_error(&xrpc_err(400, "ExpiredToken", "Token has expired")),
        PluginError::Unauthorized("ExpiredToken: Token has expired".into())
    );
    assert!(matches!(
        xrpc_error(&xrpc_err(
            400,
            "AccountTakedown",
            "Account has been taken down"
        )),
        PluginError::Unauthorized(_)
    ));
    assert_eq!(
        xrpc_error(&xrpc_err(400, "RecordNotFound", "Could not locate record")),
        PluginError::NotFound
    );
    assert_eq!(
        xrpc_error(&xrpc_err(
            400,
            "InvalidRequest",
            "Invalid app.bsky.feed.post record"
        )),
        PluginError::Invalid("InvalidRequest: Invalid app.bsky.feed.post record".into())
    );
    assert!(matches!(
        xrpc_error(&xrpc_err(400, "BlockedActor", "blocked")),
        PluginError::Invalid(_)
    ));
    assert!(matches!(
        xrpc_error(&xrpc_err(
            502,
            "UpstreamFailure",
            "Upstream service unreachable"
        )),
        PluginError::Transient(_)
    ));
    assert_eq!(
        xrpc_error(&xrpc_err(
            501,
            "MethodNotImplemented",
            "Method Not Implemented"
        )),
        PluginError::Unsupported
    );
    assert_eq!(
        xrpc_error(&Response::text_body(503, "<html>busy</html>")),
        PluginError::Transient("HTTP 503: HTTP 503".into())
    );
    assert!(matches!(
        xrpc_error(&Response::new(403)),
        PluginError::Unauthorized(_)
    ));
}

#[test]
fn unexpected_answers_are_transient_not_panics() {
    let host = signed_in();
    host.on(
        "GET",
        &xrpc("app.bsky.actor.getProfile", &[("actor", ME)]),
        Response::text_body(200, "<html>captive portal</html>"),
    );
    assert!(matches!(
        Bluesky::account_metrics(&channel()),
        Err(PluginError::Transient(_))
    ));

    let host = signed_in();
    host.push_error(plaza_sdk::http::HttpError::Timeout);
    assert_eq!(
        Bluesky::account_metrics(&channel()),
        Err(PluginError::Transient("timeout".into()))
    );

    // A rate-limited publish surfaces the wait.
    let host = signed_in();
    host.push(
        xrpc_err(429, "RateLimitExceeded", "Rate Limit Exceeded")
            .with_header("ratelimit-reset", (DEFAULT_NOW_MS / 1000 + 30).to_string()),
    );
    assert_eq!(
        Bluesky::publish(&channel(), Post::new("hi").idempotency_key("k")),
        Err(PluginError::RateLimited(Some(30)))
    );
}

#[test]
fn a_broken_kept_session_is_replaced() {
    let host = TestHost::new();
    host.credential("identifier", "plaza.example.com")
        .credential("app_password", "pw")
        .kv_set("session", "not json")
        .on(
            "POST",
            &xrpc("com.atproto.server.createSession", &[]),
            Response::json_body(200, &session("access-9", "refresh-9")),
        )
        .on(
            "GET",
            &xrpc("app.bsky.actor.getProfile", &[("actor", ME)]),
            Response::json_body(
                200,
                &json!({ "did": ME, "handle": "h", "followersCount": 0 }),
            ),
        );
    let metrics = Bluesky::account_metrics(&channel()).unwrap();
    assert_eq!(metrics[0].value, 0.0);
    assert_eq!(
        host.last_request().unwrap().header_value("authorization"),
        Some("Bearer access-9")
    );
}
