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

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::TempDir;

/// The release the tests run against.
const PACKAGE: &str = "mastodon-mock==0.6.1";
/// The cache folder's name for it: a new version installs beside the old.
const VENV_NAME: &str = "mastodon-mock-0.6.1";
/// How long an install may take (first run only).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a server may take to answer after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The demo community's admin token (`--demo` seeds it).
pub const ADMIN_TOKEN: &str = "ada_token";

/// Tests of one binary install one at a time; other processes are kept
/// apart by installing into a fresh folder and renaming it into place.
static INSTALL: Mutex<()> = Mutex::new(());

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

fn cache_root() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("plaza-test-servers")
}

/// The virtualenv's python, installing mastodon-mock first when the cache
/// lacks it. (Its `bin/mastodon_mock` script names the staging folder in its
/// `#!` line, so the server runs as `python -m mastodon_mock`.)
pub fn installed_python() -> PathBuf {
    let venv = cache_root().join(VENV_NAME);
    let python = venv.join("bin").join("python");
    let marker = venv.join(".plaza-installed");
    let _guard = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if marker.exists() {
        return python;
    }
    let python3 = which("python3").unwrap_or_else(|| {
        panic!(
            "python3 was not found on PATH: the Mastodon end-to-end tests install and run \
             PyPI {PACKAGE} and need Python 3 with venv"
        )
    });
    std::fs::create_dir_all(cache_root()).expect("create the test server cache");
    let staging = cache_root().join(format!("{VENV_NAME}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    run(
        Command::new(&python3).arg("-m").arg("venv").arg(&staging),
        "create a virtualenv for mastodon-mock (is python3-venv installed?)",
    );
    run(
        Command::new(staging.join("bin").join("python"))
            .args(["-m", "pip", "install", "--quiet", PACKAGE]),
        "install mastodon-mock with pip",
    );
    std::fs::write(staging.join(".plaza-installed"), PACKAGE).expect("mark the install");
    // Another process may have won the race: its install is as good.
    if std::fs::rename(&staging, &venv).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        assert!(
            marker.exists(),
            "could not move the mastodon-mock virtualenv into {}",
            venv.display()
        );
    }
    python
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

fn run(command: &mut Command, what: &str) {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > INSTALL_TIMEOUT => {
                let _ = child.kill();
                panic!("{what}: took longer than {INSTALL_TIMEOUT:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(err) => panic!("{what}: {err}"),
        }
    }
    let output = child.wait_with_output().expect("collect output");
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port()
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
