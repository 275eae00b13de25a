//! The `plaza` binary as an operator meets it: a real process, real files,
//! real signals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl, SqliteConnection};

const PLAZA: &str = env!("CARGO_BIN_EXE_plaza");

/// A temporary working folder, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new() -> Self {
        let path =
            std::env::temp_dir().join(format!("plaza-cli-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `plaza` in `dir` with a clean environment plus `vars`.
fn plaza(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(PLAZA);
    command.current_dir(dir).env_clear().args(args);
    for (key, value) in vars {
        command.env(key, value);
    }
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `plaza serve`, killed on drop if the test did not stop it.
struct Server {
    child: Child,
    url: String,
    banner: Vec<String>,
}

impl Server {
    fn start(dir: &Path, vars: &[(&str, &str)]) -> Self {
        let port = free_port().to_string();
        let listen = format!("127.0.0.1:{port}");
        let mut all = vec![("PLAZA_LISTEN", listen.as_str())];
        all.extend_from_slice(vars);
        let mut child = plaza(dir, &["serve"], &all)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = Vec::new();
        for line in stdout.lines() {
            let line = line.unwrap();
            let done = line.contains("First account");
            banner.push(line);
            if done {
                break;
            }
        }
        assert!(
            banner.iter().any(|l| l.contains("listening")),
            "no banner: {banner:?}"
        );
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            banner,
        }
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "plaza did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn openapi_prints_the_committed_spec() {
    let folder = Folder::new();
    let output = plaza(&folder.0, &["openapi"], &[]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let committed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.json")).unwrap();
    assert!(
        output.stdout == committed,
        "openapi.json is stale: run `cargo run --bin plaza -- openapi > openapi.json`"
    );
}

#[derive(diesel::QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

#[test]
fn serve_with_nothing_configured_runs_on_embedded_sqlite() {
    let folder = Folder::new();
    let mut server = Server::start(&folder.0, &[]);
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.contains("plaza admin create-user")),
        "{:?}",
        server.banner
    );

    let health = reqwest::blocking::get(format!("{}/readyz", server.url)).unwrap();
    assert_eq!(health.status(), 200);
    let data = folder.0.join("plaza-data");
    assert!(data.join("plaza.db").exists());
    let keys = std::fs::read_to_string(data.join("keys.toml")).unwrap();
    assert!(keys.contains("signing_keys") && keys.contains("encryption_keys"));

    let mut db = SqliteConnection::establish(data.join("plaza.db").to_str().unwrap()).unwrap();
    let mode: Vec<JournalMode> = diesel::sql_query("PRAGMA journal_mode")
        .load(&mut db)
        .unwrap();
    assert_eq!(mode[0].journal_mode, "wal");

    let status = server.terminate();
    assert!(
        status.success(),
        "SIGTERM should stop plaza cleanly: {status}"
    );

    // A second start reuses the keys it generated.
    let _again = Server::start(&folder.0, &[]);
    assert_eq!(
        std::fs::read_to_string(data.join("keys.toml")).unwrap(),
        keys
    );
}

#[test]
fn create_user_makes_an_instance_admin_who_can_sign_in() {
    let folder = Folder::new();
    let mut child = plaza(
        &folder.0,
        &[
            "admin",
            "create-user",
            "--email",
            "Root@Example.com",
            "--admin",
            "--password-stdin",
        ],
        &[],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long admin passphrase\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("instance admin"));

    let again = plaza(
        &folder.0,
        &["admin", "create-user", "--email", "root@example.com"],
        &[],
    )
    .output()
    .unwrap();
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    // Without --password-stdin a password is generated and shown once.
    let generated = plaza(
        &folder.0,
        &["admin", "create-user", "--email", "cm@example.com"],
        &[],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&generated.stdout);
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Password (shown once): "))
        .unwrap()
        .to_owned();

    let server = Server::start(&folder.0, &[]);
    let client = reqwest::blocking::Client::new();
    for (email, password, admin) in [
        ("root@example.com", "a long admin passphrase", true),
        ("cm@example.com", password.as_str(), false),
    ] {
        let tokens: serde_json::Value = client
            .post(format!("{}/v1/auth/login", server.url))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let me: serde_json::Value = client
            .get(format!("{}/v1/me", server.url))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(me["instance_admin"], admin, "{email}");
    }
}

#[test]
fn production_refuses_to_start_without_explicit_keys() {
    let folder = Folder::new();
    let output = plaza(&folder.0, &["serve"], &[("PLAZA_ENV", "production")])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("PLAZA_SIGNING_KEYS") && err.contains("PLAZA_ENCRYPTION_KEYS"),
        "{err}"
    );
    assert!(!folder.0.join("plaza-data").exists(), "nothing was created");
}

#[test]
fn generated_keys_start_a_production_server() {
    let folder = Folder::new();
    let output = plaza(&folder.0, &["admin", "generate-keys"], &[])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let (signing, encryption) = (value("PLAZA_SIGNING_KEYS"), value("PLAZA_ENCRYPTION_KEYS"));
    let mut server = Server::start(
        &folder.0,
        &[
            ("PLAZA_ENV", "production"),
            ("PLAZA_SIGNING_KEYS", &signing),
            ("PLAZA_ENCRYPTION_KEYS", &encryption),
        ],
    );
    assert!(
        !folder.0.join("plaza-data/keys.toml").exists(),
        "explicit keys are not written to disk"
    );
    assert!(server.terminate().success());
}

#[test]
fn bad_settings_are_refused_with_their_names() {
    let folder = Folder::new();
    for (vars, expected) in [
        (vec![("PLAZA_SIGNUPP", "open")], "signupp"),
        (vec![("PLAZA_LISTEN", "everywhere")], "listen"),
        (
            vec![("PLAZA_ACCESS_TOKEN_TTL_SECS", "86400")],
            "access_token_ttl_secs",
        ),
        (vec![("PLAZA_SIGNUP", "sometimes")], "signup"),
    ] {
        let output = plaza(&folder.0, &["serve"], &vars).output().unwrap();
        assert!(!output.status.success(), "{vars:?} was accepted");
        let err = stderr(&output).to_lowercase();
        assert!(err.contains(expected), "{vars:?}: {err}");
    }
    std::fs::write(
        folder.0.join("plaza.toml"),
        "signup = \"open\"\nlisten = 42\n",
    )
    .unwrap();
    let output = plaza(&folder.0, &["migrate"], &[]).output().unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("listen"), "{}", stderr(&output));
}

