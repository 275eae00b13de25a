//! A test-only Plaza plugin that misbehaves on purpose, so the host's tests
//! can prove a plugin's failures stay inside its sandbox.
//!
//! `publish` does what the post text says:
//!
//! | text | what happens |
//! | --- | --- |
//! | `ok` | returns `Published { remote_id: "ok-1" }` |
//! | `panic` | panics (a trap inside a component) |
//! | `trap` | executes the wasm `unreachable` instruction (panics natively) |
//! | `loop` | spins forever; only fuel or an epoch deadline stops it |
//! | `alloc` | allocates and touches memory until allocation fails |
//! | `denied` | GETs `https://denied.invalid/`, a host outside the manifest, and returns the error as `Transient("<http error>")` |
//! | `huge` | returns a `Published` whose `url` is 8 MiB long (past the host's 4 MiB answer limit, within its memory limit) |
//! | `http:<url>` | GETs `<url>`; returns `Published { remote_id: "<status>", url: Some("<body>") }` or the HTTP error as a `PluginError` |
//! | `kv` | increments the kv counter `count` and returns it as `remote_id` |
//! | anything else | `Invalid("unknown command …")` |
//!
//! `account_metrics` returns `followers = 42`.

use plaza_sdk::http::Request;
use plaza_sdk::{
    Capabilities, Channel, Limits, Manifest, Metric, Plugin, PluginError, Post, Published, kv,
};
use serde_json::json;

/// A URL whose host no manifest allows.
pub const DENIED_URL: &str = "https://denied.invalid/";

/// Length of the `url` that `huge` returns: 8 MiB.
pub const HUGE_BYTES: usize = 8 << 20;

/// The kv key `kv` counts under.
pub const COUNTER_KEY: &str = "count";

/// The misbehaving plugin.
#[derive(Debug)]
pub struct Misbehaving;

impl Plugin for Misbehaving {
    fn describe() -> Manifest {
        Manifest::builder("misbehaving", "Misbehaving")
            .version(env!("CARGO_PKG_VERSION"))
            .platform("Test double")
            .capabilities(Capabilities::PUBLISH | Capabilities::ACCOUNT_METRICS)
            .limits(Limits::new(10_000, 0))
            .allowed_host("{config.base_url}")
            .config_schema(&json!({
                "type": "object",
                "properties": { "base_url": { "type": "string" } }
            }))
            .build()
    }

    fn publish(_channel: &Channel, post: Post) -> Result<Published, PluginError> {
        match post.text.as_str() {
            "ok" => Ok(Published::new("ok-1")),
            "panic" => panic_on_purpose(),
            "trap" => trap(),
            "loop" => spin_forever(),
            "alloc" => allocate_without_bound(),
            "denied" => call_denied_host(),
            "huge" => Ok(Published::new("huge").url("x".repeat(HUGE_BYTES))),
            "kv" => count(),
            text => match text.strip_prefix("http:") {
                Some(url) => fetch(url),
                None => Err(PluginError::Invalid(format!("unknown command {text:?}"))),
            },
        }
    }

    fn account_metrics(_channel: &Channel) -> Result<Vec<Metric>, PluginError> {
        Ok(vec![Metric::followers(42)])
    }
}

#[expect(clippy::panic, reason = "panicking is this command's whole point")]
fn panic_on_purpose() -> ! {
    panic!("misbehaving plugin: panic on purpose")
}

#[cfg(target_arch = "wasm32")]
fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
#[expect(clippy::panic, reason = "natively a panic stands in for the wasm trap")]
fn trap() -> ! {
    panic!("misbehaving plugin: trap (a panic outside wasm)")
}

fn spin_forever() -> ! {
    let mut turns: u64 = 0;
    loop {
        // black_box keeps the optimizer from proving the loop useless.
        turns = std::hint::black_box(turns.wrapping_add(1));
    }
}

fn allocate_without_bound() -> ! {
    const BLOCK_BYTES: usize = 1 << 20;
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // Non-zero bytes: every page is written, not just reserved.
        hoard.push(std::hint::black_box(vec![0xA5; BLOCK_BYTES]));
    }
}

fn call_denied_host() -> Result<Published, PluginError> {
    match Request::get(DENIED_URL).send() {
        Err(error) => Err(PluginError::Transient(error.to_string())),
        Ok(response) => Ok(Published::new(format!("not-denied-{}", response.status))),
    }
}

fn fetch(url: &str) -> Result<Published, PluginError> {
    let response = Request::get(url).send()?;
    Ok(Published::new(response.status.to_string()).url(response.text()))
}

fn count() -> Result<Published, PluginError> {
    let count = kv::get_string(COUNTER_KEY)
        .and_then(|stored| stored.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    kv::set(COUNTER_KEY, count.to_string());
    Ok(Published::new(count.to_string()))
}

plaza_sdk::export_plugin!(Misbehaving);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
