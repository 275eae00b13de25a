//! The `plaza` command line: serve, migrate, print the spec, administer.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::auth::KeyRing;
use crate::auth::accounts::{NewAccount, create_account};
use crate::auth::keys::{KeySource, new_key_spec, prepend_encryption_key};
use crate::config::{Config, SignupPolicy};
use crate::db::users::{INSTANCE_ADMIN, INSTANCE_USER};
use crate::domain::email::Email;
use crate::domain::password::Password;
use crate::domain::text::Name;
use crate::startup::{Application, open_database, redact};
use crate::{auth, telemetry};

/// Plaza: a headless API for community and social media teams.
#[derive(Debug, Parser)]
#[command(name = "plaza", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (migrates the database first). By default the
    /// publisher runs in the same process; `--role api` leaves it to
    /// `plaza worker` processes.
    Serve {
        /// `all` (the API and the publisher) or `api` (the API only).
        #[arg(long, value_enum, default_value_t = ServeRole::All)]
        role: ServeRole,
    },
    /// Run background work only (the publisher), no HTTP. Any number of
    /// workers and API processes may share one PostgreSQL; SQLite is one process.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Administer accounts and keys.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// What a `plaza serve` process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServeRole {
    /// The API and the publisher.
    All,
    /// The API only; `plaza worker` processes publish.
    Api,
}

/// Administration.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account (prints a generated password unless one is piped in).
    CreateUser {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// Display name (defaults to the part of the email before the @).
        #[arg(long)]
        name: Option<String>,
        /// Make the account an instance administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print new signing and encryption keys for PLAZA_SIGNING_KEYS and
    /// PLAZA_ENCRYPTION_KEYS.
    GenerateKeys,
    /// Re-encrypt every stored secret under the active (first) encryption
    /// key. In production, put a new key first in PLAZA_ENCRYPTION_KEYS,
    /// run this, then drop the old key. With the development key file,
    /// `--new-key` adds the new key for you.
    RotateKeys {
        /// Add a new encryption key to the data folder's key file first.
        #[arg(long)]
        new_key: bool,
    },
}

/// The whole `plaza` command: parses the command line, runs it on an actix
/// runtime and answers the exit status, printing the error of a failed
/// command. The `plaza` binary is this function, and so is the test
/// suite's `plaza-under-test`, which fault tests start as real processes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match actix_web::rt::System::new().block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            #[expect(clippy::print_stderr, reason = "the last word of a failed command")]
            {
                eprintln!("plaza: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => {
            let json = crate::openapi::spec_json()?;
            std::io::stdout().write_all(json.as_bytes())?;
            Ok(())
        }
        Command::Admin(AdminCommand::GenerateKeys) => {
            let mut out = std::io::stdout();
            writeln!(out, "PLAZA_SIGNING_KEYS={}", new_key_spec())?;
            writeln!(out, "PLAZA_ENCRYPTION_KEYS={}", new_key_spec())?;
            Ok(())
        }
        Command::Admin(AdminCommand::RotateKeys { new_key }) => {
            rotate_keys(&load_config()?, new_key).await
        }
        Command::Serve { role } => serve(load_config()?, role).await,
        Command::Worker => worker(load_config()?).await,
        Command::Migrate => {
            let config = load_config()?;
            open_database(&config).await?;
            tracing::info!(database = %redact(&config.database_url()), "database is up to date");
            Ok(())
        }
        Command::Admin(AdminCommand::CreateUser {
            email,
            name,
            admin,
            password_stdin,
        }) => create_user(&load_config()?, &email, name, admin, password_stdin).await,
    }
}

fn load_config() -> anyhow::Result<Config> {
    let config = Config::load()?;
    telemetry::init(config.log_format);
    Ok(config)
}

async fn serve(config: Config, role: ServeRole) -> anyhow::Result<()> {
    let (keys, source) = KeyRing::for_config(&config)?;
    match &source {
        KeySource::Generated(path) => tracing::warn!(
            path = %path.display(),
            "generated new signing and encryption keys for development; \
             set PLAZA_SIGNING_KEYS and PLAZA_ENCRYPTION_KEYS in production"
        ),
        KeySource::DataDir(path) => tracing::warn!(
            path = %path.display(),
            "using development keys from the data folder"
        ),
        KeySource::Configured => {}
    }
    let signup = config.signup;
    let database = redact(&config.database_url());
    let app = Application::build(config.clone(), keys).await?;
    stop_on_signal(app.handle())?;
    if role == ServeRole::All {
        crate::worker::start(app.state().clone());
    }
    let url = format!("http://{}:{}", config.listen.ip(), app.port());
    tracing::info!(%url, %database, "plaza is listening");
    let mut out = std::io::stdout();
    writeln!(out, "Plaza is listening on {url}")?;
    writeln!(out, "  API docs:  {url}/docs/")?;
    writeln!(out, "  Database:  {database}")?;
    match signup {
        SignupPolicy::Open => writeln!(
            out,
            "  First account: curl -X POST {url}/v1/auth/signup -H 'content-type: application/json' \
             -d '{{\"email\":\"you@example.com\",\"password\":\"a long passphrase\",\"name\":\"You\"}}'"
        )?,
        SignupPolicy::Closed => writeln!(
            out,
            "  First account: plaza admin create-user --email you@example.com --admin \
             (sign-up is closed; PLAZA_SIGNUP=open opens it)"
        )?,
    }
    out.flush()?;
    app.run_until_stopped().await?;
    tracing::info!("plaza stopped");
    Ok(())
}

