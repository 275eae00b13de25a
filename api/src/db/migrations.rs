use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConn;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Applies every embedded migration the database has not seen yet and
/// returns the versions applied.
pub fn run_pending(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Postgres(conn) => {
            // Replicas starting together take turns; the second finds nothing to do.
            conn.batch_execute("SELECT pg_advisory_lock(7310585)")?;
            let applied = conn
                .run_pending_migrations(POSTGRES)
                .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>());
            conn.batch_execute("SELECT pg_advisory_unlock(7310585)")?;
            applied
        }
        DbConn::Sqlite(conn) => conn
            .run_pending_migrations(SQLITE)
            .map(|v| v.iter().map(ToString::to_string).collect()),
    }
    .map_err(|err| anyhow::anyhow!("migration failed: {err}"))?;
    Ok(applied)
}
