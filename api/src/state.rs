//! What every request handler can reach.

use std::sync::Arc;

use crate::activity::Feed;
use crate::auth::KeyRing;
use crate::auth::jwt::TokenSettings;
use crate::config::Config;
use crate::db::Db;
use crate::inbox::InboxEngine;
use crate::media::{LocalStore, MediaStore};
use crate::plugins::PluginRegistry;

/// Shared, read-only server state (the database pool is internally shared).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Signing and encryption keys.
    pub keys: Arc<KeyRing>,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// Issuer, audience and lifetime of access tokens.
    pub tokens: Arc<TokenSettings>,
    /// The loaded platform plugins.
    pub plugins: Arc<PluginRegistry>,
    /// Where media library bytes are stored: `<data_dir>/media/`.
    pub media: Arc<dyn MediaStore>,
    /// Wakes live event streams when a workspace's activity log grows.
    pub feed: Feed,
    /// The inbox's sentiment scorer and compiled rules.
    pub inbox: Arc<InboxEngine>,
}

impl AppState {
    /// Assembles the state from its parts.
    pub fn new(db: Db, keys: KeyRing, config: Config, plugins: PluginRegistry) -> Self {
        let tokens = TokenSettings {
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl_secs: config.access_token_ttl_secs,
        };
        let media = Arc::new(LocalStore::new(config.data_dir.join("media")));
        Self {
            feed: Feed::new(db.clone()),
            db,
            media,
            keys: Arc::new(keys),
            config: Arc::new(config),
            tokens: Arc::new(tokens),
            plugins: Arc::new(plugins),
            inbox: Arc::new(InboxEngine::default()),
        }
    }
}
