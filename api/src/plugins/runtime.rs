//! The wasmtime side: one shared engine, compiled components cached on disk,
//! and calls that each get a fresh, limited instance on a bounded pool.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use super::bindings::{Plugin, PluginPre};
use super::egress::{Egress, EgressPolicy};
use super::error::CallError;
use super::kv::{KvStore, MemoryKv};
use super::sandbox::CallState;

/// How often the epoch advances; CPU budgets are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Limits and switches of the plugin runtime.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Use the pooling instance allocator (fast instantiation, memory reserved up front).
    pub pooling: bool,
    /// Most linear memory one instance may use.
    pub memory_bytes: usize,
    /// CPU time one call may use (guest code, measured by epochs).
    pub cpu_budget: Duration,
    /// Wall-clock time one call may take, host calls included.
    pub call_timeout: Duration,
    /// Calls running at once; more wait for a free slot.
    pub max_concurrent_calls: usize,
    /// Largest answer accepted from a plugin, in bytes.
    pub max_output_bytes: usize,
    /// Where compiled components are cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Outbound HTTP rules.
    pub egress: EgressPolicy,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            pooling: true,
            memory_bytes: 64 * 1024 * 1024,
            cpu_budget: Duration::from_secs(2),
            call_timeout: Duration::from_secs(30),
            max_concurrent_calls: 16,
            max_output_bytes: 4 * 1024 * 1024,
            cache_dir: None,
            egress: EgressPolicy::default(),
        }
    }
}

/// What a call acts with: its channel's configuration and credentials.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// The channel, if the call is for one (the key-value scope).
    pub channel_id: Option<String>,
    /// The channel configuration (JSON), which expands allowed-host templates.
    pub config: serde_json::Value,
    /// Credentials the plugin may read through the `credential` import.
    pub credentials: HashMap<String, String>,
    /// Files the plugin may read through `media-read` (a publish's attachments).
    pub media: Option<super::media::AttachedMedia>,
}

impl CallContext {
    /// The `channel` record the contract's functions take.
    pub fn channel(&self) -> super::bindings::Channel {
        super::bindings::Channel {
            id: self.channel_id.clone().unwrap_or_default(),
            config: self.config.to_string(),
        }
    }
}

/// Advances the engine's epoch until dropped.
#[derive(Debug)]
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("plaza-plugin-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            });
        if let Err(err) = spawned {
            tracing::error!(%err, "cannot start the plugin epoch ticker");
        }
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The engine, linker and call pool shared by every plugin.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<CallState>,
    settings: RuntimeSettings,
    egress: Arc<EgressPolicy>,
    kv: Arc<dyn KvStore>,
    permits: Arc<Semaphore>,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for PluginRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRuntime")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl PluginRuntime {
    /// Keeps the plugins' key-value store in `kv` instead of process memory.
    pub fn with_kv(mut self, kv: Arc<dyn KvStore>) -> Self {
        self.kv = kv;
        self
    }

    /// Builds the engine and the linker (the contract's host interface plus
    /// WASI with nothing granted).
    pub fn new(settings: RuntimeSettings) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        if settings.pooling {
            let mut pool = PoolingAllocationConfig::default();
            let slots = u32::try_from(settings.max_concurrent_calls.max(1) * 2)?;
            pool.total_component_instances(slots)
                .total_core_instances(slots * 8)
                .total_memories(slots * 2)
                .total_tables(slots * 8)
                .max_memory_size(settings.memory_bytes)
                .linear_memory_keep_resident(2 << 20)
                .table_keep_resident(64 << 10);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        Plugin::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(
            &mut linker,
            |state| state,
        )?;
        let ticker = EpochTicker::start(engine.clone());
        Ok(Self {
            permits: Arc::new(Semaphore::new(settings.max_concurrent_calls.max(1))),
            egress: Arc::new(settings.egress.clone()),
            kv: Arc::new(MemoryKv::default()),
            engine,
            linker,
            settings,
            _ticker: ticker,
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &RuntimeSettings {
        &self.settings
    }

    /// Compiles a component, or loads it from the on-disk cache keyed by the
    /// wasm's SHA-256 and the engine's compatibility hash. Slow on a miss:
    /// call it off the async workers.
    pub fn compile(&self, wasm: &[u8]) -> anyhow::Result<Component> {
        let Some(dir) = &self.settings.cache_dir else {
            return Ok(Component::from_binary(&self.engine, wasm)?);
        };
        let mut engine_hash = std::hash::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut engine_hash);
        let key = format!(
            "{}-{:016x}.cwasm",
            hex(&Sha256::digest(wasm)),
            engine_hash.finish()
        );
        let path = dir.join(key);
        if path.exists() {
            // SAFETY: the file was written by `Component::serialize` below into
            // the server's own data folder, under a name that binds it to these
            // exact wasm bytes and this engine's configuration.
            #[expect(unsafe_code, reason = "loading our own compiled artifact")]
            let cached = unsafe { Component::deserialize_file(&self.engine, &path) };
            match cached {
                Ok(component) => return Ok(component),
                Err(err) => {
                    tracing::warn!(path = %path.display(), %err, "ignoring unusable compiled plugin cache");
                }
            }
        }
        let component = Component::from_binary(&self.engine, wasm)?;
        std::fs::create_dir_all(dir)?;
        let tmp = path.with_extension(format!("{}.tmp", uuid::Uuid::now_v7().simple()));
        std::fs::write(&tmp, component.serialize()?)?;
        std::fs::rename(&tmp, &path)?;
        Ok(component)
    }

    /// Links a component against the host once; the result instantiates fast.
    /// Fails unless the component exports the contract and imports nothing
    /// but the host interface and WASI.
    pub fn prepare(&self, component: &Component) -> anyhow::Result<PluginPre<CallState>> {
        let pre = self.linker.instantiate_pre(component)?;
        Ok(PluginPre::new(pre)?)
    }

    /// Runs `work` against a fresh instance of `pre`, on the plugin pool,
    /// within the memory, CPU and wall-clock limits.
    pub async fn call<T, F>(
        &self,
        plugin_id: &str,
        pre: &PluginPre<CallState>,
        declared_hosts: &[String],
        context: CallContext,
        work: F,
    ) -> Result<T, CallError>
    where
        T: Send + 'static,
        F: FnOnce(&Plugin, &mut Store<CallState>) -> wasmtime::Result<T> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| CallError::Host("the plugin pool is closed".into()))?;
        let call = self.prepare_call(
            plugin_id,
            pre,
            declared_hosts,
            context,
            tokio::runtime::Handle::current(),
        );
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            call.run(work).map(|ran| ran.value)
        });
        match tokio::time::timeout(self.settings.call_timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(CallError::Host(format!("the plugin task failed: {join}"))),
            Err(_) => Err(CallError::TimedOut(
                u64::try_from(self.settings.call_timeout.as_millis()).unwrap_or(u64::MAX),
            )),
        }
    }

    /// Everything one call needs, ready to run on any thread. `call` uses
    /// it on the plugin pool; benchmarks run it directly.
    pub fn prepare_call(
        &self,
        plugin_id: &str,
        pre: &PluginPre<CallState>,
        declared_hosts: &[String],
        context: CallContext,
        runtime: tokio::runtime::Handle,
    ) -> PreparedCall {
        let hosts = super::egress::expand_hosts(declared_hosts, &context.config);
        let egress = Egress::new(Arc::clone(&self.egress), hosts, runtime);
        let scope = context
            .channel_id
            .map(|channel| (Arc::clone(&self.kv), format!("{plugin_id}/{channel}")));
        PreparedCall {
            engine: self.engine.clone(),
            pre: pre.clone(),
            state: CallState::new(
                plugin_id,
                self.settings.memory_bytes,
                egress,
                context.credentials,
                scope,
                context.media,
            ),
            ticks: u64::try_from(self.settings.cpu_budget.as_millis() / EPOCH_TICK.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
            cpu_ms: u64::try_from(self.settings.cpu_budget.as_millis()).unwrap_or(u64::MAX),
            memory: self.settings.memory_bytes,
        }
    }
}

