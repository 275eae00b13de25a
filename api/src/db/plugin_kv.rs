//! The plugins' key-value store, one scope per (plugin, channel).

use diesel::prelude::*;

use super::DbConn;
use super::schema::plugin_kv;

/// A value (base64 text).
pub fn get(conn: &mut DbConn, scope: &str, key: &str) -> QueryResult<Option<String>> {
    plugin_kv::table
        .find((scope, key))
        .select(plugin_kv::value)
        .first(conn)
        .optional()
}

/// Sets a value unless the scope already holds `max_keys` other keys;
/// answers whether it was stored.
pub fn set(
    conn: &mut DbConn,
    scope: &str,
    key: &str,
    value: &str,
    max_keys: i64,
) -> QueryResult<bool> {
    let now = super::now();
    let updated = diesel::update(plugin_kv::table.find((scope, key)))
        .set((plugin_kv::value.eq(value), plugin_kv::updated_at.eq(now)))
        .execute(conn)?;
    if updated > 0 {
        return Ok(true);
    }
    let held: i64 = plugin_kv::table
        .filter(plugin_kv::scope.eq(scope))
        .count()
        .get_result(conn)?;
    if held >= max_keys {
        return Ok(false);
    }
    diesel::insert_into(plugin_kv::table)
        .values((
            plugin_kv::scope.eq(scope),
            plugin_kv::key.eq(key),
            plugin_kv::value.eq(value),
            plugin_kv::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Removes a value.
pub fn delete(conn: &mut DbConn, scope: &str, key: &str) -> QueryResult<usize> {
    diesel::delete(plugin_kv::table.find((scope, key))).execute(conn)
}
