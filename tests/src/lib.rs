//! The end-to-end test harness: [`TestApp`] starts the real Plaza server on
//! port 0 against a fresh database and talks to it over real HTTP.
//!
//! The database is SQLite in a temporary folder unless `TEST_DATABASE_URL`
//! names a PostgreSQL server; then each test gets a database of its own
//! there, dropped when the test ends.
//!
//! Tests that need real processes (a crash, several replicas) start the
//! `plaza` command itself through [`process::Deployment`] and talk to it
//! with [`client::PlazaClient`].
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a harness that cannot set up a test should stop it loudly"
)]

pub mod bluesky;
pub mod client;
mod database;
pub mod discord;
pub mod fake_platform;
pub mod mastodon;
pub mod media;
pub mod process;
pub mod receiver;
pub mod servers;
pub mod synapse;
pub mod telegram;
pub mod wordpress;

use std::net::TcpListener;
use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use plaza_api::auth::KeyRing;
use plaza_api::auth::keys::new_key_spec;
use plaza_api::config::{Config, SignupPolicy};
use plaza_api::plugins::RuntimeSettings;
use plaza_api::startup::{Application, open_database};
use plaza_api::state::AppState;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

pub use database::{TestDatabase, postgres_url};
pub use media::MultipartForm;

/// Where `tests/build.rs` put the compiled first-party plugins.
pub const PLUGINS_DIR: &str = env!("PLAZA_TEST_PLUGINS_DIR");

/// A password every test account uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// The running server and a client for it.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// A client with no cookies and no redirects.
    pub client: reqwest::Client,
    /// The server's state (its database, keys and configuration).
    pub state: AppState,
    handle: ServerHandle,
    /// The signing and encryption keys, for replicas.
    keys: (String, String),
    // Dropped last: the database outlives the server. A replica does not
    // own the database it shares.
    _database: Option<TestDatabase>,
    _data_dir: TempDir,
}

/// A signed-in test account.
#[derive(Debug, Clone)]
pub struct Session {
    /// Access token.
    pub access: String,
    /// Refresh token.
    pub refresh: String,
    /// Account id.
    pub user_id: String,
    /// Email.
    pub email: String,
}

/// A folder removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty folder under the system temp dir.
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Offers every plugin: the built-in first-party ones and the test-only
/// ones in [`PLUGINS_DIR`] (the template and a misbehaving plugin).
pub fn load_all_plugins(config: &mut Config) {
    config.builtin_plugins = true;
    config.plugins_dir = Some(PLUGINS_DIR.into());
}

