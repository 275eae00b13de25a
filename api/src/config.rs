//! Configuration: `PLAZA_*` environment variables over an optional TOML file,
//! read once into [`Config`] and checked before anything starts.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Where Plaza runs: development generates missing keys, production refuses to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A laptop or a test: missing keys are generated into the data folder.
    Development,
    /// A real deployment: keys must be given explicitly.
    Production,
}

/// Who may create an account through `POST /v1/auth/signup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignupPolicy {
    /// Anyone.
    Open,
    /// No one: accounts come from invitations and `plaza admin create-user`.
    Closed,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A secret configuration value: never printed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// All of Plaza's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `development` (default) or `production`.
    pub env: Environment,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Folder for the embedded database and generated keys.
    pub data_dir: PathBuf,
    /// `postgres://…` or a SQLite path; empty means `<data_dir>/plaza.db`.
    pub database_url: Option<String>,
    /// Most connections the pool opens.
    pub database_pool_size: u32,
    /// Whether anyone may sign up.
    pub signup: SignupPolicy,
    /// Lifetime of an access token, in seconds (at most 900).
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh token, in seconds.
    pub refresh_token_ttl_secs: u64,
    /// Lifetime of an invitation, in seconds.
    pub invitation_ttl_secs: u64,
    /// Largest JSON request body accepted, in bytes.
    pub json_body_limit_bytes: usize,
    /// `iss` of issued tokens.
    pub jwt_issuer: String,
    /// `aud` of issued tokens.
    pub jwt_audience: String,
    /// Token signing keys: `kid:base64-pkcs8-ed25519,…`, the first signs.
    pub signing_keys: Option<Secret>,
    /// Encryption keys for secrets at rest: `kid:base64-32-bytes,…`, the first encrypts.
    pub encryption_keys: Option<Secret>,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_grace_secs: u64,
    /// Whether the first-party plugins built into the server are offered.
    pub builtin_plugins: bool,
    /// A folder of plugin `.wasm` files to load at start-up.
    pub plugins_dir: Option<PathBuf>,
    /// Most memory one plugin call may use, in bytes.
    pub plugin_memory_limit_bytes: usize,
    /// CPU time one plugin call may use, in milliseconds.
    pub plugin_cpu_budget_ms: u64,
    /// Wall-clock time one plugin call may take, in seconds.
    pub plugin_call_timeout_secs: u64,
    /// Plugin calls running at once.
    pub plugin_concurrency: usize,
    /// Pre-allocate plugin instances (faster calls, memory reserved up front).
    pub plugin_pooling: bool,
    /// Hosts plugins may reach (patterns: `*`, `example.com`, `*.example.com`),
    /// on top of what each plugin's manifest declares.
    pub plugin_allowed_hosts: Vec<String>,
    /// Hosts plugins may reach over plain http and on private addresses
    /// (for labs and tests; empty in production).
    pub plugin_insecure_hosts: Vec<String>,
    /// Largest plugin upload, in bytes.
    pub plugin_upload_limit_bytes: usize,
    /// Largest media file (any type) accepted into a media library, in bytes.
    pub media_max_bytes: usize,
    /// Largest image accepted into a media library, in bytes (the smaller of
    /// this and `media_max_bytes` applies).
    pub media_image_max_bytes: usize,
    /// Background jobs one process runs at once.
    pub worker_concurrency: usize,
    /// Seconds a worker holds a job without renewing its lease; it renews
    /// every third of that, and a job whose worker died is taken back after it.
    pub job_lease_secs: u64,
    /// Milliseconds an idle worker waits before looking for due jobs again.
    pub worker_poll_ms: u64,
    /// Days the activity log (the live stream's replay window) is kept.
    pub activity_retention_days: u32,
    /// Hosts webhook endpoints may name even though they are on private,
    /// loopback or other reserved addresses, and over plain http (patterns:
    /// `hooks.internal`, `*.corp.example`). Empty: public https only.
    pub webhook_allowed_hosts: Vec<String>,
    /// Seconds a webhook receiver has to answer one delivery attempt.
    pub webhook_timeout_secs: u64,
    /// Hours an endpoint may fail every attempt before it is disabled (it is
    /// disabled when a delivery gives up after that long). `410 Gone`
    /// disables it at once.
    pub webhook_disable_after_hours: u64,
    /// Seconds between two reads of a channel's mentions, comments, messages
    /// and listening queries by the inbox's poller; 0 turns polling off
    /// (webhooks still arrive).
    pub inbox_poll_secs: u64,
    /// Hours a platform webhook's digest is kept to refuse replays.
    pub inbox_webhook_replay_hours: u64,
    /// Seconds between two looks at a channel for metrics that are due
    /// (each post and account is read on its own schedule); 0 turns
    /// collection off.
    pub metrics_collect_secs: u64,
    /// Days every metric sample is kept (roll-ups outlive them).
    pub metrics_sample_retention_days: u32,
    /// Days hourly roll-ups are kept (daily, weekly and monthly ones are
    /// kept for good).
    pub metrics_hourly_retention_days: u32,
    /// For fault tests only: the worker stops dead at this named point
    /// (`publish.before_call`, `publish.after_call`) and prints
    /// `plaza: paused at <point>`, so a test can kill the process there.
    /// Refused in production.
    pub test_pause_at: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            env: Environment::Development,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("plaza-data"),
            database_url: None,
            database_pool_size: 10,
            signup: SignupPolicy::Closed,
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            invitation_ttl_secs: 7 * 24 * 3600,
            json_body_limit_bytes: 1024 * 1024,
            jwt_issuer: "plaza".to_owned(),
            jwt_audience: "plaza-api".to_owned(),
            signing_keys: None,
            encryption_keys: None,
            log_format: LogFormat::Text,
            shutdown_grace_secs: 30,
            builtin_plugins: true,
            plugins_dir: None,
            plugin_memory_limit_bytes: 64 * 1024 * 1024,
            plugin_cpu_budget_ms: 2_000,
            plugin_call_timeout_secs: 30,
            plugin_concurrency: 16,
            plugin_pooling: true,
            plugin_allowed_hosts: vec!["*".to_owned()],
            plugin_insecure_hosts: Vec::new(),
            plugin_upload_limit_bytes: 32 * 1024 * 1024,
            media_max_bytes: 100 * 1024 * 1024,
            media_image_max_bytes: 20 * 1024 * 1024,
            worker_concurrency: 8,
            job_lease_secs: 60,
            worker_poll_ms: 1_000,
            activity_retention_days: 30,
            webhook_allowed_hosts: Vec::new(),
            webhook_timeout_secs: 15,
            webhook_disable_after_hours: 120,
            inbox_poll_secs: 300,
            inbox_webhook_replay_hours: 48,
            metrics_collect_secs: 600,
            metrics_sample_retention_days: 90,
            metrics_hourly_retention_days: 400,
            test_pause_at: None,
        }
    }
}

