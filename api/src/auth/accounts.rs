//! Creating accounts: the one path sign-up, invitations and
//! `plaza admin create-user` all take.

use actix_web::web;

use crate::auth::password;
use crate::db::users::UserRow;
use crate::db::{self, is_unique_violation};
use crate::domain::email::Email;
use crate::domain::ids::UserId;
use crate::domain::password::Password;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult, FieldError};

/// New account details, checked.
#[derive(Debug)]
pub struct NewAccount {
    /// Normalised address.
    pub email: Email,
    /// Accepted password.
    pub password: Password,
    /// Display name.
    pub name: Name,
}

/// Checks email, password and name together, naming every bad field.
pub fn parse_account(email: &str, password: String, name: &str) -> ApiResult<NewAccount> {
    let mut errors = Vec::new();
    let email = Email::parse(email).map_err(|m| errors.push(FieldError::new("email", m)));
    let password =
        Password::parse(password).map_err(|m| errors.push(FieldError::new("password", m)));
    let name = Name::parse(name).map_err(|m| errors.push(FieldError::new("name", m)));
    match (email, password, name) {
        (Ok(email), Ok(password), Ok(name)) => Ok(NewAccount {
            email,
            password,
            name,
        }),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Creates an account row (hashing the password off the async workers is
/// the caller's job: this runs inside a database task).
pub fn create_account(
    conn: &mut db::DbConn,
    account: &NewAccount,
    password_hash: String,
    instance_role: &str,
) -> ApiResult<UserId> {
    let id = UserId::new();
    let now = db::now();
    let row = UserRow {
        id: id.to_string(),
        email: account.email.as_str().to_owned(),
        name: account.name.as_str().to_owned(),
        password_hash: Some(password_hash),
        instance_role: instance_role.to_owned(),
        created_at: now,
        updated_at: now,
    };
    match row.insert(conn) {
        Ok(()) => Ok(id),
        Err(err) if is_unique_violation(&err) => Err(ApiError::conflict(
            "email_taken",
            "an account with this email already exists",
        )),
        Err(err) => Err(err.into()),
    }
}

/// Hashes a password on the blocking pool.
pub async fn hash_password(password: Password) -> ApiResult<String> {
    web::block(move || password::hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}
