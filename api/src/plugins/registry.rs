//! The plugins this server knows: loaded from the plugins folder and from
//! uploads, each pinned by the SHA-256 of its wasm, enabled or not, and
//! paused by a circuit breaker when it keeps failing.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use utoipa::ToSchema;
use wasmtime::Store;

use super::bindings::{Author, Capabilities, Metric, Plugin, PluginPre, Post, Published, Tokens};
use super::error::{CallError, PluginFault};
use super::manifest::PluginManifest;
use super::runtime::{CallContext, PluginRuntime, sha256_hex};
use super::sandbox::CallState;

/// Failures in a row that pause a plugin.
const BREAKER_THRESHOLD: u32 = 5;
/// How long a paused plugin rests before it is tried again.
const BREAKER_COOLDOWN: Duration = Duration::from_secs(60);

/// Where a plugin came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PluginSource {
    /// Built into the server (a first-party plugin).
    Builtin,
    /// The folder named by `plugins_dir`.
    Directory,
    /// Uploaded by an instance administrator.
    Upload,
}

#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    last_error: Option<String>,
}

/// A plugin ready to be called.
pub struct LoadedPlugin {
    /// Its checked manifest.
    pub manifest: PluginManifest,
    /// SHA-256 of its wasm.
    pub sha256: String,
    /// Where it came from.
    pub source: PluginSource,
    pre: PluginPre<CallState>,
    enabled: AtomicBool,
    breaker: Mutex<Breaker>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.manifest.id)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

/// How a plugin is doing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PluginHealth {
    /// `ok`, or `paused` after repeated failures.
    pub state: String,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

impl LoadedPlugin {
    /// The linked component, ready to instantiate.
    pub fn prepared(&self) -> &PluginPre<CallState> {
        &self.pre
    }

    /// Whether workspaces may use it.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Its circuit breaker's state.
    pub fn health(&self) -> PluginHealth {
        let breaker = self
            .breaker
            .lock()
            .map(|b| (b.failures, b.open_until, b.last_error.clone()));
        let (failures, open_until, last_error) = breaker.unwrap_or((0, None, None));
        let paused = open_until.is_some_and(|until| until > Instant::now());
        PluginHealth {
            state: if paused { "paused" } else { "ok" }.to_owned(),
            consecutive_failures: failures,
            last_error,
        }
    }

    fn admit(&self) -> Result<(), CallError> {
        if !self.enabled() {
            return Err(CallError::Unavailable("disabled by the operator".into()));
        }
        let breaker = self
            .breaker
            .lock()
            .map_err(|_| CallError::Host("breaker poisoned".into()))?;
        match breaker.open_until {
            Some(until) if until > Instant::now() => Err(CallError::Unavailable(format!(
                "paused after {} failures in a row; last: {}",
                breaker.failures,
                breaker.last_error.as_deref().unwrap_or("unknown")
            ))),
            _ => Ok(()),
        }
    }

    fn record<T>(&self, outcome: &Result<T, CallError>) {
        let Ok(mut breaker) = self.breaker.lock() else {
            return;
        };
        match outcome {
            Err(err) if err.is_misbehaviour() => {
                breaker.failures += 1;
                breaker.last_error = Some(err.to_string());
                if breaker.failures >= BREAKER_THRESHOLD {
                    breaker.open_until = Some(Instant::now() + BREAKER_COOLDOWN);
                    tracing::warn!(plugin = %self.manifest.id, error = %err, "plugin paused after repeated failures");
                }
            }
            _ => {
                breaker.failures = 0;
                breaker.open_until = None;
            }
        }
    }
}

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not a component, or not one exporting the contract.
    #[error("not a Plaza plugin component: {0}")]
    NotAPlugin(String),
    /// `describe` failed or its manifest was refused.
    #[error("the plugin's manifest is unusable: {0}")]
    Manifest(String),
}

/// Every loaded plugin, by id.
#[derive(Debug)]
pub struct PluginRegistry {
    runtime: Arc<PluginRuntime>,
    plugins: RwLock<BTreeMap<String, Arc<LoadedPlugin>>>,
}

impl PluginRegistry {
    /// An empty registry over a runtime.
    pub fn new(runtime: PluginRuntime) -> Self {
        Self {
            runtime: Arc::new(runtime),
            plugins: RwLock::new(BTreeMap::new()),
        }
    }

