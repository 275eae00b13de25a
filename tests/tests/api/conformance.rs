//! The conformance suite every first-party plugin meets, whatever its
//! platform: a valid manifest and configuration schema, `unsupported` from
//! every contract function it does not declare (answered by the plugin
//! itself, and refused by the host before the plugin is entered), and no
//! request to a host the operator did not allow.
//!
//! A new plugin gets here by being built into the test plugins folder
//! (`tests/build.rs`) and by a fixture below: the suite fails for a plugin
//! it has no fixture for.

use std::collections::HashMap;

use plaza_api::plugins::bindings::{
    Capabilities, Moderation, Plugin, PluginError, Post, WebhookRequest,
};
use plaza_api::plugins::error::CallError;
use plaza_api::plugins::registry::LoadedPlugin;
use plaza_api::plugins::runtime::CallContext;
use plaza_api::plugins::sandbox::CallState;
use plaza_tests::TestApp;
use plaza_tests::receiver::Receiver;
use serde_json::{Value, json};
use wasmtime::Store;

/// Plugins that exist to misbehave in the runtime's tests, not platforms.
const NOT_PLATFORMS: [&str; 1] = ["misbehaving"];

/// A working channel configuration (pointing at `url`) and credentials for
/// each first-party plugin.
fn fixture(id: &str, url: &str) -> Option<(Value, Vec<(&'static str, &'static str)>)> {
    Some(match id {
        "template" => (json!({"base_url": url}), vec![("access_token", "t0ken")]),
        "matrix" => (
            json!({"homeserver": url, "room_id": "!conformance:localhost"}),
            vec![("access_token", "syt_conformance")],
        ),
        "webhook" => (json!({"url": url, "format": "plaza"}), vec![]),
        "feeds" => (json!({"feed_url": url}), vec![]),
        "mastodon" => (
            json!({"instance": url}),
            vec![("access_token", "conformance")],
        ),
        "discord" => (
            json!({"channel_id": "1", "guild_id": "2", "api_base_url": url}),
            vec![("bot_token", "conformance")],
        ),
        "bluesky" => (
            json!({"service": url}),
            vec![
                ("identifier", "conformance.test"),
                ("app_password", "abcd-efgh-ijkl-mnop"),
            ],
        ),
        "wordpress" => (
            json!({"site_url": url}),
            vec![
                ("username", "admin"),
                ("application_password", "abcd efgh ijkl"),
            ],
        ),
        "telegram" => (
            json!({"chat_id": "@conformance", "api_base_url": url}),
            vec![
                ("bot_token", "123:conformance"),
                ("webhook_secret", "s3cret"),
            ],
        ),
        _ => return None,
    })
}

fn platforms(app: &TestApp) -> Vec<std::sync::Arc<LoadedPlugin>> {
    let plugins: Vec<_> = app
        .state
        .plugins
        .list()
        .into_iter()
        .filter(|p| !NOT_PLATFORMS.contains(&p.manifest.id.as_str()))
        .collect();
    assert!(!plugins.is_empty(), "no first-party plugin was loaded");
    plugins
}

fn context(config: Value, credentials: &[(&str, &str)]) -> CallContext {
    CallContext {
        channel_id: Some(uuid::Uuid::now_v7().to_string()),
        config,
        credentials: credentials
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>(),
        media: None,
    }
}

fn post() -> Post {
    Post {
        text: "Conformance".to_owned(),
        media: Vec::new(),
        reply_to: None,
        options: "{}".to_owned(),
        idempotency_key: "conformance-1".to_owned(),
    }
}

fn webhook_request() -> WebhookRequest {
    WebhookRequest {
        method: "POST".to_owned(),
        path: "/".to_owned(),
        query: String::new(),
        headers: Vec::new(),
        body: b"{}".to_vec(),
    }
}

type Call = fn(
    &Plugin,
    &mut Store<CallState>,
    &plaza_api::plugins::bindings::Channel,
) -> wasmtime::Result<Option<PluginError>>;

