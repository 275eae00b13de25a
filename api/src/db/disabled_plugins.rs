//! Which plugins an instance administrator disabled, kept across restarts.

use diesel::prelude::*;

use super::DbConn;
use super::schema::disabled_plugins;

/// Every disabled plugin id.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    disabled_plugins::table
        .select(disabled_plugins::plugin_id)
        .order(disabled_plugins::plugin_id.asc())
        .load(conn)
}

/// Records a plugin as disabled (again is fine).
pub fn disable(conn: &mut DbConn, plugin_id: &str, by: &str) -> QueryResult<()> {
    let exists = disabled_plugins::table
        .find(plugin_id)
        .select(disabled_plugins::plugin_id)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if !exists {
        diesel::insert_into(disabled_plugins::table)
            .values((
                disabled_plugins::plugin_id.eq(plugin_id),
                disabled_plugins::disabled_by.eq(by),
                disabled_plugins::disabled_at.eq(super::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Forgets that a plugin was disabled.
pub fn enable(conn: &mut DbConn, plugin_id: &str) -> QueryResult<usize> {
    diesel::delete(disabled_plugins::table.find(plugin_id)).execute(conn)
}
