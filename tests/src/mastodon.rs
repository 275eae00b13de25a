//! A Mastodon API server for the Mastodon plugin's end-to-end tests.
//!
//! No Mastodon server installs from the package registries, so the tests
//! run PyPI `mastodon-mock`: a stateful FastAPI implementation of the
//! Mastodon REST API (statuses, media, notifications, context, accounts,
//! relationships, reports, apps and OAuth2, `Idempotency-Key`, `Link`
//! paging, fault injection). It is not Mastodon: it processes media at once
//! (never `202`), renders status HTML more simply, does not enforce scopes
//! and rate limits only on request; the plugin's native tests cover those
//! parts with the documentation's example answers.
//!
//! The first use installs it into a virtualenv cached outside the
//! repository (`$XDG_CACHE_HOME/plaza-test-servers/`, else
//! `~/.cache/plaza-test-servers/`). Each [`MastodonMock::start`] runs a
//! server of its own: bound to 127.0.0.1 on a free port, in-memory SQLite,
//! the demo community seeded (its admin `ada` can read reports). Dropping
//! it stops its process group.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::TempDir;
use crate::servers::{free_port, python_venv};

/// The release the tests run against.
const PACKAGE: &str = "mastodon-mock==0.6.1";
/// The cache folder's name for it: a new version installs beside the old.
const VENV_NAME: &str = "mastodon-mock-0.6.1";
/// How long a server may take to answer after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The demo community's admin token (`--demo` seeds it).
pub const ADMIN_TOKEN: &str = "ada_token";

/// A running server; dropped, it is stopped.
#[derive(Debug)]
pub struct MastodonMock {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// A client that does not follow redirects (OAuth answers with them).
    pub client: reqwest::Client,
    child: Child,
    log: PathBuf,
    // Dropped after the process is stopped.
    _dir: TempDir,
}

/// A local account and its token.
#[derive(Debug, Clone)]
pub struct MastodonUser {
    /// The account id.
    pub id: String,
    /// The user name (`acct` on this server).
    pub username: String,
    /// An access token with every scope.
    pub token: String,
}

/// The virtualenv's python, installing mastodon-mock first when the cache
/// lacks it. (Its `bin/mastodon_mock` script names the staging folder in its
/// `#!` line, so the server runs as `python -m mastodon_mock`.)
pub fn installed_python() -> PathBuf {
    python_venv(
        VENV_NAME,
        PACKAGE,
        "the Mastodon end-to-end tests install and run mastodon-mock",
    )
}

impl MastodonMock {
    /// Starts a server and waits until it answers.
    pub async fn start() -> Self {
        let python = installed_python();
        let dir = TempDir::new("plaza-mastodon");
        let port = free_port();
        let log = dir.0.join("mastodon-mock.log");
        let log_file = std::fs::File::create(&log).expect("create the server log");
        let child = Command::new(&python)
            .args([
                "-m",
                "mastodon_mock",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
            ])
            .arg(port.to_string())
            .args(["--in-memory", "--demo", "--log-level", "warning"])
            .current_dir(&dir.0)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .expect("start mastodon-mock");
        let mut server = Self {
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            child,
            log,
            _dir: dir,
        };
        server.wait_until_ready().await;
        server
    }

    async fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let instance = format!("{}/api/v1/instance", self.url);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "mastodon-mock exited ({status}) before answering:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(response) = self.client.get(&instance).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mastodon-mock did not answer within {START_TIMEOUT:?}:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Sends an API call as `token` and answers its JSON, asserting success.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, value) = self.try_call(method.clone(), path, token, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    /// Sends an API call and answers its status and JSON body.
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("call mastodon-mock");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Creates a local account with a token (the mock's `_mock/dev_user`).
    pub async fn user(&self, username: &str, display_name: &str) -> MastodonUser {
        let created = self
            .call(
                Method::POST,
                "/api/v1/_mock/dev_user",
                "",
                Some(json!({"username": username, "display_name": display_name})),
            )
            .await;
        MastodonUser {
            id: created["id"].as_str().expect("id").to_owned(),
            username: username.to_owned(),
            token: created["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
        }
    }

    /// Posts a status as `user`; answers it.
    pub async fn post_status(
        &self,
        user: &MastodonUser,
        text: &str,
        reply_to: Option<&str>,
    ) -> Value {
        let mut body = json!({"status": text});
        if let Some(reply_to) = reply_to {
            body["in_reply_to_id"] = json!(reply_to);
        }
        self.call(Method::POST, "/api/v1/statuses", &user.token, Some(body))
            .await
    }

    /// `user`'s own statuses, newest first.
    pub async fn statuses_of(&self, user: &MastodonUser) -> Vec<Value> {
        let path = format!("/api/v1/accounts/{}/statuses?limit=40", user.id);
        let list = self.call(Method::GET, &path, &user.token, None).await;
        list.as_array().cloned().unwrap_or_default()
    }

    /// `user`'s relationship to the account `other`.
    pub async fn relationship(&self, user: &MastodonUser, other: &str) -> Value {
        let path = format!("/api/v1/accounts/relationships?id[]={other}");
        let list = self.call(Method::GET, &path, &user.token, None).await;
        list[0].clone()
    }

    /// Adds a fault-injection rule (the mock's `_mock/faults`).
    pub async fn fault(&self, rule: Value) {
        self.call(Method::POST, "/api/v1/_mock/faults", "", Some(rule))
            .await;
    }

    /// Plays the person on the consent page: picks `username` for the
    /// client and answers the `code` the redirect carries.
    pub async fn consent(
        &self,
        username: &str,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
    ) -> String {
        let response = self
            .client
            .post(format!("{}/oauth/authorize", self.url))
            .form(&[
                ("username", username),
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("state", state),
            ])
            .send()
            .await
            .expect("consent");
        assert_eq!(
            response.status(),
            StatusCode::FOUND,
            "consent redirects back"
        );
        let location = response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        let url = reqwest::Url::parse(&location).expect("redirect URL");
        let param = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        assert_eq!(param("state").as_deref(), Some(state));
        param("code").expect("a code in the redirect")
    }
}

impl Drop for MastodonMock {
    /// Stops the whole process group: SIGTERM, then SIGKILL if it lingers.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
