//! Real `plaza` processes sharing one database, for the fault and scale
//! tests and the publishing benchmark: started as an operator starts them
//! (`PLAZA_*` variables only), watched through what they print, killed with
//! SIGKILL when a test says so and always when it ends.
//!
//! The binary is this crate's `plaza-under-test` (the `plaza` command under
//! another name). Cargo tells only integration tests and benchmarks where it
//! is, so they pass `env!("CARGO_BIN_EXE_plaza-under-test")` in.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use plaza_api::auth::keys::new_key_spec;
use plaza_api::db::schema::{jobs, posts};
use plaza_api::db::{Db, DbError};

use crate::{PLUGINS_DIR, TempDir, TestDatabase};

/// How long a process may take to start (migrations, compiling plugins).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// One Plaza installation: a database, a data folder and keys that every
/// process started from it shares, as replicas behind a load balancer do.
#[derive(Debug)]
pub struct Deployment {
    binary: PathBuf,
    vars: Vec<(String, String)>,
    started: AtomicUsize,
    database: TestDatabase,
    // Dropped last: it holds the SQLite file and the processes' logs.
    data_dir: TempDir,
}

impl Deployment {
    /// A deployment on a fresh database: PostgreSQL when `TEST_DATABASE_URL`
    /// names a server, else SQLite in the data folder.
    pub fn new(binary: &str) -> Self {
        Self::on(binary, crate::postgres_url())
    }

    /// A deployment on a fresh database of the PostgreSQL server
    /// `admin_url` names, or on SQLite when there is none.
    ///
    /// Every process gets plain http to 127.0.0.1 (where fake platforms
    /// listen), the first-party test plugins, open sign-up, a 50 ms idle
    /// poll, a 3 s job lease (the shortest allowed, so a killed process's
    /// jobs come back quickly) and the same explicit keys.
    pub fn on(binary: &str, admin_url: Option<String>) -> Self {
        let data_dir = TempDir::new("plaza-deployment");
        let database = TestDatabase::create_on(admin_url, &data_dir.0);
        let vars = [
            ("PLAZA_DATABASE_URL", database.url()),
            ("PLAZA_DATA_DIR", &data_dir.0.to_string_lossy()),
            ("PLAZA_LISTEN", "127.0.0.1:0"),
            ("PLAZA_SIGNUP", "open"),
            ("PLAZA_PLUGINS_DIR", PLUGINS_DIR),
            ("PLAZA_PLUGIN_INSECURE_HOSTS", r#"["127.0.0.1"]"#),
            ("PLAZA_WORKER_POLL_MS", "50"),
            ("PLAZA_JOB_LEASE_SECS", "3"),
            ("PLAZA_SHUTDOWN_GRACE_SECS", "1"),
            ("PLAZA_SIGNING_KEYS", &new_key_spec()),
            ("PLAZA_ENCRYPTION_KEYS", &new_key_spec()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            binary: PathBuf::from(binary),
            vars,
            started: AtomicUsize::new(0),
            database,
            data_dir,
        }
    }

    /// Sets `PLAZA_…` (or any) variable for the processes started from now on.
    #[must_use]
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.retain(|(k, _)| k != name);
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Whether the database is PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        matches!(self.database, TestDatabase::Postgres { .. })
    }

    /// `plaza serve` (the API and the publisher) with `vars` on top of the
    /// deployment's; answers once it listens.
    pub async fn serve(&self, vars: &[(&str, &str)]) -> PlazaProcess {
        let mut process = self.start(&["serve"], vars);
        let banner = process
            .wait_for_line("Plaza is listening on ", START_TIMEOUT)
            .await;
        let url = banner
            .as_deref()
            .and_then(|line| line.split("listening on ").nth(1))
            .map(|url| url.trim().to_owned());
        match url {
            Some(url) => process.url = Some(url),
            None => panic!(
                "{} did not start listening:\n{}",
                process.name,
                process.log_tail(40)
            ),
        }
        process
    }

    /// `plaza worker` (the publisher alone) with `vars` on top of the
    /// deployment's; answers once it runs.
    pub async fn worker(&self, vars: &[(&str, &str)]) -> PlazaProcess {
        let mut process = self.start(&["worker"], vars);
        if process
            .wait_for_line("worker is running", START_TIMEOUT)
            .await
            .is_none()
        {
            panic!("{} did not start:\n{}", process.name, process.log_tail(40));
        }
        process
    }

    fn start(&self, args: &[&str], vars: &[(&str, &str)]) -> PlazaProcess {
        let n = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let name = format!("plaza {} #{n}", args.join(" "));
        let log = self.data_dir.0.join(format!("plaza-{n}.log"));
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .current_dir(&self.data_dir.0)
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("create the process log"));
        if let Some(filter) = std::env::var_os("RUST_LOG") {
            command.env("RUST_LOG", filter);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", self.binary.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        // Drains standard output for good, so the process never blocks on a
        // full pipe, and hands each line to the test.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        PlazaProcess {
            url: None,
            name,
            child,
            lines,
            log,
        }
    }

    /// A connection pool to the deployment's database, for what a test
    /// arranges or checks behind the API's back.
    pub fn db(&self) -> Db {
        Db::connect(self.database.url(), 2).expect("connect to the deployment's database")
    }

    /// Makes every queued publish job, and its scheduled post, due at `at`.
    /// Scheduling needs a time at least a minute ahead: tests schedule far
    /// ahead while they set up, then move everything to one instant instead
    /// of waiting. Answers how many jobs moved.
    pub async fn make_due(&self, at: NaiveDateTime) -> usize {
        self.db()
            .write(move |conn| {
                let moved = diesel::update(
                    jobs::table
                        .filter(jobs::kind.eq(plaza_api::publishing::PUBLISH_POST))
                        .filter(jobs::status.eq("queued")),
                )
                .set(jobs::run_at.eq(at))
                .execute(conn)?;
                diesel::update(posts::table.filter(posts::status.eq("scheduled")))
                    .set(posts::scheduled_at.eq(Some(at)))
                    .execute(conn)?;
                Ok::<_, DbError>(moved)
            })
            .await
            .expect("move the publish jobs")
    }
}

/// A running `plaza` process. Dropping it kills it (SIGKILL), so no process
/// outlives the test that started it, even a failed one.
#[derive(Debug)]
pub struct PlazaProcess {
    /// `http://127.0.0.1:<port>` of a `serve` process.
    pub url: Option<String>,
    name: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    log: PathBuf,
}

impl PlazaProcess {
    /// The address of a `serve` process.
    pub fn url(&self) -> &str {
        self.url.as_deref().expect("a serve process has a URL")
    }

    /// Waits up to `timeout` for a line of standard output containing
    /// `needle` and answers it; `None` when the process ended first or time
    /// ran out. Lines before it are skipped.
    pub async fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.lines.try_recv() {
                Ok(line) if line.contains(needle) => return Some(line),
                Ok(_) => {}
                Err(mpsc::TryRecvError::Disconnected) => return None,
                Err(mpsc::TryRecvError::Empty) if Instant::now() >= deadline => return None,
                Err(mpsc::TryRecvError::Empty) => {
                    actix_web::rt::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    /// Kills the process with SIGKILL, as a crash or an OOM killer would,
    /// and waits until it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last `n` lines it logged, for failure messages.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(n);
        format!(
            "--- {} (last {n} log lines)\n{}",
            self.name,
            lines[from..].join("\n")
        )
    }
}

impl Drop for PlazaProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
