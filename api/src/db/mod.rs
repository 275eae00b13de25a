//! Storage: one connection type over SQLite and PostgreSQL, a pool, and the
//! queries each table needs.

/// Runs one diesel statement on whichever engine `conn` is, for what the
/// two-engine connection cannot express: multi-row inserts and RETURNING a
/// whole row, which diesel builds for each engine separately.
macro_rules! on_engine {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Inserts `rows` into `table`: on PostgreSQL with one binary COPY, on
/// SQLite a thousand rows to a statement (tables of up to 32 columns stay
/// under its parameter limit).
macro_rules! insert_in_chunks {
    ($conn:expr, $table:expr, $rows:expr) => {{
        match $conn {
            $crate::db::DbConn::Postgres(c) => {
                if !$rows.is_empty() {
                    diesel::copy_from($table)
                        .from_insertable($rows)
                        .execute(c)?;
                }
            }
            $crate::db::DbConn::Sqlite(c) => {
                for chunk in $rows.chunks(1000) {
                    diesel::insert_into($table).values(chunk).execute(c)?;
                }
            }
        }
        Ok(())
    }};
}

pub mod activity;
pub mod api_tokens;
pub mod campaigns;
pub mod channels;
pub mod contacts;
pub mod disabled_plugins;
pub mod events;
pub mod idempotency;
pub mod inbox;
pub mod inbox_rules;
pub mod invitations;
pub mod jobs;
pub mod media;
pub mod memberships;
pub mod metrics;
pub mod objectives;
pub mod plugin_kv;
pub mod post_comments;
pub mod posts;
pub mod publish_targets;
pub mod refresh_tokens;
pub mod registrations;
pub mod schema;
pub mod users;
pub mod webhooks;
pub mod workspaces;

mod connection;
mod migrations;

pub use connection::{Backend, Db, DbConn, DbError};
pub use migrations::run_pending as run_migrations;

use chrono::{NaiveDateTime, Utc};

/// The current time as stored in the database: UTC, microsecond precision
/// (PostgreSQL keeps microseconds, so both backends round-trip the same value).
pub fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    chrono::SubsecRound::trunc_subsecs(now, 6)
}

/// Whether a diesel error is a unique-constraint violation.
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