    /// The runtime (limits, settings).
    pub fn runtime(&self) -> &PluginRuntime {
        &self.runtime
    }

    /// Compiles, links and describes a wasm component, then registers it
    /// (replacing an earlier version with the same id).
    pub async fn load(
        &self,
        wasm: Vec<u8>,
        source: PluginSource,
    ) -> Result<Arc<LoadedPlugin>, LoadError> {
        let sha256 = sha256_hex(&wasm);
        let runtime = Arc::clone(&self.runtime);
        let pre = tokio::task::spawn_blocking(move || {
            let component = runtime.compile(&wasm)?;
            runtime.prepare(&component)
        })
        .await
        .map_err(|err| LoadError::NotAPlugin(err.to_string()))?
        .map_err(|err| LoadError::NotAPlugin(format!("{err:#}")))?;
        let raw = self
            .runtime
            .call(
                "(loading)",
                &pre,
                &[],
                CallContext::default(),
                |plugin, store| plugin.plaza_plugin_platform().call_describe(store),
            )
            .await
            .map_err(|err| LoadError::Manifest(err.to_string()))?;
        let manifest =
            PluginManifest::parse(raw).map_err(|err| LoadError::Manifest(err.to_string()))?;
        let plugin = Arc::new(LoadedPlugin {
            manifest,
            sha256,
            source,
            pre,
            enabled: AtomicBool::new(true),
            breaker: Mutex::new(Breaker::default()),
        });
        if let Ok(mut plugins) = self.plugins.write() {
            plugins.insert(plugin.manifest.id.clone(), Arc::clone(&plugin));
        }
        tracing::info!(plugin = %plugin.manifest.id, version = %plugin.manifest.version, sha256 = %plugin.sha256, "plugin loaded");
        Ok(plugin)
    }

    /// Loads every `*.wasm` in a folder; a bad file is logged and skipped.
    pub async fn load_dir(&self, dir: &Path, source: PluginSource) -> anyhow::Result<usize> {
        let mut loaded = 0;
        let mut entries: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
            .collect();
        entries.sort();
        for path in entries {
            let wasm = std::fs::read(&path)?;
            match self.load(wasm, source).await {
                Ok(_) => loaded += 1,
                Err(err) => tracing::error!(path = %path.display(), %err, "plugin not loaded"),
            }
        }
        Ok(loaded)
    }

    /// Every plugin, by id.
    pub fn list(&self) -> Vec<Arc<LoadedPlugin>> {
        self.plugins
            .read()
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default()
    }

    /// One plugin.
    pub fn get(&self, id: &str) -> Option<Arc<LoadedPlugin>> {
        self.plugins.read().ok()?.get(id).cloned()
    }

    /// Enables or disables a plugin; `None` if there is no such plugin.
    pub fn set_enabled(&self, id: &str, enabled: bool) -> Option<Arc<LoadedPlugin>> {
        let plugin = self.get(id)?;
        plugin.enabled.store(enabled, Ordering::Relaxed);
        Some(plugin)
    }

    /// Runs one call of a plugin that declares `capability`.
    pub async fn call<T, F>(
        &self,
        plugin: &LoadedPlugin,
        capability: (Capabilities, &'static str),
        context: CallContext,
        weigh: fn(&T) -> usize,
        work: F,
    ) -> Result<T, CallError>
    where
        T: Send + 'static,
        F: FnOnce(&Plugin, &mut Store<CallState>) -> wasmtime::Result<T> + Send + 'static,
    {
        if !plugin.manifest.can(capability.0) {
            return Err(CallError::Unsupported(capability.1));
        }
        plugin.admit()?;
        let limit = self.runtime.settings().max_output_bytes;
        let outcome = self
            .runtime
            .call(
                &plugin.manifest.id,
                &plugin.pre,
                &plugin.manifest.allowed_hosts,
                context,
                work,
            )
            .await
            .and_then(|value| match weigh(&value) {
                size if size > limit => Err(CallError::OutputTooLarge(size)),
                _ => Ok(value),
            });
        plugin.record(&outcome);
        outcome
    }

    /// Publishes a post through a plugin.
    pub async fn publish(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        post: Post,
    ) -> Result<Published, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::PUBLISH, "publish"),
            context,
            weigh_published,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_publish(store, &channel, &post)
            },
        )
        .await
        .and_then(contract)
    }

    /// After a crash: whether a publish with this idempotency key reached the
    /// platform (`Unsupported` when the plugin cannot tell).
    pub async fn find_published(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        idempotency_key: String,
    ) -> Result<Option<Published>, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::PUBLISH, "publish"),
            context,
            |found: &Result<Option<Published>, _>| match found {
                Ok(Some(p)) => p.remote_id.len() + p.url.as_ref().map_or(0, String::len),
                _ => 0,
            },
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_find_published(store, &channel, &idempotency_key)
            },
        )
        .await
        .and_then(contract)
    }

    /// Reads account metrics through a plugin.
    pub async fn account_metrics(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
    ) -> Result<Vec<Metric>, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::ACCOUNT_METRICS, "account metrics"),
            context,
            weigh_metrics,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_account_metrics(store, &channel)
            },
        )
        .await
        .and_then(contract)
    }
}

