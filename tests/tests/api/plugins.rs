//! Plugins: real wasm components, built by this crate's build script,
//! loaded by the real server. Each misbehaviour ends its own call with a
//! clear error; the server and the other plugins carry on.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;

use plaza_api::config::Config;
use plaza_api::plugins::bindings::Post;
use plaza_api::plugins::{CallContext, CallError, PluginFault};
use plaza_tests::{TestApp, expect_json, expect_problem};
use reqwest::{Method, StatusCode};
use serde_json::json;

const PLUGINS_DIR: &str = env!("PLAZA_TEST_PLUGINS_DIR");

async fn app() -> TestApp {
    TestApp::spawn_with(|c| {
        plaza_tests::load_all_plugins(c);
        c.plugin_cpu_budget_ms = 300;
        c.plugin_memory_limit_bytes = 32 * 1024 * 1024;
        c.plugin_insecure_hosts = vec!["127.0.0.1".to_owned()];
    })
    .await
}

fn post(text: &str) -> Post {
    Post {
        text: text.to_owned(),
        media: vec![],
        reply_to: None,
        options: "{}".to_owned(),
        idempotency_key: "key-1".to_owned(),
    }
}

fn context(channel: &str, base_url: &str) -> CallContext {
    CallContext {
        channel_id: Some(channel.to_owned()),
        config: json!({ "base_url": base_url }),
        credentials: HashMap::from([("access_token".to_owned(), "s3cret-token".to_owned())]),
        media: None,
    }
}

async fn publish(app: &TestApp, text: &str) -> Result<String, CallError> {
    let plugin = app
        .state
        .plugins
        .get("misbehaving")
        .expect("misbehaving plugin loaded");
    app.state
        .plugins
        .publish(
            &plugin,
            context("chan-1", "https://example.com"),
            post(text),
        )
        .await
        .map(|published| published.remote_id)
}

#[actix_web::test]
async fn misbehaving_plugins_fail_only_their_own_call() {
    let app = app().await;
    assert_eq!(publish(&app, "ok").await, Ok("ok-1".to_owned()));

    for (text, check) in [
        (
            "panic",
            (|r| matches!(r, Err(CallError::Panicked(m)) if m.contains("panicked")))
                as fn(&Result<String, CallError>) -> bool,
        ),
        ("trap", |r| matches!(r, Err(CallError::Trapped(_)))),
        ("loop", |r| matches!(r, Err(CallError::TimedOut(_)))),
        ("alloc", |r| matches!(r, Err(CallError::OutOfMemory(_)))),
        ("huge", |r| matches!(r, Err(CallError::OutputTooLarge(_)))),
        (
            "denied",
            |r| matches!(r, Err(CallError::Plugin(PluginFault::Transient(m))) if m.contains("denied.invalid")),
        ),
    ] {
        let outcome = publish(&app, text).await;
        assert!(check(&outcome), "{text}: {outcome:?}");
        // Contained: the next call of the same plugin works.
        assert_eq!(
            publish(&app, "ok").await,
            Ok("ok-1".to_owned()),
            "after {text}"
        );
    }
    let health = app.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[actix_web::test]
async fn a_plugin_that_keeps_crashing_is_paused_and_reported() {
    let app = app().await;
    for _ in 0..5 {
        assert!(matches!(
            publish(&app, "panic").await,
            Err(CallError::Panicked(_))
        ));
    }
    let paused = publish(&app, "ok").await;
    assert!(
        matches!(&paused, Err(CallError::Unavailable(m)) if m.contains("paused")),
        "{paused:?}"
    );

    let ada = app.signup("ada@example.com").await;
    let view = expect_json(
        app.get("/v1/plugins/misbehaving", &ada.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["health"]["state"], "paused");
    assert_eq!(view["health"]["consecutive_failures"], 5);
    // The other plugin is unaffected.
    let template = expect_json(
        app.get("/v1/plugins/template", &ada.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(template["health"]["state"], "ok");
}

#[derive(diesel::QueryableByName)]
struct Scope {
    #[diesel(sql_type = diesel::sql_types::Text)]
    scope: String,
}

#[actix_web::test]
async fn each_call_gets_its_own_channel_scoped_store() {
    let app = app().await;
    let plugin = app.state.plugins.get("misbehaving").unwrap();
    let mut counts = Vec::new();
    for channel in ["a", "a", "b", "a"] {
        let published = app
            .state
            .plugins
            .publish(&plugin, context(channel, "https://example.com"), post("kv"))
            .await
            .unwrap();
        counts.push(published.remote_id);
    }
    assert_eq!(counts, ["1", "2", "1", "3"]);

    // The values live in the database, not in the process: every replica
    // and the next start see them.
    let scopes: Vec<Scope> = app
        .state
        .db
        .read(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT scope FROM plugin_kv ORDER BY scope")
                .load::<Scope>(conn)
                .map_err(plaza_api::db::DbError::from)
        })
        .await
        .unwrap();
    let scopes: Vec<&str> = scopes.iter().map(|s| s.scope.as_str()).collect();
    assert_eq!(scopes, ["misbehaving/a", "misbehaving/b"]);
}

/// A one-shot HTTP server on loopback answering `body` to the first request.
fn one_shot_server(body: &'static str) -> (String, std::thread::JoinHandle<String>) {
    one_shot_server_with(body.to_owned())
}

fn one_shot_server_with(body: String) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_write_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut request = vec![0u8; 8192];
        let n = stream.read(&mut request).unwrap_or(0);
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        // The client hangs up early on an oversized answer: a failed write is fine.
        let _ = stream.write_all(response.as_bytes());
        String::from_utf8_lossy(&request[..n]).into_owned()
    });
    (url, handle)
}

