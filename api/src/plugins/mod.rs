//! The plugin host: every social platform is a sandboxed WebAssembly
//! component implementing the contract in `sdk/wit`.
//!
//! [`runtime`] owns the wasmtime engine and runs each call in a fresh,
//! limited instance; [`sandbox`] is what a call may touch; [`egress`] is the
//! only way out to the network; [`registry`] knows which plugins are loaded.

pub mod bindings;
pub mod builtin;
pub mod calls;
pub mod channels;
pub mod egress;
pub mod error;
pub mod kv;
pub mod manifest;
pub mod media;
pub mod registry;
pub mod runtime;
pub mod sandbox;

pub use error::{CallError, PluginFault};
pub use registry::{LoadedPlugin, PluginRegistry, PluginSource};
pub use runtime::{CallContext, PluginRuntime, RuntimeSettings};

use std::time::Duration;

use crate::config::Config;

/// The runtime settings a configuration asks for.
pub fn settings_for(config: &Config) -> RuntimeSettings {
    RuntimeSettings {
        pooling: config.plugin_pooling,
        memory_bytes: config.plugin_memory_limit_bytes,
        cpu_budget: Duration::from_millis(config.plugin_cpu_budget_ms),
        call_timeout: Duration::from_secs(config.plugin_call_timeout_secs),
        max_concurrent_calls: config.plugin_concurrency,
        cache_dir: Some(config.data_dir.join("plugin-cache")),
        egress: egress::EgressPolicy {
            allowed_hosts: config.plugin_allowed_hosts.clone(),
            insecure_hosts: config.plugin_insecure_hosts.clone(),
            ..egress::EgressPolicy::default()
        },
        ..RuntimeSettings::default()
    }
}

/// Where uploaded plugins are kept so they load again after a restart.
pub fn uploads_dir(config: &Config) -> std::path::PathBuf {
    config.data_dir.join("plugins")
}

/// Builds the registry (its key-value store in `db`) and loads the
/// built-in plugins (unless `builtin_plugins` is off), the configured plugin
/// folder and earlier uploads, in that order: a later one replaces an
/// earlier one of the same id.
pub async fn load_registry(
    config: &Config,
    settings: RuntimeSettings,
    db: &crate::db::Db,
) -> anyhow::Result<PluginRegistry> {
    let runtime =
        PluginRuntime::new(settings)?.with_kv(std::sync::Arc::new(kv::DbKv::new(db.clone())));
    let registry = PluginRegistry::new(runtime);
    if config.builtin_plugins {
        for (id, wasm) in builtin::PLUGINS {
            if let Err(err) = registry.load(wasm.to_vec(), PluginSource::Builtin).await {
                tracing::error!(plugin = id, %err, "built-in plugin not loaded");
            }
        }
    }
    if let Some(dir) = &config.plugins_dir {
        let loaded = registry.load_dir(dir, PluginSource::Directory).await?;
        tracing::info!(dir = %dir.display(), loaded, "plugins loaded from folder");
    }
    let uploads = uploads_dir(config);
    if uploads.is_dir() {
        registry.load_dir(&uploads, PluginSource::Upload).await?;
    }
    Ok(registry)
}

/// Disables the plugins an administrator disabled before the last restart.
pub async fn apply_saved_states(
    db: &crate::db::Db,
    registry: &PluginRegistry,
) -> anyhow::Result<()> {
    let disabled = db
        .read(|conn| crate::db::disabled_plugins::list(conn).map_err(crate::db::DbError::from))
        .await?;
    for id in disabled {
        registry.set_enabled(&id, false);
    }
    Ok(())
}
