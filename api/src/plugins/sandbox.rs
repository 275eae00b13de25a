//! What one plugin call may touch: its store's data. Built fresh for every
//! call and dropped with the instance, so nothing leaks between calls,
//! channels or workspaces.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{HttpError, HttpRequest, HttpResponse, Level, plaza};
use super::egress::Egress;
use super::kv::KvStore;
use super::media::AttachedMedia;

/// How much a plugin may print to stderr (a panic message) before it traps.
const STDERR_CAPACITY: usize = 16 * 1024;

/// Memory and table limits that remember when they refused, so an
/// out-of-memory trap can be told apart from any other trap.
#[derive(Debug)]
pub struct Limiter {
    memory_bytes: usize,
    /// Set when a memory or table growth was refused.
    pub refused: bool,
    /// The largest linear memory the call reached, in bytes.
    pub peak_bytes: usize,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.memory_bytes;
        self.refused |= !allowed;
        if allowed {
            self.peak_bytes = self.peak_bytes.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= 100_000;
        self.refused |= !allowed;
        Ok(allowed)
    }
}

/// The store data of one call.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory limits in force.
    pub limiter: Limiter,
    egress: Egress,
    credentials: HashMap<String, String>,
    kv: Option<(Arc<dyn KvStore>, String)>,
    media: Option<AttachedMedia>,
    stderr: MemoryOutputPipe,
    plugin_id: String,
}

impl std::fmt::Debug for CallState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallState")
            .field("plugin_id", &self.plugin_id)
            .finish_non_exhaustive()
    }
}

/// Wall and monotonic clocks frozen at zero: plugins get time from the
/// `now-ms` import only.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }
    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

impl CallState {
    /// The state of a call of `plugin_id` with these credentials and store.
    pub fn new(
        plugin_id: &str,
        memory_bytes: usize,
        egress: Egress,
        credentials: HashMap<String, String>,
        kv: Option<(Arc<dyn KvStore>, String)>,
        media: Option<AttachedMedia>,
    ) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        // No arguments, environment, preopened folders, sockets or clocks:
        // std's WASI imports resolve, but reach nothing.
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_bytes,
                refused: false,
                peak_bytes: 0,
            },
            egress,
            credentials,
            kv,
            media,
            stderr,
            plugin_id: plugin_id.to_owned(),
        }
    }

    /// What the plugin wrote to stderr (its panic message, if it panicked).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }

    /// Replaces credential values in `text` so logs never carry them.
    fn scrub(&self, text: &str) -> String {
        self.credentials
            .values()
            .filter(|secret| secret.len() >= 4)
            .fold(text.to_owned(), |text, secret| {
                text.replace(secret.as_str(), "[redacted]")
            })
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl plaza::plugin::types::Host for CallState {}

impl plaza::plugin::host::Host for CallState {
    fn http_send(&mut self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let method = req.method.clone();
        let url = self.scrub(&req.url);
        let result = self.egress.send(req);
        match &result {
            Ok(response) => {
                tracing::debug!(plugin = %self.plugin_id, %method, %url, status = response.status, "plugin http");
            }
            Err(err) => {
                tracing::info!(plugin = %self.plugin_id, %method, %url, error = ?err, "plugin http refused or failed");
            }
        }
        result
    }

    fn log(&mut self, level: Level, message: String) {
        let message = self.scrub(&message);
        let plugin = self.plugin_id.as_str();
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }

    fn now_ms(&mut self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    fn credential(&mut self, name: String) -> Option<String> {
        self.credentials.get(&name).cloned()
    }

    fn kv_get(&mut self, key: String) -> Option<Vec<u8>> {
        let (store, scope) = self.kv.as_ref()?;
        store.get(scope, &key)
    }

    fn kv_set(&mut self, key: String, value: Vec<u8>) {
        if let Some((store, scope)) = &self.kv {
            store.set(scope, &key, value);
        }
    }

    fn kv_delete(&mut self, key: String) {
        if let Some((store, scope)) = &self.kv {
            store.delete(scope, &key);
        }
    }

    fn media_read(&mut self, id: String, offset: u64, len: u32) -> Result<Vec<u8>, String> {
        match &self.media {
            Some(media) => media.read(&id, offset, len),
            None => Err("no media is attached to this call".to_owned()),
        }
    }
}
