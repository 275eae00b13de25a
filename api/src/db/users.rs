//! Accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::users;

/// An account as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    /// UUIDv7.
    pub id: String,
    /// Lower-cased address, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// argon2id PHC string; `None` for accounts that cannot sign in with a password.
    pub password_hash: Option<String>,
    /// `admin` for instance administrators, else `user`.
    pub instance_role: String,
    /// When the account was made.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// The instance role of administrators.
pub const INSTANCE_ADMIN: &str = "admin";
/// The instance role of everyone else.
pub const INSTANCE_USER: &str = "user";

impl UserRow {
    /// Inserts a new account.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(users::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// An account by id.
    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        users::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// An account by (normalised) email.
    pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<Self>> {
        users::table
            .filter(users::email.eq(email))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Makes an account an instance administrator (or not).
    pub fn set_instance_role(conn: &mut DbConn, id: &str, role: &str) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((
                users::instance_role.eq(role),
                users::updated_at.eq(super::now()),
            ))
            .execute(conn)
    }
}