#[test]
fn migrate_prepares_the_database_and_is_repeatable() {
    let folder = Folder::new();
    for _ in 0..2 {
        let output = plaza(&folder.0, &["migrate"], &[]).output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    assert!(folder.0.join("plaza-data/plaza.db").exists());
}

#[test]
fn rotate_keys_adds_a_development_key_and_refuses_to_edit_configured_ones() {
    let folder = Folder::new();
    let output = plaza(&folder.0, &["admin", "rotate-keys", "--new-key"], &[])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        printed.contains("re-sealed 0 channel credential(s)"),
        "{printed}"
    );
    let keys = std::fs::read_to_string(folder.0.join("plaza-data/keys.toml")).unwrap();
    let encryption = keys
        .lines()
        .find(|l| l.starts_with("encryption_keys"))
        .unwrap();
    assert_eq!(
        encryption.matches(',').count(),
        1,
        "a new key before the first: {encryption}"
    );

    let configured = plaza(
        &folder.0,
        &["admin", "rotate-keys", "--new-key"],
        &[
            (
                "PLAZA_SIGNING_KEYS",
                "s1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ),
            (
                "PLAZA_ENCRYPTION_KEYS",
                "e1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ),
        ],
    )
    .output()
    .unwrap();
    assert!(!configured.status.success());
    assert!(
        stderr(&configured).contains("PLAZA_ENCRYPTION_KEYS"),
        "{}",
        stderr(&configured)
    );
}

#[test]
fn a_worker_runs_without_http_and_stops_on_sigterm() {
    let folder = Folder::new();
    let mut child = plaza(&folder.0, &["worker"], &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("worker is running"), "{line}");
    assert!(
        folder.0.join("plaza-data/plaza.db").exists(),
        "it migrated the database"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");

    // `serve --role api` serves without the publisher; unknown roles are refused.
    let refused = plaza(&folder.0, &["serve", "--role", "everything"], &[])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--role"), "{}", stderr(&refused));
}