/// Every contract function past `describe`, with the capability it needs,
/// called straight into the plugin; answers the plugin's error, if any.
fn contract_calls() -> Vec<(Capabilities, &'static str, Call)> {
    fn err<T>(result: Result<T, PluginError>) -> Option<PluginError> {
        result.err()
    }
    vec![
        (Capabilities::PUBLISH, "publish", |p, s, ch| {
            Ok(err(p.plaza_plugin_platform().call_publish(
                s,
                ch,
                &post(),
            )?))
        }),
        (Capabilities::DELETE_POST, "delete_post", |p, s, ch| {
            Ok(err(p
                .plaza_plugin_platform()
                .call_delete_post(s, ch, "1")?))
        }),
        (Capabilities::MENTIONS, "fetch_mentions", |p, s, ch| {
            Ok(err(p
                .plaza_plugin_platform()
                .call_fetch_mentions(s, ch, None, 10)?))
        }),
        (Capabilities::COMMENTS, "fetch_comments", |p, s, ch| {
            Ok(err(p
                .plaza_plugin_platform()
                .call_fetch_comments(s, ch, "1", None, 10)?))
        }),
        (
            Capabilities::DIRECT_MESSAGES,
            "fetch_messages",
            |p, s, ch| {
                Ok(err(p
                    .plaza_plugin_platform()
                    .call_fetch_messages(s, ch, None, 10)?))
            },
        ),
        (Capabilities::SEARCH, "search", |p, s, ch| {
            Ok(err(p
                .plaza_plugin_platform()
                .call_search(s, ch, "coffee", None, 10)?))
        }),
        (Capabilities::REPLY, "reply", |p, s, ch| {
            Ok(err(p.plaza_plugin_platform().call_reply(
                s,
                ch,
                "1",
                &post(),
            )?))
        }),
        (Capabilities::HIDE, "moderate(hide)", |p, s, ch| {
            Ok(err(p.plaza_plugin_platform().call_moderate(
                s,
                ch,
                "1",
                Moderation::Hide,
            )?))
        }),
        (
            Capabilities::DELETE_COMMENT,
            "moderate(delete)",
            |p, s, ch| {
                Ok(err(p.plaza_plugin_platform().call_moderate(
                    s,
                    ch,
                    "1",
                    Moderation::Delete,
                )?))
            },
        ),
        (
            Capabilities::BLOCK_AUTHOR,
            "moderate(block_author)",
            |p, s, ch| {
                Ok(err(p.plaza_plugin_platform().call_moderate(
                    s,
                    ch,
                    "1",
                    Moderation::BlockAuthor,
                )?))
            },
        ),
        (Capabilities::POST_METRICS, "post_metrics", |p, s, ch| {
            Ok(err(p.plaza_plugin_platform().call_post_metrics(
                s,
                ch,
                &["1".to_owned()],
            )?))
        }),
        (
            Capabilities::ACCOUNT_METRICS,
            "account_metrics",
            |p, s, ch| {
                Ok(err(p
                    .plaza_plugin_platform()
                    .call_account_metrics(s, ch)?))
            },
        ),
        (Capabilities::WEBHOOKS, "verify_webhook", |p, s, ch| {
            Ok(err(p.plaza_plugin_platform().call_verify_webhook(
                s,
                ch,
                &webhook_request(),
            )?))
        }),
        (Capabilities::WEBHOOKS, "parse_webhook", |p, s, ch| {
            Ok(err(p.plaza_plugin_platform().call_parse_webhook(
                s,
                ch,
                &webhook_request(),
            )?))
        }),
        (Capabilities::OAUTH2, "oauth_refresh", |p, s, ch| {
            Ok(err(p.plaza_plugin_platform().call_oauth_refresh(s, ch)?))
        }),
    ]
}

/// Runs one contract function straight into the plugin (past the host's
/// capability gate).
async fn call_directly(
    app: &TestApp,
    plugin: &LoadedPlugin,
    context: CallContext,
    call: Call,
) -> Result<Option<PluginError>, CallError> {
    let channel = context.channel();
    app.state
        .plugins
        .runtime()
        .call(
            &plugin.manifest.id,
            plugin.prepared(),
            &plugin.manifest.allowed_hosts,
            context,
            move |p, store| call(p, store, &channel),
        )
        .await
}

