//! The commands that return, run natively against the SDK's test host.
//! `loop` and `alloc` only make sense inside a sandbox and are left to the
//! host's tests.

use plaza_sdk::http::{HttpError, Response};
use plaza_sdk::testing::TestHost;
use plaza_sdk::{Capabilities, Channel, Metric, Plugin, PluginError, Post, Published};

use super::{HUGE_BYTES, Misbehaving};

fn publish(text: &str) -> Result<Published, PluginError> {
    Misbehaving::publish(&Channel::new("ch-1", "{}"), Post::new(text))
}

#[test]
fn describe_declares_publish_and_account_metrics_only() {
    let manifest = Misbehaving::describe();
    assert_eq!(manifest.id, "misbehaving");
    assert_eq!(
        manifest.capabilities,
        Capabilities::PUBLISH | Capabilities::ACCOUNT_METRICS
    );
    assert_eq!(manifest.allowed_hosts, ["{config.base_url}"]);
}

#[test]
fn ok_publishes() {
    let _host = TestHost::new();
    assert_eq!(publish("ok"), Ok(Published::new("ok-1")));
}

#[test]
#[should_panic(expected = "panic on purpose")]
fn panic_panics() {
    let _host = TestHost::new();
    let _ = publish("panic");
}

#[test]
#[should_panic(expected = "trap")]
fn trap_panics_outside_wasm() {
    let _host = TestHost::new();
    let _ = publish("trap");
}

#[test]
fn denied_returns_the_host_refusal_as_transient() {
    let host = TestHost::new();

    let error = publish("denied").unwrap_err();

    assert!(
        matches!(&error, PluginError::Transient(m) if m.starts_with("denied: ")),
        "{error:?}"
    );
    assert_eq!(
        host.last_request().unwrap().url(),
        "https://denied.invalid/"
    );
}

#[test]
fn huge_returns_a_64_mib_url() {
    let _host = TestHost::new();
    let published = publish("huge").unwrap();
    assert_eq!(published.url.map(|url| url.len()), Some(HUGE_BYTES));
}

#[test]
fn http_returns_status_and_body() {
    let host = TestHost::new();
    host.on(
        "GET",
        "https://a.example/ping",
        Response::text_body(418, "teapot"),
    );

    assert_eq!(
        publish("http:https://a.example/ping"),
        Ok(Published::new("418").url("teapot"))
    );
}

#[test]
fn http_maps_transport_errors() {
    let host = TestHost::new();
    host.push_error(HttpError::Timeout)
        .push_error(HttpError::Denied("private address".into()));

    assert_eq!(
        publish("http:https://a.example/slow"),
        Err(PluginError::Transient("timeout".into()))
    );
    assert_eq!(
        publish("http:https://10.0.0.1/"),
        Err(PluginError::Invalid("denied: private address".into()))
    );
}

#[test]
fn kv_counts_across_calls_with_the_same_store() {
    let host = TestHost::new();

    assert_eq!(publish("kv").unwrap().remote_id, "1");
    assert_eq!(publish("kv").unwrap().remote_id, "2");
    assert_eq!(host.kv_get("count"), Some(b"2".to_vec()));

    TestHost::new();
    assert_eq!(publish("kv").unwrap().remote_id, "1");
}

#[test]
fn unknown_commands_are_invalid() {
    let _host = TestHost::new();
    assert!(matches!(publish("dance"), Err(PluginError::Invalid(_))));
}

#[test]
fn account_metrics_reports_42_followers() {
    assert_eq!(
        Misbehaving::account_metrics(&Channel::new("ch-1", "{}")),
        Ok(vec![Metric::followers(42)])
    );
}