impl PluginRegistry {
    /// Asks a plugin whether a channel configuration is usable.
    pub async fn validate_config(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
    ) -> Result<(), CallError> {
        let config = context.config.to_string();
        self.call(
            plugin,
            (Capabilities::empty(), "validate config"),
            context,
            |_| 0,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_validate_config(store, &config)
            },
        )
        .await
        .and_then(contract)
    }

    /// Checks a channel's credentials; answers the account they belong to.
    pub async fn check_credentials(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
    ) -> Result<Author, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::empty(), "check credentials"),
            context,
            weigh_author,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_check_credentials(store, &channel)
            },
        )
        .await
        .and_then(contract)
    }

    /// The URL a person visits to authorize the platform account.
    pub async fn oauth_authorize_url(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        state: String,
        pkce_challenge: String,
        redirect_uri: String,
    ) -> Result<String, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::OAUTH2, "oauth2"),
            context,
            |url: &Result<String, _>| url.as_ref().map_or(0, String::len),
            move |p, store| {
                p.plaza_plugin_platform().call_oauth_authorize_url(
                    store,
                    &channel,
                    &state,
                    &pkce_challenge,
                    &redirect_uri,
                )
            },
        )
        .await
        .and_then(contract)
    }

    /// Exchanges an authorization code for tokens.
    pub async fn oauth_exchange(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        code: String,
        pkce_verifier: String,
        redirect_uri: String,
    ) -> Result<Tokens, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::OAUTH2, "oauth2"),
            context,
            weigh_tokens,
            move |p, store| {
                p.plaza_plugin_platform().call_oauth_exchange(
                    store,
                    &channel,
                    &code,
                    &pkce_verifier,
                    &redirect_uri,
                )
            },
        )
        .await
        .and_then(contract)
    }

    /// Refreshes a channel's OAuth2 tokens (the plugin reads `refresh_token`).
    pub async fn oauth_refresh(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
    ) -> Result<Tokens, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::OAUTH2, "oauth2"),
            context,
            weigh_tokens,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_oauth_refresh(store, &channel)
            },
        )
        .await
        .and_then(contract)
    }
}

fn weigh_author(value: &Result<Author, super::bindings::PluginError>) -> usize {
    match value {
        Ok(a) => {
            a.remote_id.len() + a.handle.len() + a.display_name.as_ref().map_or(0, String::len)
        }
        Err(_) => 0,
    }
}

fn weigh_tokens(value: &Result<Tokens, super::bindings::PluginError>) -> usize {
    match value {
        Ok(t) => {
            t.access.len()
                + t.refresh.as_ref().map_or(0, String::len)
                + t.scope.as_ref().map_or(0, String::len)
        }
        Err(_) => 0,
    }
}

pub(super) fn contract<T>(result: Result<T, super::bindings::PluginError>) -> Result<T, CallError> {
    result.map_err(|err| CallError::Plugin(PluginFault::from(err)))
}

pub(super) fn weigh_published(value: &Result<Published, super::bindings::PluginError>) -> usize {
    match value {
        Ok(p) => p.remote_id.len() + p.url.as_ref().map_or(0, String::len),
        Err(_) => 0,
    }
}

pub(super) fn weigh_metrics(value: &Result<Vec<Metric>, super::bindings::PluginError>) -> usize {
    match value {
        Ok(metrics) => metrics.iter().map(|m| m.name.len() + 16).sum(),
        Err(_) => 0,
    }
}
