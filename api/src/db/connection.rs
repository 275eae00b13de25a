use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};

/// A connection to whichever database Plaza runs on.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL, the scale-out engine.
    Postgres(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

impl std::fmt::Debug for DbConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Postgres(_) => "DbConn::Postgres",
            Self::Sqlite(_) => "DbConn::Sqlite",
        })
    }
}

/// Which database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// Anything else is a SQLite file path (or `sqlite://path`).
    Sqlite,
}

impl Backend {
    /// The backend a database URL selects.
    pub fn of_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }
}

/// What can go wrong when talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had from the pool in time.
    #[error("database connection unavailable: {0}")]
    Pool(#[from] r2d2::PoolError),
    /// A connection of its own could not be opened.
    #[error("database connection failed: {0}")]
    Connect(#[from] r2d2::Error),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// The blocking thread pool is gone (the server is shutting down).
    #[error("database task was cancelled")]
    Cancelled,
}

/// Opens connections for the pools, choosing the backend from the URL
/// (`DbConn::establish` would let SQLite take a mistyped postgres URL as a
/// file name).
#[derive(Debug)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url).map(DbConn::Postgres),
            Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                SqliteConnection::establish(path).map(DbConn::Sqlite)
            }
        }
        .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// WAL so readers never wait for the writer, foreign keys enforced, and a busy
/// timeout for the odd second process (`plaza admin`) writing at once.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        if let DbConn::Sqlite(conn) = conn {
            conn.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

type DbPool = Pool<ConnectionManager>;

/// A connection checked out of a pool.
pub type PooledConn = PooledConnection<ConnectionManager>;

/// The database handle shared by the whole server.
///
/// On SQLite writes go through a pool of one connection: SQLite allows one
/// writer at a time anyway, and a single writer never meets the "database is
/// locked" error that two deferred transactions upgrading at once would get.
/// Reads use their own pool and, thanks to WAL, never wait for the writer.
/// All work runs on actix's blocking pool, never on an HTTP worker thread.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    url: std::sync::Arc<str>,
    reads: DbPool,
    writes: DbPool,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    /// Connects to `url` with at most `pool_size` connections.
    pub fn connect(url: &str, pool_size: u32) -> Result<Self, DbError> {
        let backend = Backend::of_url(url);
        let pool = |size: u32| {
            Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                .connection_timeout(Duration::from_secs(10))
                .connection_customizer(Box::new(SqlitePragmas))
                .build(ConnectionManager {
                    url: url.to_owned(),
                    backend,
                })
        };
        let (reads, writes) = match backend {
            Backend::Postgres => {
                let shared = pool(pool_size.max(2))?;
                (shared.clone(), shared)
            }
            Backend::Sqlite => (pool(pool_size.max(1))?, pool(1)?),
        };
        Ok(Self {
            backend,
            url: url.into(),
            reads,
            writes,
        })
    }

    /// A connection of its own, outside the pools, for work that holds one
    /// for good (listening for PostgreSQL notifications).
    pub fn dedicated_conn(&self) -> Result<DbConn, DbError> {
        let manager = ConnectionManager {
            url: self.url.to_string(),
            backend: self.backend,
        };
        Ok(r2d2::ManageConnection::connect(&manager)?)
    }

    /// Which engine this database runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs read-only work on a pooled connection, off the async workers.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.reads.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            work(&mut conn)
        })
        .await
        .map_err(|_| E::from(DbError::Cancelled))?
    }

    /// Runs work that writes inside one transaction: committed when `work`
    /// returns `Ok`, rolled back when it returns `Err`.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        let pool = self.writes.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            let conn: &mut DbConn = &mut conn;
            conn.transaction(work)
        })
        .await
        .map_err(|_| E::from(DbError::Cancelled))?
    }

    /// A reading connection for synchronous callers (plugin host imports).
    pub fn read_conn(&self) -> Result<PooledConn, DbError> {
        Ok(self.reads.get()?)
    }

    /// A writing connection for synchronous callers (migrations, the CLI).
    pub fn write_conn(&self) -> Result<PooledConn, DbError> {
        Ok(self.writes.get()?)
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.read(|conn| {
            conn.batch_execute("SELECT 1")?;
            Ok::<_, DbError>(())
        })
        .await
    }
}
