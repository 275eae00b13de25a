//! A real Matrix homeserver (Synapse) for the Matrix plugin's end-to-end
//! tests.
//!
//! The first use installs PyPI `matrix-synapse` into a virtualenv cached
//! outside the repository (`$XDG_CACHE_HOME/plaza-test-servers/`, else
//! `~/.cache/plaza-test-servers/`), reused by later runs. Each
//! [`Synapse::start`] then runs a homeserver of its own in a temporary
//! folder: bound to 127.0.0.1 on a free port, SQLite, open registration,
//! no trusted key servers (it never calls matrix.org), rate limits raised,
//! presence and URL previews off. Dropping it stops its process group.
//!
//! One homeserver per test (≈ 2.5 s to start) keeps tests independent and
//! parallel; nothing is shared but the installed virtualenv.

use std::fmt::Write as _;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::TempDir;
use crate::servers::{free_port, python_venv, run};

/// The Synapse release line the tests run against.
const SYNAPSE: &str = "matrix-synapse==1.163.*";
/// The cache folder's name for it: a new version installs beside the old.
const VENV_NAME: &str = "synapse-1.163";
/// How long generating the homeserver's keys may take.
const KEYGEN_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a homeserver may take to answer after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A running homeserver; dropped, it is stopped.
#[derive(Debug)]
pub struct Synapse {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// A client for calls made as the tests' users.
    pub client: reqwest::Client,
    child: Child,
    log: PathBuf,
    // Dropped after the process is stopped.
    _dir: TempDir,
}

/// A registered account.
#[derive(Debug, Clone)]
pub struct MatrixUser {
    /// `@name:localhost`.
    pub user_id: String,
    /// Its access token.
    pub token: String,
}

/// The virtualenv's python, installing Synapse first when the cache lacks it.
pub fn installed_python() -> PathBuf {
    python_venv(
        VENV_NAME,
        SYNAPSE,
        "the Matrix end-to-end tests install and run a real Synapse homeserver",
    )
}

fn config(dir: &Path, port: u16) -> String {
    let dir = dir.display();
    let secret = uuid::Uuid::now_v7().simple().to_string();
    let mut yaml = format!(
        "server_name: localhost
pid_file: {dir}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {dir}/homeserver.db
media_store_path: {dir}/media_store
signing_key_path: {dir}/localhost.signing.key
macaroon_secret_key: \"{secret}\"
form_secret: \"{secret}\"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
enable_registration: true
enable_registration_without_verification: true
url_preview_enabled: false
presence:
  enabled: false
"
    );
    let fast = "{per_second: 1000, burst_count: 1000}";
    for limit in ["rc_message", "rc_registration", "rc_admin_redaction"] {
        let _ = writeln!(yaml, "{limit}: {fast}");
    }
    let _ = writeln!(
        yaml,
        "rc_login:\n  address: {fast}\n  account: {fast}\n  failed_attempts: {fast}"
    );
    let _ = writeln!(yaml, "rc_joins:\n  local: {fast}\n  remote: {fast}");
    yaml
}

impl Synapse {
    /// Starts a homeserver and waits until it answers.
    pub async fn start() -> Self {
        let python = installed_python();
        let dir = TempDir::new("plaza-synapse");
        let config_path = dir.0.join("homeserver.yaml");
        let port = free_port();
        std::fs::write(&config_path, config(&dir.0, port)).expect("write homeserver.yaml");
        run(
            Command::new(&python)
                .args(["-m", "synapse.app.homeserver", "--generate-keys", "-c"])
                .arg(&config_path)
                .current_dir(&dir.0),
            "generate the homeserver's signing key",
            KEYGEN_TIMEOUT,
        );
        let log = dir.0.join("synapse.log");
        let log_file = std::fs::File::create(&log).expect("create synapse.log");
        let child = Command::new(&python)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(&config_path)
            .current_dir(&dir.0)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .expect("start synapse");
        let mut synapse = Self {
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            child,
            log,
            _dir: dir,
        };
        synapse.wait_until_ready().await;
        synapse
    }

