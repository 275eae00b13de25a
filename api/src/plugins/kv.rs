//! The small key-value store each (plugin, channel) pair gets.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::db::{Db, plugin_kv};

/// Most keys one scope may hold.
pub const MAX_KEYS: usize = 1_000;
/// Largest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Storage behind the `kv-*` imports; `scope` is `<plugin>/<channel>`.
pub trait KvStore: Send + Sync {
    /// A value, if set.
    fn get(&self, scope: &str, key: &str) -> Option<Vec<u8>>;
    /// Sets a value (silently refused past the size limits).
    fn set(&self, scope: &str, key: &str, value: Vec<u8>);
    /// Removes a value.
    fn delete(&self, scope: &str, key: &str);
}

/// A process-local store, for tests and benchmarks that run plugins without
/// a database. The server uses [`DbKv`].
#[derive(Debug, Default)]
pub struct MemoryKv {
    scopes: Mutex<HashMap<String, HashMap<String, Vec<u8>>>>,
}

impl KvStore for MemoryKv {
    fn get(&self, scope: &str, key: &str) -> Option<Vec<u8>> {
        let scopes = self.scopes.lock().ok()?;
        scopes.get(scope)?.get(key).cloned()
    }

    fn set(&self, scope: &str, key: &str, value: Vec<u8>) {
        if value.len() > MAX_VALUE_BYTES || key.len() > 256 {
            return;
        }
        if let Ok(mut scopes) = self.scopes.lock() {
            let entries = scopes.entry(scope.to_owned()).or_default();
            if entries.len() < MAX_KEYS || entries.contains_key(key) {
                entries.insert(key.to_owned(), value);
            }
        }
    }

    fn delete(&self, scope: &str, key: &str) {
        if let Ok(mut scopes) = self.scopes.lock()
            && let Some(entries) = scopes.get_mut(scope)
        {
            entries.remove(key);
        }
    }
}

/// The store the server uses: a table, so values survive restarts and every
/// replica sees the same ones. Calls block on the pool: the host imports run
/// on the plugin call threads, never on the async workers.
#[derive(Debug, Clone)]
pub struct DbKv {
    db: Db,
}

impl DbKv {
    /// A store in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl KvStore for DbKv {
    fn get(&self, scope: &str, key: &str) -> Option<Vec<u8>> {
        let mut conn = self.db.read_conn().ok()?;
        let value = plugin_kv::get(&mut conn, scope, key)
            .map_err(|err| tracing::warn!(%err, scope, "plugin store read failed"))
            .ok()??;
        STANDARD.decode(value).ok()
    }

    fn set(&self, scope: &str, key: &str, value: Vec<u8>) {
        if value.len() > MAX_VALUE_BYTES || key.len() > 256 {
            return;
        }
        let encoded = STANDARD.encode(value);
        let stored = self
            .db
            .write_conn()
            .map_err(|err| err.to_string())
            .and_then(|mut conn| {
                let max = i64::try_from(MAX_KEYS).unwrap_or(i64::MAX);
                match plugin_kv::set(&mut conn, scope, key, &encoded, max) {
                    // Two calls raced to insert the same key: the other one won; write over it.
                    Err(err) if crate::db::is_unique_violation(&err) => {
                        plugin_kv::set(&mut conn, scope, key, &encoded, max)
                    }
                    other => other,
                }
                .map_err(|err| err.to_string())
            });
        match stored {
            Ok(true) => {}
            Ok(false) => tracing::warn!(scope, "plugin store is full; value not kept"),
            Err(err) => tracing::warn!(%err, scope, "plugin store write failed"),
        }
    }

    fn delete(&self, scope: &str, key: &str) {
        let deleted = self
            .db
            .write_conn()
            .map_err(|err| err.to_string())
            .and_then(|mut conn| {
                plugin_kv::delete(&mut conn, scope, key).map_err(|e| e.to_string())
            });
        if let Err(err) = deleted {
            tracing::warn!(%err, scope, "plugin store delete failed");
        }
    }
}