/// A call ready to run: instantiate, call, drop.
pub struct PreparedCall {
    engine: Engine,
    pre: PluginPre<CallState>,
    state: CallState,
    ticks: u64,
    cpu_ms: u64,
    memory: usize,
}

impl std::fmt::Debug for PreparedCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedCall").finish_non_exhaustive()
    }
}

/// What a finished call returned, with what it used.
#[derive(Debug)]
pub struct Ran<T> {
    /// The plugin's answer.
    pub value: T,
    /// The largest linear memory the instance reached.
    pub peak_memory_bytes: usize,
}

impl PreparedCall {
    /// Runs `work` in a fresh instance on this thread (blocking). The
    /// instance and its memory are gone when this returns.
    pub fn run<T, F>(self, work: F) -> Result<Ran<T>, CallError>
    where
        F: FnOnce(&Plugin, &mut Store<CallState>) -> wasmtime::Result<T>,
    {
        let mut store = Store::new(&self.engine, self.state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(self.ticks);
        store.epoch_deadline_trap();
        let outcome = self
            .pre
            .instantiate(&mut store)
            .and_then(|plugin| work(&plugin, &mut store));
        match outcome {
            Ok(value) => Ok(Ran {
                value,
                peak_memory_bytes: store.data().limiter.peak_bytes,
            }),
            Err(err) => Err(classify(&err, store.data(), self.cpu_ms, self.memory)),
        }
    }
}

/// Names what ended a call that did not return.
fn classify(err: &wasmtime::Error, state: &CallState, cpu_ms: u64, memory: usize) -> CallError {
    if state.limiter.refused {
        return CallError::OutOfMemory(memory);
    }
    let stderr = state.stderr();
    let trap = err.downcast_ref::<Trap>();
    if trap == Some(&Trap::Interrupt) {
        return CallError::TimedOut(cpu_ms);
    }
    if stderr.contains("panicked") {
        return CallError::Panicked(first_lines(&stderr));
    }
    match trap {
        Some(trap) => CallError::Trapped(trap.to_string()),
        None => CallError::Host(format!("{err:#}")),
    }
}

fn first_lines(text: &str) -> String {
    text.lines()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(500)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a plugin's wasm, hex: the pin of a plugin version.
pub fn sha256_hex(wasm: &[u8]) -> String {
    hex(&Sha256::digest(wasm))
}
