//! A fresh database per test.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// `TEST_DATABASE_URL` when it names a PostgreSQL server.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
}

/// A database that exists for one test.
#[derive(Debug)]
pub enum TestDatabase {
    /// A SQLite file inside the test's temporary folder.
    Sqlite(String),
    /// A PostgreSQL database created for this test.
    Postgres {
        /// The server URL the database was created through.
        admin_url: String,
        /// The database's name.
        name: String,
        /// Its URL.
        url: String,
    },
}

impl TestDatabase {
    /// Creates a fresh, empty database.
    pub fn create(dir: &Path) -> Self {
        Self::create_on(postgres_url(), dir)
    }

    /// Creates a fresh, empty database on the PostgreSQL server `admin_url`
    /// names, or a SQLite file in `dir` when there is none.
    pub fn create_on(admin_url: Option<String>, dir: &Path) -> Self {
        match admin_url {
            None => Self::Sqlite(dir.join("plaza.db").to_string_lossy().into_owned()),
            Some(admin_url) => {
                let name = format!("plaza_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|err| {
                    panic!(
                        "{} does not answer: {err}",
                        plaza_api::startup::redact(&admin_url)
                    )
                });
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let url = with_database(&admin_url, &name);
                Self::Postgres {
                    admin_url,
                    name,
                    url,
                }
            }
        }
    }

    /// The URL to give Plaza.
    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite(url) | Self::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The same server URL naming another database.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}