/// A configuration that cannot be used, with every reason.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or environment could not be parsed.
    #[error("configuration could not be read: {0}")]
    Read(#[from] Box<figment::Error>),
    /// Values parsed but do not make sense together.
    #[error("configuration is invalid:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

impl Config {
    /// Reads defaults, then the TOML file (`PLAZA_CONFIG`, else `plaza.toml`
    /// if present), then `PLAZA_*` variables, then `DATABASE_URL`.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os("PLAZA_CONFIG")
            .map_or_else(|| PathBuf::from("plaza.toml"), PathBuf::from);
        Self::load_from(&file, Env::prefixed("PLAZA_").ignore(&["config"]))
    }

    fn load_from(file: &Path, env: Env) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if file.exists() {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(env);
        if let Ok(url) = std::env::var("DATABASE_URL")
            && std::env::var_os("PLAZA_DATABASE_URL").is_none()
        {
            figment = figment.merge(Serialized::default("database_url", url));
        }
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the values together; lists every problem at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.access_token_ttl_secs == 0 || self.access_token_ttl_secs > 900 {
            problems.push("access_token_ttl_secs must be between 1 and 900 (15 minutes)".into());
        }
        if self.refresh_token_ttl_secs < self.access_token_ttl_secs {
            problems.push("refresh_token_ttl_secs must not be shorter than access tokens".into());
        }
        if self.invitation_ttl_secs == 0 {
            problems.push("invitation_ttl_secs must be positive".into());
        }
        if self.database_pool_size == 0 {
            problems.push("database_pool_size must be at least 1".into());
        }
        if self.json_body_limit_bytes < 1024 {
            problems.push("json_body_limit_bytes must be at least 1024".into());
        }
        if self.jwt_issuer.trim().is_empty() || self.jwt_audience.trim().is_empty() {
            problems.push("jwt_issuer and jwt_audience must not be empty".into());
        }
        if self.plugin_memory_limit_bytes < 1024 * 1024 || self.plugin_memory_limit_bytes > 4 << 30
        {
            problems.push("plugin_memory_limit_bytes must be between 1 MiB and 4 GiB".into());
        }
        if self.plugin_cpu_budget_ms == 0 || self.plugin_call_timeout_secs == 0 {
            problems
                .push("plugin_cpu_budget_ms and plugin_call_timeout_secs must be positive".into());
        }
        if self.plugin_concurrency == 0 || self.plugin_concurrency > 1024 {
            problems.push("plugin_concurrency must be between 1 and 1024".into());
        }
        if self.media_max_bytes < 1024 || self.media_image_max_bytes < 1024 {
            problems.push("media_max_bytes and media_image_max_bytes must be at least 1024".into());
        }
        if self.worker_concurrency == 0 || self.worker_concurrency > 256 {
            problems.push("worker_concurrency must be between 1 and 256".into());
        }
        if self.job_lease_secs < 3 {
            problems.push("job_lease_secs must be at least 3".into());
        }
        if self.worker_poll_ms < 10 || self.worker_poll_ms > 60_000 {
            problems.push("worker_poll_ms must be between 10 and 60000".into());
        }
        if self.activity_retention_days == 0 {
            problems.push("activity_retention_days must be at least 1".into());
        }
        if self.metrics_sample_retention_days == 0 || self.metrics_hourly_retention_days == 0 {
            problems.push("metrics retention days must be at least 1".into());
        }
        if self.webhook_timeout_secs == 0 || self.webhook_timeout_secs > 60 {
            problems.push("webhook_timeout_secs must be between 1 and 60".into());
        }
        if self.env == Environment::Production {
            if self.test_pause_at.is_some() {
                problems.push(
                    "test_pause_at is for fault tests and must be unset in production".into(),
                );
            }
            if !self.plugin_insecure_hosts.is_empty() {
                problems.push("plugin_insecure_hosts must be empty in production".into());
            }
            if self.signing_keys.is_none() {
                problems.push(
                    "PLAZA_SIGNING_KEYS is required in production (make one with `plaza admin generate-keys`)"
                        .into(),
                );
            }
            if self.encryption_keys.is_none() {
                problems.push(
                    "PLAZA_ENCRYPTION_KEYS is required in production (make one with `plaza admin generate-keys`)"
                        .into(),
                );
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// The database URL in force: the configured one, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => self
                .data_dir
                .join("plaza.db")
                .to_string_lossy()
                .into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads from a TOML text and an empty environment.
    fn load(toml: &str) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir().join(format!("plaza-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).map_err(|e| ConfigError::Invalid(vec![e.to_string()]))?;
        let file = dir.join("plaza.toml");
        std::fs::write(&file, toml).map_err(|e| ConfigError::Invalid(vec![e.to_string()]))?;
        Config::load_from(&file, Env::prefixed("PLAZA_UNIT_TEST_UNSET_"))
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let config = Config::default();
        assert!(config.validate().is_ok());
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert!(config.database_url().ends_with("plaza.db"));
        assert_eq!(config.signup, SignupPolicy::Closed);
    }

    #[test]
    fn file_values_override_defaults() {
        let config = load("signup = \"open\"\nlisten = \"127.0.0.1:9999\"\n");
        assert!(config.is_ok_and(|c| c.signup == SignupPolicy::Open && c.listen.port() == 9999));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_key_named() {
        let err = load("sigup = \"open\"\n").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("sigup")));
        let err = load("listen = \"not an address\"\n")
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("listen")));
    }

    #[test]
    fn production_requires_explicit_keys() {
        let err = load("env = \"production\"\n").err().map(|e| e.to_string());
        assert!(err.is_some_and(
            |e| e.contains("PLAZA_SIGNING_KEYS") && e.contains("PLAZA_ENCRYPTION_KEYS")
        ));
    }

    #[test]
    fn media_limits_are_read_and_bounded() {
        let config = load("media_max_bytes = 2048\nmedia_image_max_bytes = 1024\n");
        assert!(config.is_ok_and(|c| c.media_max_bytes == 2048 && c.media_image_max_bytes == 1024));
        let tiny = Config {
            media_image_max_bytes: 10,
            ..Config::default()
        };
        assert!(tiny.validate().is_err());
    }

    #[test]
    fn token_lifetimes_are_bounded() {
        let config = Config {
            access_token_ttl_secs: 3600,
            ..Config::default()
        };
        assert!(config.validate().is_err());
    }
}