/// Stops the server gracefully on SIGTERM or SIGINT. The handlers are in
/// place before the banner is printed, so a signal can never find the
/// process without them.
fn stop_on_signal(handle: actix_web::dev::ServerHandle) -> anyhow::Result<()> {
    let stop = shutdown_signal()?;
    actix_web::rt::spawn(async move {
        stop.await;
        tracing::info!("stopping: letting in-flight requests finish");
        handle.stop(true).await;
    });
    Ok(())
}

/// Runs the publisher without the API until SIGTERM or Ctrl-C.
async fn worker(config: Config) -> anyhow::Result<()> {
    let (keys, _) = KeyRing::for_config(&config)?;
    let db = open_database(&config).await?;
    let plugins =
        crate::plugins::load_registry(&config, crate::plugins::settings_for(&config), &db).await?;
    crate::plugins::apply_saved_states(&db, &plugins).await?;
    let state = crate::state::AppState::new(db, keys, config, plugins);
    crate::worker::start(state);
    // The handlers are in place before the line that tells a supervisor
    // (or a test) the worker runs: a SIGTERM sent right after it stops the
    // worker gracefully instead of killing it.
    let stop = shutdown_signal()?;
    let mut out = std::io::stdout();
    writeln!(
        out,
        "Plaza worker is running (the publisher); SIGTERM stops it"
    )?;
    out.flush()?;
    stop.await;
    tracing::info!("worker stopped");
    Ok(())
}

/// Installs the SIGTERM and SIGINT handlers (Ctrl-C elsewhere) now; the
/// future answers when the first of them arrives.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

async fn rotate_keys(config: &Config, new_key: bool) -> anyhow::Result<()> {
    if new_key {
        match KeyRing::for_config(config)?.1 {
            KeySource::Configured => anyhow::bail!(
                "keys come from PLAZA_ENCRYPTION_KEYS: put a new key first there \
                 (plaza admin generate-keys prints one) and run rotate-keys without --new-key"
            ),
            KeySource::DataDir(_) | KeySource::Generated(_) => {
                prepend_encryption_key(config)?;
            }
        }
    }
    let (keys, _) = KeyRing::for_config(config)?;
    let db = open_database(config).await?;
    let active = keys.active_encryption().kid.clone();
    let done = db
        .write(move |conn| crate::plugins::channels::reseal_all(conn, &keys))
        .await?;
    let mut out = std::io::stdout();
    writeln!(
        out,
        "re-sealed {} channel credential(s), {} pending authorization(s) and {} webhook secret(s) under key {active}",
        done.channels, done.authorizations, done.webhooks
    )?;
    Ok(())
}

async fn create_user(
    config: &Config,
    email: &str,
    name: Option<String>,
    admin: bool,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
    let default_name = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    let name = Name::parse(name.as_deref().unwrap_or(&default_name))
        .map_err(|m| anyhow::anyhow!("--name {m}"))?;
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        (
            Password::parse(line).map_err(|m| anyhow::anyhow!("password {m}"))?,
            false,
        )
    } else {
        let secret = auth::tokens::random_token("pw");
        (
            Password::parse(secret).map_err(|m| anyhow::anyhow!("password {m}"))?,
            true,
        )
    };
    let hash = auth::password::hash(&password)?;
    let db = open_database(config).await?;
    let role = if admin { INSTANCE_ADMIN } else { INSTANCE_USER };
    let account = NewAccount {
        email,
        password,
        name,
    };
    let id = create_account(&mut *db.write_conn()?, &account, hash, role)
        .with_context(|| format!("creating the account {}", account.email))?;
    let (email, password) = (account.email, account.password);
    let mut out = std::io::stdout();
    writeln!(
        out,
        "Created account {id} <{email}>{}",
        if admin { " (instance admin)" } else { "" }
    )?;
    if generated {
        writeln!(out, "Password (shown once): {}", password.expose())?;
    }
    Ok(())
}
