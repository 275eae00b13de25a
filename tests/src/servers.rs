//! What the harnesses of real platform servers share: the install cache
//! outside the repository, finding programs, running install steps with a
//! time limit, free loopback ports and Python virtualenvs from PyPI.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one install step may take (first run only).
const PIP_TIMEOUT: Duration = Duration::from_secs(600);

/// Tests of one binary install one virtualenv at a time; other processes
/// are kept apart by installing into a fresh folder and renaming it.
static PIP_INSTALL: Mutex<()> = Mutex::new(());

/// Where installs are cached between runs: `$XDG_CACHE_HOME/plaza-test-servers`,
/// else `~/.cache/plaza-test-servers`.
pub fn cache_root() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("plaza-test-servers")
}

/// `program` on `PATH`, if it is there.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// Runs an install step to success within `timeout`, or panics saying
/// `what` failed, with its output.
pub fn run(command: &mut Command, what: &str, timeout: Duration) {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                panic!("{what}: took longer than {timeout:?}");
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

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port()
}

/// The python of a cached virtualenv `venv_name` holding the PyPI
/// requirement `package`, created and installed first when the cache
/// lacks it. `purpose` tells a person why Python is needed.
pub fn python_venv(venv_name: &str, package: &str, purpose: &str) -> PathBuf {
    let venv = cache_root().join(venv_name);
    let python = venv.join("bin").join("python");
    let marker = venv.join(".plaza-installed");
    let _guard = PIP_INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if marker.exists() {
        return python;
    }
    let python3 = which("python3").unwrap_or_else(|| {
        panic!(
            "python3 was not found on PATH: {purpose} (PyPI {package}) and need Python 3 with venv"
        )
    });
    std::fs::create_dir_all(cache_root()).expect("create the test server cache");
    let staging = cache_root().join(format!("{venv_name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    run(
        Command::new(&python3).arg("-m").arg("venv").arg(&staging),
        &format!("create a virtualenv for {package} (is python3-venv installed?)"),
        PIP_TIMEOUT,
    );
    run(
        Command::new(staging.join("bin").join("python"))
            .args(["-m", "pip", "install", "--quiet", package]),
        &format!("install {package} with pip"),
        PIP_TIMEOUT,
    );
    std::fs::write(staging.join(".plaza-installed"), package).expect("mark the install");
    // Another process may have won the race: its install is as good.
    if std::fs::rename(&staging, &venv).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        assert!(
            marker.exists(),
            "could not move the {package} virtualenv into {}",
            venv.display()
        );
    }
    python
}
