//! Sessions: an access token plus a refresh token that rotates on every use.
//!
//! A sign-in starts a refresh-token family. Each refresh marks the presented
//! token used and issues its successor in the same family. Presenting a used
//! token again means it was stolen (or the client is confused): the whole
//! family is revoked, signing out both the thief and the owner.

use chrono::NaiveDateTime;

use crate::auth::{jwt, tokens};
use crate::db::refresh_tokens::RefreshTokenRow;
use crate::db::users::UserRow;
use crate::db::{self, DbConn};
use crate::domain::ids::{RefreshTokenId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::http::views::TokenPair;
use crate::state::AppState;

/// Starts a new session (a new refresh-token family) for `user`.
pub fn start(conn: &mut DbConn, state: &AppState, user: UserId) -> ApiResult<TokenPair> {
    let family = RefreshTokenId::new().to_string();
    issue(conn, state, user, family, db::now())
}

fn issue(
    conn: &mut DbConn,
    state: &AppState,
    user: UserId,
    family_id: String,
    now: NaiveDateTime,
) -> ApiResult<TokenPair> {
    let refresh_token = tokens::random_token(tokens::REFRESH_PREFIX);
    let ttl = i64::try_from(state.config.refresh_token_ttl_secs).map_err(ApiError::internal)?;
    RefreshTokenRow {
        id: RefreshTokenId::new().to_string(),
        user_id: user.to_string(),
        family_id,
        token_hash: tokens::digest(&refresh_token),
        expires_at: now + chrono::Duration::seconds(ttl),
        used_at: None,
        revoked_at: None,
        created_at: now,
    }
    .insert(conn)?;
    let access_token = jwt::issue(&state.keys, &state.tokens, user).map_err(ApiError::internal)?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer".to_owned(),
        expires_in: state.tokens.ttl_secs,
    })
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Refreshed {
    /// A new pair; the presented token is now used.
    Rotated(TokenPair),
    /// The token was already used: its family is now revoked.
    ReuseDetected,
    /// Unknown, expired or revoked.
    Refused,
}

/// Exchanges a refresh token for a new pair.
pub fn refresh(conn: &mut DbConn, state: &AppState, presented: &str) -> ApiResult<Refreshed> {
    let now = db::now();
    let Some(row) = RefreshTokenRow::find_by_hash(conn, &tokens::digest(presented))? else {
        return Ok(Refreshed::Refused);
    };
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Ok(Refreshed::Refused);
    }
    if row.used_at.is_some() || RefreshTokenRow::mark_used(conn, &row.id)? == 0 {
        RefreshTokenRow::revoke_family(conn, &row.family_id)?;
        return Ok(Refreshed::ReuseDetected);
    }
    if UserRow::find(conn, &row.user_id)?.is_none() {
        return Ok(Refreshed::Refused);
    }
    let user = crate::domain::ids::parse_stored(&row.user_id).map_err(ApiError::internal)?;
    issue(conn, state, user, row.family_id, now).map(Refreshed::Rotated)
}

/// Ends the session a refresh token belongs to. Unknown tokens are ignored.
pub fn end(conn: &mut DbConn, presented: &str) -> ApiResult<()> {
    if let Some(row) = RefreshTokenRow::find_by_hash(conn, &tokens::digest(presented))? {
        RefreshTokenRow::revoke_family(conn, &row.family_id)?;
    }
    Ok(())
}