#[actix_web::test]
async fn egress_reaches_declared_hosts_only() {
    let app = app().await;
    let plugin = app.state.plugins.get("misbehaving").unwrap();
    let (url, server) = one_shot_server("hello from the platform");
    let reached = app
        .state
        .plugins
        .publish(
            &plugin,
            context("c", &url),
            post(&format!("http:{url}/status")),
        )
        .await
        .unwrap();
    assert_eq!(reached.remote_id, "200");
    assert_eq!(reached.url.as_deref(), Some("hello from the platform"));
    let request = server.join().unwrap();
    assert!(request.starts_with("GET /status"), "{request}");

    // The same server, but not the channel's declared host: refused before connecting.
    for target in [
        format!("http:{url}/"),
        "http:https://169.254.169.254/latest/meta-data/".to_owned(),
        "http:https://[::ffff:127.0.0.1]/".to_owned(),
        "http:https://2130706433/".to_owned(),
    ] {
        let refused = app
            .state
            .plugins
            .publish(
                &plugin,
                context("c", "https://platform.example"),
                post(&target),
            )
            .await;
        assert!(
            matches!(&refused, Err(CallError::Plugin(PluginFault::Invalid(m) | PluginFault::Transient(m))) if m.contains("denied")),
            "{target}: {refused:?}"
        );
    }
}