#[actix_web::test]
async fn every_plugin_describes_itself_validly_and_checks_its_configuration() {
    let app = TestApp::spawn_with_plugins().await;
    for plugin in platforms(&app) {
        let m = &plugin.manifest;
        let (config, _) = fixture(&m.id, "https://platform.example")
            .unwrap_or_else(|| panic!("add a conformance fixture for the {} plugin", m.id));
        assert!(
            !m.id.is_empty()
                && m.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{}: ids are lower-case slugs",
            m.id
        );
        assert!(!m.version.is_empty() && !m.display_name.is_empty() && !m.platform.is_empty());
        assert!(!m.capabilities.is_empty(), "{}: declares nothing", m.id);
        assert!(
            !m.allowed_hosts.is_empty() || m.capabilities.is_empty(),
            "{}: a platform plugin names the hosts it reaches",
            m.id
        );
        assert_eq!(m.config_schema["type"], "object", "{}", m.id);
        assert!(
            m.config_violations(&config).is_empty(),
            "{}: the fixture's config breaks its own schema: {:?}",
            m.id,
            m.config_violations(&config)
        );
        assert!(
            !m.config_violations(&json!({"unexpected": true})).is_empty(),
            "{}: the config schema accepts anything",
            m.id
        );
        let checked = app
            .state
            .plugins
            .validate_config(&plugin, context(config, &[]))
            .await;
        assert!(checked.is_ok(), "{}: {checked:?}", m.id);
    }
}

#[actix_web::test]
async fn undeclared_capabilities_answer_unsupported_from_plugin_and_host() {
    let app = TestApp::spawn_with_plugins().await;
    let mut checked = 0;
    for plugin in platforms(&app) {
        let (config, credentials) =
            fixture(&plugin.manifest.id, "https://platform.example").expect("a fixture");
        for (capability, name, call) in contract_calls() {
            if plugin.manifest.can(capability) {
                continue;
            }
            let answer =
                call_directly(&app, &plugin, context(config.clone(), &credentials), call).await;
            assert!(
                matches!(answer, Ok(Some(PluginError::Unsupported))),
                "{} {name}: {answer:?}",
                plugin.manifest.id
            );
            checked += 1;
        }
        // The host does not even enter the plugin for what it does not declare.
        for action in [
            Moderation::Hide,
            Moderation::Delete,
            Moderation::BlockAuthor,
            Moderation::Report,
        ] {
            let (capability, _) =
                plaza_api::plugins::calls::moderation_capability(action, &plugin.manifest);
            if plugin.manifest.can(capability) {
                continue;
            }
            let refused = app
                .state
                .plugins
                .moderate(
                    &plugin,
                    context(config.clone(), &credentials),
                    "1".to_owned(),
                    action,
                )
                .await;
            assert!(
                matches!(refused, Err(CallError::Unsupported(_))),
                "{}: {refused:?}",
                plugin.manifest.id
            );
        }
    }
    assert!(checked > 0, "every plugin declares everything?");
}

/// Calls every declared function of every plugin with its channel pointing
/// at `url`; answers how many succeeded.
async fn call_everything_declared(app: &TestApp, url: &str) -> usize {
    let mut succeeded = 0;
    for plugin in platforms(app) {
        let (config, credentials) = fixture(&plugin.manifest.id, url).expect("a fixture");
        for (capability, _, call) in contract_calls() {
            if plugin.manifest.can(capability) {
                let answer =
                    call_directly(app, &plugin, context(config.clone(), &credentials), call).await;
                succeeded += usize::from(matches!(answer, Ok(None)));
            }
        }
    }
    succeeded
}

#[actix_web::test]
async fn no_plugin_reaches_a_host_the_operator_did_not_allow() {
    // The control: with the operator allowing every host, the calls do
    // reach the canary.
    let open = TestApp::spawn_with_plugins().await;
    let canary = Receiver::start();
    call_everything_declared(&open, &canary.url).await;
    assert!(
        !canary.received().is_empty(),
        "no plugin called its platform"
    );

    let app = TestApp::spawn_with(|c| {
        plaza_tests::load_all_plugins(c);
        c.plugin_insecure_hosts = vec!["127.0.0.1".to_owned()];
        c.plugin_allowed_hosts = vec!["platform.example".to_owned()];
    })
    .await;
    let canary = Receiver::start();
    assert_eq!(
        call_everything_declared(&app, &canary.url).await,
        0,
        "a call succeeded without reaching its platform"
    );
    assert!(
        canary.received().is_empty(),
        "a plugin reached a host the operator did not allow: {:?}",
        canary.received()
    );
}
