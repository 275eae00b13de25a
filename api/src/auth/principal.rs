//! The caller of a request, and what they may do in a workspace.
//!
//! `Principal` is an extractor: a handler that takes one is authenticated.
//! Membership and role are read from the database on every workspace call, so
//! removing a member or changing a role takes effect at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::{jwt, tokens};
use crate::db::api_tokens::ApiTokenRow;
use crate::db::memberships::MembershipRow;
use crate::domain::ids::{ApiTokenId, UserId, WorkspaceId, parse_stored};
use crate::domain::roles::{Permission, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A person, with an access token from sign-in.
    User {
        /// The account.
        user_id: UserId,
    },
    /// A script or server, with a workspace API token.
    ApiToken {
        /// The token.
        token_id: ApiTokenId,
        /// The only workspace it works in.
        workspace_id: WorkspaceId,
        /// The member who made it.
        created_by: UserId,
        /// What it was granted.
        permissions: Vec<Permission>,
    },
}

/// Proof that the caller may do one thing in one workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceAccess {
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// The acting account (a token acts as the member who made it).
    pub user_id: UserId,
    /// That account's role.
    pub role: Role,
    /// The permissions in force: the role's, narrowed by a token's grant.
    pub permissions: Vec<Permission>,
}

impl WorkspaceAccess {
    /// Whether the caller also holds `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

fn no_credentials() -> ApiError {
    ApiError::unauthorized(
        "missing_credentials",
        "send `Authorization: Bearer <token>` with an access token or API token",
    )
}

fn invalid_token() -> ApiError {
    ApiError::unauthorized("invalid_token", "the token is invalid, expired or revoked")
}

impl Principal {
    /// A stable key for this caller (idempotency keys are per caller).
    pub fn key(&self) -> String {
        match self {
            Principal::User { user_id } => format!("user:{user_id}"),
            Principal::ApiToken { token_id, .. } => format!("token:{token_id}"),
        }
    }

    /// The account of a person signed in; API tokens are refused with 403.
    pub fn user(&self) -> Result<UserId, ApiError> {
        match self {
            Principal::User { user_id } => Ok(*user_id),
            Principal::ApiToken { .. } => Err(ApiError::forbidden(
                "user_token_required",
                "this operation needs a person's access token, not an API token",
            )),
        }
    }

    /// Checks that the caller may do `permission` in `workspace_id`.
    ///
    /// Not a member (or a token of another workspace): 404, as if the
    /// workspace did not exist. A member without the permission: 403.
    pub async fn access(
        &self,
        state: &AppState,
        workspace_id: WorkspaceId,
        permission: Permission,
    ) -> Result<WorkspaceAccess, ApiError> {
        let (user_id, granted) = match self {
            Principal::User { user_id } => (*user_id, None),
            Principal::ApiToken {
                workspace_id: token_workspace,
                created_by,
                permissions,
                ..
            } => {
                if *token_workspace != workspace_id {
                    return Err(ApiError::NotFound("workspace"));
                }
                (*created_by, Some(permissions.clone()))
            }
        };
        let (ws, uid) = (workspace_id.to_string(), user_id.to_string());
        let membership = state
            .db
            .read(move |conn| MembershipRow::find(conn, &ws, &uid).map_err(ApiError::from))
            .await?
            .ok_or(ApiError::NotFound("workspace"))?;
        let role = Role::parse(&membership.role).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("stored role {:?}", membership.role))
        })?;
        let permissions: Vec<Permission> = role
            .permissions()
            .into_iter()
            .filter(|p| granted.as_ref().is_none_or(|g| g.contains(p)))
            .collect();
        if !permissions.contains(&permission) {
            let name = serde_json::to_string(&permission).unwrap_or_default();
            let detail = if role.allows(permission) {
                format!("this API token is not granted {name}")
            } else {
                format!("your role ({}) does not allow {name}", role.as_str())
            };
            return Err(ApiError::forbidden("permission_denied", detail));
        }
        Ok(WorkspaceAccess {
            workspace_id,
            user_id,
            role,
            permissions,
        })
    }

    async fn authenticate(state: &AppState, bearer: &str) -> Result<Self, ApiError> {
        if bearer.starts_with(tokens::API_TOKEN_PREFIX) {
            return Self::from_api_token(state, bearer).await;
        }
        let user_id = jwt::verify(&state.keys, &state.tokens, bearer).map_err(|err| {
            tracing::debug!(reason = %err, "access token refused");
            invalid_token()
        })?;
        Ok(Principal::User { user_id })
    }

    async fn from_api_token(state: &AppState, bearer: &str) -> Result<Self, ApiError> {
        let hash = tokens::digest(bearer);
        let now = crate::db::now();
        let row = state
            .db
            .read(move |conn| ApiTokenRow::find_live_by_hash(conn, &hash).map_err(ApiError::from))
            .await?
            .ok_or_else(invalid_token)?;
        if row.expires_at.is_some_and(|at| at <= now) {
            return Err(invalid_token());
        }
        let permissions: Vec<Permission> =
            serde_json::from_str(&row.permissions).map_err(ApiError::internal)?;
        let principal = Principal::ApiToken {
            token_id: parse_stored(&row.id).map_err(ApiError::internal)?,
            workspace_id: parse_stored(&row.workspace_id).map_err(ApiError::internal)?,
            created_by: parse_stored(&row.created_by).map_err(ApiError::internal)?,
            permissions,
        };
        if row
            .last_used_at
            .is_none_or(|at| at < now - chrono::Duration::minutes(1))
        {
            let id = row.id;
            state
                .db
                .write(move |conn| ApiTokenRow::touch(conn, &id, now).map_err(ApiError::from))
                .await?;
        }
        Ok(principal)
    }
}

/// The bearer credential of a request, if it has one.
pub fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| invalid_token())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(invalid_token)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(invalid_token());
    }
    Ok(Some(token.trim().to_owned()))
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            let token = bearer?.ok_or_else(no_credentials)?;
            Principal::authenticate(&state, &token).await
        })
    }
}

/// A caller that may or may not be signed in (accepting an invitation).
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequest for MaybePrincipal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let present = req.headers().contains_key(header::AUTHORIZATION);
        let inner = Principal::from_request(req, payload);
        Box::pin(async move {
            if present {
                inner.await.map(|p| MaybePrincipal(Some(p)))
            } else {
                Ok(MaybePrincipal(None))
            }
        })
    }
}