#[actix_web::test]
async fn plugins_are_listed_with_their_manifests() {
    let app = app().await;
    let ada = app.signup("ada@example.com").await;
    let list = expect_json(
        app.get("/v1/plugins", &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    // The built-in first-party plugins and the test-only ones, sorted by id.
    assert_eq!(
        ids,
        [
            "bluesky",
            "discord",
            "feeds",
            "mastodon",
            "matrix",
            "misbehaving",
            "telegram",
            "template",
            "webhook",
            "wordpress",
        ]
    );
    let by_id = |id: &str| {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
    };
    let template = by_id("template");
    assert_eq!(template["contract"], "0.1.0");
    assert_eq!(template["source"], "directory");
    assert_eq!(template["enabled"], true);
    assert!(
        template["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("publish"))
    );
    assert_eq!(template["sha256"].as_str().unwrap().len(), 64);
    assert!(template["config_schema"].is_object());
    assert_eq!(by_id("matrix")["source"], "builtin");
}

/// `plaza serve` with no configuration offers every first-party plugin:
/// they are built into the server, no plugins folder needed.
#[actix_web::test]
async fn the_default_configuration_offers_every_first_party_plugin() {
    let app = TestApp::spawn_with(|c| c.builtin_plugins = Config::default().builtin_plugins).await;
    let ada = app.signup("ada@example.com").await;
    let list = expect_json(
        app.get("/v1/plugins", &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let listed: Vec<(&str, &str)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["source"].as_str().unwrap()))
        .collect();
    let builtin: Vec<(&str, &str)> = plaza_api::plugins::builtin::ids()
        .map(|id| (id, "builtin"))
        .collect();
    assert_eq!(listed, builtin);
    assert_eq!(
        listed.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [
            "bluesky",
            "discord",
            "feeds",
            "mastodon",
            "matrix",
            "telegram",
            "webhook",
            "wordpress"
        ]
    );
}

async fn admin(app: &TestApp) -> plaza_tests::Session {
    let admin = app.signup("root@example.com").await;
    let id = admin.user_id.clone();
    app.state
        .db
        .write(move |conn| {
            plaza_api::db::users::UserRow::set_instance_role(conn, &id, "admin")
                .map_err(plaza_api::error::ApiError::from)
        })
        .await
        .unwrap();
    admin
}

#[actix_web::test]
async fn administrators_enable_disable_and_upload() {
    let app = app().await;
    let root = admin(&app).await;
    let ada = app.signup("ada@example.com").await;

    let forbidden = app
        .request(Method::POST, "/v1/plugins/template/disable")
        .bearer_auth(&ada.access)
        .send()
        .await
        .unwrap();
    expect_problem(forbidden, StatusCode::FORBIDDEN, "instance_admin_required").await;
    let disabled = app
        .request(Method::POST, "/v1/plugins/template/disable")
        .bearer_auth(&root.access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(disabled, StatusCode::OK).await["enabled"],
        false
    );
    let hidden = app
        .get("/v1/plugins/template", &ada.access)
        .send()
        .await
        .unwrap();
    expect_problem(hidden, StatusCode::NOT_FOUND, "not_found").await;
    let list = expect_json(
        app.get("/v1/plugins", &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let listed: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(!listed.contains(&"template"), "{listed:?}");
    assert_eq!(listed.len(), app.state.plugins.list().len() - 1);
    let plugin = app.state.plugins.get("template").unwrap();
    let refused = app
        .state
        .plugins
        .publish(&plugin, context("c", "https://example.com"), post("hi"))
        .await;
    assert!(
        matches!(refused, Err(CallError::Unavailable(_))),
        "{refused:?}"
    );
    // The choice survives a restart: a new registry over the same database.
    let config = &app.state.config;
    let restarted = plaza_api::plugins::load_registry(
        config,
        plaza_tests::plugin_settings(config),
        &app.state.db,
    )
    .await
    .unwrap();
    plaza_api::plugins::apply_saved_states(&app.state.db, &restarted)
        .await
        .unwrap();
    assert!(!restarted.get("template").unwrap().enabled());
    assert!(restarted.get("misbehaving").unwrap().enabled());
    let enabled = app
        .request(Method::POST, "/v1/plugins/template/enable")
        .bearer_auth(&root.access)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(enabled, StatusCode::OK).await["enabled"], true);

    let upload = |token: &str, content_type: &str, body: Vec<u8>| {
        app.request(Method::POST, "/v1/plugins")
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let wasm = std::fs::read(format!("{PLUGINS_DIR}/plaza_plugin_template.wasm")).unwrap();
    expect_problem(
        upload(&ada.access, "application/wasm", wasm.clone())
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "instance_admin_required",
    )
    .await;
    expect_problem(
        upload(&root.access, "application/octet-stream", wasm.clone())
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    for junk in [b"not wasm at all".to_vec(), b"\0asm\x01\0\0\0".to_vec()] {
        let refused = upload(&root.access, "application/wasm", junk)
            .await
            .unwrap();
        expect_problem(
            refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let uploaded = upload(&root.access, "application/wasm", wasm)
        .await
        .unwrap();
    assert_eq!(uploaded.headers()["location"], "/v1/plugins/template");
    let uploaded = expect_json(uploaded, StatusCode::CREATED).await;
    assert_eq!(uploaded["source"], "upload");
}

#[actix_web::test]
async fn compiled_plugins_are_cached_by_hash() {
    let app = app().await;
    let cache = std::env::temp_dir().join("plaza-test-plugin-cache");
    let cached: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for plugin in app.state.plugins.list() {
        assert!(
            cached
                .iter()
                .any(|name| name.starts_with(&plugin.sha256) && name.ends_with(".cwasm")),
            "no compiled artifact for {} in {cached:?}",
            plugin.manifest.id
        );
    }
}

#[actix_web::test]
async fn oversized_platform_answers_are_cut_off() {
    let app = app().await;
    let plugin = app.state.plugins.get("misbehaving").unwrap();
    let (url, server) = one_shot_server_with("x".repeat(9 * 1024 * 1024));
    let outcome = app
        .state
        .plugins
        .publish(
            &plugin,
            context("c", &url),
            post(&format!("http:{url}/big")),
        )
        .await;
    assert!(
        matches!(&outcome, Err(CallError::Plugin(PluginFault::Transient(m) | PluginFault::Invalid(m))) if m.contains("large")),
        "{outcome:?}"
    );
    // The server thread ends on its own once its write fails or times out.
    drop(server);
}

#[actix_web::test]
async fn a_publish_reads_its_attached_media_and_nothing_else() {
    use plaza_api::media::ContentDigest;
    use plaza_api::plugins::bindings::MediaRef;
    use plaza_api::plugins::media::AttachedMedia;
    use plaza_tests::fake_platform::FakePlatform;

    let app = app().await;
    let platform = FakePlatform::start("t0ken");
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let photo = app.upload_png(&ada.access, &ws, 7).await;
    let bytes = app
        .get(photo["content_url"].as_str().unwrap(), &ada.access)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let id = photo["id"].as_str().unwrap().to_owned();
    let digest = ContentDigest::parse(photo["sha256"].as_str().unwrap()).unwrap();
    let attached = AttachedMedia::new(
        app.state.media.clone(),
        HashMap::from([(id.clone(), digest)]),
    );
    let template = app.state.plugins.get("template").unwrap();
    let context = |media: Option<AttachedMedia>| CallContext {
        channel_id: Some("chan-1".to_owned()),
        config: json!({ "base_url": platform.url }),
        credentials: HashMap::from([("access_token".to_owned(), "t0ken".to_owned())]),
        media,
    };
    let with_photo = |id: &str| Post {
        media: vec![MediaRef {
            id: id.to_owned(),
            mime: "image/png".to_owned(),
            size: bytes.len() as u64,
            alt_text: Some("A cup".to_owned()),
        }],
        ..post("With a photo")
    };

    let published = app
        .state
        .plugins
        .publish(&template, context(Some(attached.clone())), with_photo(&id))
        .await
        .unwrap();
    assert!(!published.remote_id.is_empty());
    {
        let state = platform.state.lock().unwrap();
        assert_eq!(
            state.media,
            vec![bytes.to_vec()],
            "the platform got the file's bytes"
        );
        assert_eq!(state.posts[0]["media_ids"].as_array().unwrap().len(), 1);
    }

    // A file that is not attached to this call cannot be read, even by id.
    let other = app.upload_png(&ada.access, &ws, 8).await;
    let refused = app
        .state
        .plugins
        .publish(
            &template,
            context(Some(attached)),
            with_photo(other["id"].as_str().unwrap()),
        )
        .await;
    assert!(
        matches!(&refused, Err(CallError::Plugin(PluginFault::Transient(m))) if m.contains("not attached")),
        "{refused:?}"
    );
    let unattached = app
        .state
        .plugins
        .publish(&template, context(None), with_photo(&id))
        .await;
    assert!(unattached.is_err());
}
