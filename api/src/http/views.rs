//! Response bodies shared by several operations.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::users::UserRow;
use crate::db::workspaces::WorkspaceRow;
use crate::domain::ids::{UserId, WorkspaceId, parse_stored};
use crate::domain::roles::Role;
use crate::domain::settings::ApprovalPolicy;
use crate::error::{ApiError, ApiResult};

/// A stored UTC time as an RFC 3339 timestamp.
pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&at)
}

/// A stored role, or an internal error if the database holds nonsense.
pub fn stored_role(raw: &str) -> ApiResult<Role> {
    Role::parse(raw).ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored role {raw:?}")))
}

/// Tokens answered by sign-up, login, refresh and invitation acceptance.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCJ9…",
    "refresh_token": "plzr_3q2+7w…",
    "token_type": "Bearer",
    "expires_in": 900
}))]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer`, valid `expires_in` seconds.
    pub access_token: String,
    /// An opaque token for `POST /v1/auth/refresh`; single use.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// An account.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    /// Account id.
    pub id: UserId,
    /// Email address (lower-cased).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Whether this account administers the Plaza instance.
    pub instance_admin: bool,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// The view of a stored account.
    pub fn from_row(row: UserRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            instance_admin: row.instance_role == crate::db::users::INSTANCE_ADMIN,
            email: row.email,
            name: row.name,
            created_at: utc(row.created_at),
        })
    }
}

/// A workspace, as seen by one of its members.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f",
    "name": "Acme Coffee",
    "role": "owner",
    "created_at": "2026-11-23T10:00:00Z",
    "updated_at": "2026-11-23T10:00:00Z"
}))]
pub struct Workspace {
    /// Workspace id.
    pub id: WorkspaceId,
    /// Display name.
    pub name: String,
    /// The caller's role here.
    pub role: Role,
    /// IANA time zone of the calendar and posting slots.
    pub time_zone: String,
    /// Who needs approval before posts can be scheduled.
    pub approval_policy: ApprovalPolicy,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Workspace {
    /// The view of a stored workspace for a member holding `role`.
    pub fn from_row(row: WorkspaceRow, role: Role) -> ApiResult<Self> {
        let approval_policy = row.approval_policy().map_err(ApiError::internal)?;
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            name: row.name,
            role,
            approval_policy,
            time_zone: row.time_zone,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}