    async fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let versions = format!("{}/_matrix/client/versions", self.url);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "synapse exited ({status}) before answering:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(response) = self.client.get(&versions).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "synapse did not answer within {START_TIMEOUT:?}:\n{}",
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

    /// Sends a client-server API call as `token` and answers its JSON,
    /// asserting success.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, value) = self.try_call(method.clone(), path, token, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    /// Sends a call and answers its status and JSON body.
    pub async fn try_call(
        &self,
        method: reqwest::Method,
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
        let response = request.send().await.expect("call synapse");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers `name` (open registration, `m.login.dummy`).
    pub async fn register(&self, name: &str) -> MatrixUser {
        let body = json!({
            "username": name,
            "password": "correct horse battery staple",
            "auth": {"type": "m.login.dummy"},
        });
        let response = self
            .client
            .post(format!("{}/_matrix/client/v3/register", self.url))
            .json(&body)
            .send()
            .await
            .expect("register");
        let status = response.status();
        let answer: Value = response.json().await.expect("register answer");
        assert!(status.is_success(), "register {name}: {status} {answer}");
        MatrixUser {
            user_id: answer["user_id"].as_str().expect("user_id").to_owned(),
            token: answer["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
        }
    }

    /// Creates a public room as `owner`; answers its id.
    pub async fn create_room(&self, owner: &MatrixUser, name: &str) -> String {
        let room = self
            .call(
                reqwest::Method::POST,
                "/_matrix/client/v3/createRoom",
                &owner.token,
                Some(json!({"preset": "public_chat", "name": name})),
            )
            .await;
        room["room_id"].as_str().expect("room_id").to_owned()
    }

    /// `user` joins the room.
    pub async fn join(&self, user: &MatrixUser, room: &str) {
        let path = format!("/_matrix/client/v3/join/{}", encode(room));
        self.call(reqwest::Method::POST, &path, &user.token, Some(json!({})))
            .await;
    }

    /// Sets `user`'s display name.
    pub async fn set_display_name(&self, user: &MatrixUser, name: &str) {
        let path = format!(
            "/_matrix/client/v3/profile/{}/displayname",
            encode(&user.user_id)
        );
        self.call(
            reqwest::Method::PUT,
            &path,
            &user.token,
            Some(json!({"displayname": name})),
        )
        .await;
    }

    /// Sends a text message as `user`; answers the event id.
    pub async fn say(&self, user: &MatrixUser, room: &str, text: &str) -> String {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
            encode(room),
            uuid::Uuid::now_v7().simple()
        );
        let sent = self
            .call(
                reqwest::Method::PUT,
                &path,
                &user.token,
                Some(json!({"msgtype": "m.text", "body": text})),
            )
            .await;
        sent["event_id"].as_str().expect("event_id").to_owned()
    }

    /// The room's `m.room.message` events as `user` sees them, oldest first.
    pub async fn messages(&self, user: &MatrixUser, room: &str) -> Vec<Value> {
        let filter = encode(&json!({"types": ["m.room.message"]}).to_string());
        let path = format!(
            "/_matrix/client/v3/rooms/{}/messages?dir=f&limit=100&filter={filter}",
            encode(room)
        );
        let page = self
            .call(reqwest::Method::GET, &path, &user.token, None)
            .await;
        page["chunk"].as_array().cloned().unwrap_or_default()
    }

    /// One event as `user` sees it.
    pub async fn event(&self, user: &MatrixUser, room: &str, event_id: &str) -> Value {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/event/{}",
            encode(room),
            encode(event_id)
        );
        self.call(reqwest::Method::GET, &path, &user.token, None)
            .await
    }

    /// `member`'s membership in the room (`join`, `leave`, `ban`), as `user` sees it.
    pub async fn membership(&self, user: &MatrixUser, room: &str, member: &str) -> String {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
            encode(room),
            encode(member)
        );
        let state = self
            .call(reqwest::Method::GET, &path, &user.token, None)
            .await;
        state["membership"].as_str().unwrap_or_default().to_owned()
    }
}

/// Percent-encodes a path segment or query value.
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

impl Drop for Synapse {
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