impl TestApp {
    /// Starts a server with sign-up open and the default configuration.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server after `adjust` has changed its configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            plaza_api::telemetry::init(plaza_api::config::LogFormat::Text);
        }
        let data_dir = TempDir::new("plaza-test");
        let database = TestDatabase::create(&data_dir.0);
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_dir: data_dir.0.clone(),
            database_url: Some(database.url().to_owned()),
            database_pool_size: 4,
            signup: SignupPolicy::Open,
            shutdown_grace_secs: 1,
            plugin_concurrency: 4,
            // Loading plugins costs every server that does not need them.
            builtin_plugins: false,
            // Tests that read inboxes poll by hand (`poll_inbox`).
            inbox_poll_secs: 0,
            // ... and collect metrics by hand (`collect_metrics`).
            metrics_collect_secs: 0,
            ..Config::default()
        };
        adjust(&mut config);
        let keys = (new_key_spec(), new_key_spec());
        Self::start(config, keys, Some(database), data_dir).await
    }

    /// Another server on this one's database and keys, as a second replica
    /// behind a load balancer would be (on SQLite both open the same file).
    pub async fn replica(&self) -> Self {
        let data_dir = TempDir::new("plaza-replica");
        let config = Config {
            data_dir: data_dir.0.clone(),
            ..(*self.state.config).clone()
        };
        Self::start(config, self.keys.clone(), None, data_dir).await
    }

    async fn start(
        config: Config,
        keys: (String, String),
        database: Option<TestDatabase>,
        data_dir: TempDir,
    ) -> Self {
        let ring = KeyRing::parse(&keys.0, &keys.1).expect("keys");
        let db = open_database(&config).await.expect("database");
        let plugins = plaza_api::plugins::load_registry(&config, plugin_settings(&config), &db)
            .await
            .expect("plugins");
        plaza_api::plugins::apply_saved_states(&db, &plugins)
            .await
            .expect("saved plugin states");
        let listener = TcpListener::bind(config.listen).expect("bind");
        let app = Application::with_listener(AppState::new(db, ring, config, plugins), listener)
            .expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        let handle = app.handle();
        actix_web::rt::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            address,
            client,
            state,
            handle,
            keys,
            _database: database,
            _data_dir: data_dir,
        }
    }

    /// Starts a server with every plugin ([`load_all_plugins`]) and plain
    /// http allowed to 127.0.0.1, where the
    /// fake platforms listen.
    pub async fn spawn_with_plugins() -> Self {
        Self::spawn_with(|c| {
            load_all_plugins(c);
            c.plugin_insecure_hosts = vec!["127.0.0.1".to_owned()];
        })
        .await
    }

    /// Connects a `template` channel to a fake platform; returns the channel.
    pub async fn connect_channel(
        &self,
        member: &Session,
        workspace: &str,
        platform_url: &str,
        token: &str,
    ) -> Value {
        let response = self
            .post(
                &format!("/v1/workspaces/{workspace}/channels"),
                &member.access,
                &json!({
                    "plugin_id": "template",
                    "config": {"base_url": platform_url},
                    "credentials": {"access_token": token},
                }),
            )
            .send()
            .await
            .expect("connect channel");
        expect_json(response, StatusCode::CREATED).await
    }

    /// Sends a request and answers the JSON body, asserting the status.
    pub async fn call(&self, request: RequestBuilder, status: StatusCode) -> Value {
        expect_json(request.send().await.expect("request"), status).await
    }

    /// Stops the server, letting in-flight requests finish.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }

    /// A request to `path` (which starts with `/`).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    /// `GET path` with a bearer token.
    pub fn get(&self, path: &str, token: &str) -> RequestBuilder {
        self.request(Method::GET, path).bearer_auth(token)
    }

    /// `POST path` with a bearer token and a JSON body.
    pub fn post(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.request(Method::POST, path)
            .bearer_auth(token)
            .json(body)
    }

    /// `PATCH path` with a bearer token and a JSON body.
    pub fn patch(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.request(Method::PATCH, path)
            .bearer_auth(token)
            .json(body)
    }

    /// `DELETE path` with a bearer token.
    pub fn delete(&self, path: &str, token: &str) -> RequestBuilder {
        self.request(Method::DELETE, path).bearer_auth(token)
    }

    /// `POST /v1/workspaces/{workspace}/media` with a multipart form.
    pub async fn upload(&self, token: &str, workspace: &str, form: MultipartForm) -> Response {
        self.request(Method::POST, &format!("/v1/workspaces/{workspace}/media"))
            .bearer_auth(token)
            .header("content-type", form.content_type())
            .body(form.into_body())
            .send()
            .await
            .expect("upload media")
    }

    /// Uploads a small PNG (colours from `seed`) to a workspace's media
    /// library; returns the media item.
    pub async fn upload_png(&self, token: &str, workspace: &str, seed: u8) -> Value {
        let form = MultipartForm::with_file("photo.png", "image/png", &media::png(4, 4, seed));
        let response = self.upload(token, workspace, form).await;
        expect_json(response, StatusCode::CREATED).await
    }

    /// Creates an account through the API and returns its session.
    pub async fn signup(&self, email: &str) -> Session {
        let response = self
            .request(Method::POST, "/v1/auth/signup")
            .json(&json!({"email": email, "password": PASSWORD, "name": email.split('@').next()}))
            .send()
            .await
            .expect("signup request");
        let tokens = expect_json(response, StatusCode::CREATED).await;
        self.session_from(&tokens, email).await
    }

    /// Turns a token response into a session (reads `/v1/me` for the id).
    pub async fn session_from(&self, tokens: &Value, email: &str) -> Session {
        let access = tokens["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned();
        let refresh = tokens["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned();
        let me = expect_json(
            self.get("/v1/me", &access).send().await.expect("me"),
            StatusCode::OK,
        )
        .await;
        Session {
            access,
            refresh,
            user_id: me["id"].as_str().expect("id").to_owned(),
            email: email.to_owned(),
        }
    }

    /// Creates a workspace owned by `owner`; returns its id.
    pub async fn create_workspace(&self, owner: &Session, name: &str) -> String {
        let response = self
            .post("/v1/workspaces", &owner.access, &json!({"name": name}))
            .send()
            .await
            .expect("create workspace");
        let body = expect_json(response, StatusCode::CREATED).await;
        body["id"].as_str().expect("id").to_owned()
    }

    /// Invites `email` as `role` and accepts with a new account.
    pub async fn add_member(
        &self,
        owner: &Session,
        workspace: &str,
        email: &str,
        role: &str,
    ) -> Session {
        let token = self.invite(owner, workspace, email, role).await;
        let response = self
            .request(Method::POST, "/v1/invitations/accept")
            .json(&json!({"token": token, "name": "Member", "password": PASSWORD}))
            .send()
            .await
            .expect("accept");
        let body = expect_json(response, StatusCode::OK).await;
        self.session_from(&body["tokens"], email).await
    }

    /// Creates an invitation; returns its token.
    pub async fn invite(
        &self,
        inviter: &Session,
        workspace: &str,
        email: &str,
        role: &str,
    ) -> String {
        let response = self
            .post(
                &format!("/v1/workspaces/{workspace}/invitations"),
                &inviter.access,
                &json!({"email": email, "role": role}),
            )
            .send()
            .await
            .expect("invite");
        let body = expect_json(response, StatusCode::CREATED).await;
        body["token"].as_str().expect("token").to_owned()
    }

    /// Creates an API token in `workspace` with `permissions`; returns (id, secret).
    pub async fn api_token(
        &self,
        member: &Session,
        workspace: &str,
        permissions: &[&str],
    ) -> (String, String) {
        let response = self
            .post(
                &format!("/v1/workspaces/{workspace}/api-tokens"),
                &member.access,
                &json!({"name": "script", "permissions": permissions}),
            )
            .send()
            .await
            .expect("create api token");
        let body = expect_json(response, StatusCode::CREATED).await;
        (
            body["id"].as_str().expect("id").to_owned(),
            body["token"].as_str().expect("token").to_owned(),
        )
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting; the database guard then drops the database.
        drop(self.handle.stop(false));
    }
}

/// The plugin runtime settings of a test server: those of its configuration,
/// with compiled plugins cached across tests (the key is the wasm's hash).
pub fn plugin_settings(config: &Config) -> RuntimeSettings {
    RuntimeSettings {
        cache_dir: Some(std::env::temp_dir().join("plaza-test-plugin-cache")),
        ..plaza_api::plugins::settings_for(config)
    }
}

/// Asserts the status and returns the JSON body (with the body in the message on failure).
pub async fn expect_json(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Asserts an RFC 9457 problem with `status` and `code`; returns the body.
pub async fn expect_problem(response: Response, status: StatusCode, code: &str) -> Value {
    let actual = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    assert_eq!(content_type, "application/problem+json", "body: {text}");
    let body: Value = serde_json::from_str(&text).expect("problem body is JSON");
    assert_eq!(body["code"], code, "body: {text}");
    assert_eq!(body["status"], status.as_u16(), "body: {text}");
    assert_eq!(body["type"], format!("urn:plaza:problem:{code}"));
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "body: {text}"
    );
    body
}

/// Whether the suite runs on PostgreSQL.
pub fn on_postgres() -> bool {
    postgres_url().is_some()
}
