//! Wiring: database, keys and routes into a running HTTP server.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::KeyRing;
use crate::config::Config;
use crate::db::{Backend, Db};
use crate::openapi::ApiDoc;
use crate::state::AppState;
use crate::{http, telemetry};

/// Opens the database named by the configuration, creating the data folder
/// for the embedded SQLite default, and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let url = config.database_url();
    if Backend::of_url(&url) == Backend::Sqlite {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
    }
    let pool_size = config.database_pool_size;
    let db = tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
        let db = Db::connect(&url, pool_size)
            .with_context(|| format!("cannot open the database at {}", redact(&url)))?;
        let applied = crate::db::run_migrations(&mut *db.write_conn()?)?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        Ok(db)
    })
    .await??;
    Ok(db)
}

/// A database URL with any password replaced, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish()
    }
}

impl Application {
    /// Opens the database, binds the listener and builds the server.
    pub async fn build(config: Config, keys: KeyRing) -> anyhow::Result<Self> {
        let db = open_database(&config).await?;
        let plugins =
            crate::plugins::load_registry(&config, crate::plugins::settings_for(&config), &db)
                .await?;
        let listener = TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        Self::with_listener(AppState::new(db, keys, config, plugins), listener)
    }

    /// Builds the server on an already bound listener and open database.
    pub fn with_listener(state: AppState, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let grace = state.config.shutdown_grace_secs;
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .into_utoipa_app()
                .openapi(ApiDoc::openapi())
                .app_data(data.clone())
                .configure(http::routes)
                .openapi_service(|spec| SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", spec))
                .into_app()
                .configure(http::extractor_config)
                .route("/docs", web::get().to(http::docs_redirect))
                .default_service(web::to(http::route_not_found))
                .wrap(
                    DefaultHeaders::new()
                        .add(("x-content-type-options", "nosniff"))
                        .add(("referrer-policy", "no-referrer")),
                )
                .wrap(from_fn(telemetry::request_id))
        })
        .shutdown_timeout(grace)
        // Signals are the caller's business (see `cli`): a library server in
        // a test process must not react to the process's signals.
        .disable_signals()
        .client_request_timeout(Duration::from_secs(30))
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            state,
        })
    }

    /// The port the server listens on (useful when it bound port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests use its database handle).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through [`Application::handle`]; a graceful stop
    /// gives in-flight requests `shutdown_grace_secs` to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://plaza:s3cret@db:5432/plaza"),
            "postgres://plaza:***@db:5432/plaza"
        );
        assert_eq!(redact("postgres://db/plaza"), "postgres://db/plaza");
        assert_eq!(redact("plaza-data/plaza.db"), "plaza-data/plaza.db");
    }
}
