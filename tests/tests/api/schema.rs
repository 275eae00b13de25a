//! The SQLite and PostgreSQL migrations build the same tables and columns.

use std::collections::BTreeSet;

use diesel::connection::SimpleConnection;
use diesel::sql_types::{Bool, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use plaza_api::db::{DbConn, run_migrations};
use plaza_tests::{TempDir, postgres_url};

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

fn sqlite_columns() -> BTreeSet<(String, String, String, bool)> {
    let dir = TempDir::new("plaza-schema");
    let path = dir.0.join("schema.db");
    let mut conn = DbConn::Sqlite(SqliteConnection::establish(path.to_str().unwrap()).unwrap());
    run_migrations(&mut conn).unwrap();
    let DbConn::Sqlite(mut conn) = conn else {
        unreachable!()
    };
    let rows: Vec<Column> = diesel::sql_query(
        // SQLite's only auto-incrementing key is `INTEGER PRIMARY KEY`, a
        // 64-bit rowid: PostgreSQL's `BIGINT` identity column.
        "SELECT m.name AS table_name, p.name AS column_name, \
         CASE WHEN p.pk = 1 AND lower(p.type) = 'integer' THEN 'bigint' ELSE lower(p.type) END AS data_type, \
         (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '__diesel%'",
    )
    .load(&mut conn)
    .unwrap();
    rows.into_iter()
        .map(|c| (c.table_name, c.column_name, c.data_type, c.nullable))
        .collect()
}

fn postgres_columns(admin_url: &str) -> BTreeSet<(String, String, String, bool)> {
    let name = format!("plaza_schema_{}", uuid::Uuid::now_v7().simple());
    let mut admin = PgConnection::establish(admin_url).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let url = plaza_tests_url(admin_url, &name);
    let rows = {
        let mut conn = DbConn::Postgres(PgConnection::establish(&url).unwrap());
        run_migrations(&mut conn).unwrap();
        let DbConn::Postgres(mut conn) = conn else {
            unreachable!()
        };
        let rows: Vec<Column> = diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             CASE data_type WHEN 'timestamp without time zone' THEN 'timestamp' ELSE data_type::text END AS data_type, \
             (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '__diesel%'",
        )
        .load(&mut conn)
        .unwrap();
        rows
    };
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
    rows.into_iter()
        .map(|c| (c.table_name, c.column_name, c.data_type, c.nullable))
        .collect()
}

fn plaza_tests_url(admin_url: &str, name: &str) -> String {
    let base = admin_url.split('?').next().unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

#[test]
fn both_backends_build_the_same_schema() {
    let sqlite = sqlite_columns();
    assert!(
        sqlite
            .iter()
            .any(|(t, c, _, _)| t == "users" && c == "email")
    );
    let Some(url) = postgres_url() else {
        eprintln!(
            "TEST_DATABASE_URL is not set: compared SQLite with itself only; CI compares both"
        );
        return;
    };
    let postgres = postgres_columns(&url);
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "migrations differ\n only in SQLite: {only_sqlite:?}\n only in PostgreSQL: {only_postgres:?}"
    );
}
