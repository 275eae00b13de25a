//! Invitations: a member invites an email address to a role; the person
//! accepts with the token, signed in or by creating an account.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::accounts::{NewAccount, create_account, hash_password, parse_account};
use crate::auth::principal::MaybePrincipal;
use crate::auth::tokens;
use crate::auth::{Principal, session};
use crate::db::invitations::InvitationRow;
use crate::db::memberships::MembershipRow;
use crate::db::users::{INSTANCE_USER, UserRow};
use crate::db::workspaces::WorkspaceRow;
use crate::db::{self, DbConn};
use crate::domain::email::Email;
use crate::domain::ids::{InvitationId, UserId, WorkspaceId, parse_stored};
use crate::domain::roles::{Permission, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{IdempotencyKey, Json, Page, PageParams, Paginated};
use crate::http::idempotency::{self, Created};
use crate::http::views::{TokenPair, Workspace, stored_role, utc};
use crate::state::AppState;

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Can be accepted.
    Pending,
    /// Someone joined with it.
    Accepted,
    /// Withdrawn.
    Revoked,
    /// Not accepted in time.
    Expired,
}

/// An invitation to a workspace.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    /// Invitation id.
    pub id: InvitationId,
    /// Whom it is for.
    pub email: String,
    /// The role they will hold.
    pub role: Role,
    /// Where it stands.
    pub status: InvitationStatus,
    /// Who invited.
    pub invited_by: UserId,
    /// Until when it can be accepted.
    pub expires_at: DateTime<Utc>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Invitation {
    fn from_row(row: InvitationRow) -> ApiResult<Self> {
        let status = if row.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if row.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if row.expires_at <= db::now() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        };
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            email: row.email,
            role: stored_role(&row.role)?,
            status,
            invited_by: parse_stored(&row.invited_by).map_err(ApiError::internal)?,
            expires_at: utc(row.expires_at),
            created_at: utc(row.created_at),
        })
    }
}

/// A new invitation.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "grace@example.com", "role": "community_manager"}))]
pub struct CreateInvitation {
    /// Whom to invite.
    pub email: String,
    /// The role they will hold.
    pub role: Role,
}

/// A new invitation with its token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInvitation {
    /// The invitation.
    #[serde(flatten)]
    pub invitation: Invitation,
    /// Send this to the invitee; they accept with `POST /v1/invitations/accept`.
    pub token: String,
}

/// Invite someone to the workspace.
///
/// Members with `members:invite` invite any role but owner; inviting an owner
/// takes `members:manage`. The answer carries the token once: deliver it to
/// the invitee (Plaza does not send email yet).
#[utoipa::path(
    tag = "invitations",
    operation_id = "create_invitation",
    request_body = CreateInvitation,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body answer the first response again"),
    ),
    responses(
        (status = 201, description = "Created", body = CreatedInvitation,
         headers(("Location" = String, description = "The invitation"))),
        (status = 400, description = "Malformed JSON or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not invite (or not as owner)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member (`already_member`), or same Idempotency-Key in progress", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workspaces/{workspace_id}/invitations")]
pub async fn create_invitation(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    key: IdempotencyKey,
    body: Json<CreateInvitation>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::MembersInvite)
        .await?;
    let body = body.0;
    if body.role == Role::Owner && !access.can(Permission::MembersManage) {
        return Err(ApiError::forbidden(
            "permission_denied",
            "only owners invite owners",
        ));
    }
    let email = Email::parse(&body.email).map_err(|m| ApiError::invalid_field("email", m))?;
    let path = format!("/v1/workspaces/{}/invitations", access.workspace_id);
    let fingerprint = ("POST", &path, &body);
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let token = tokens::random_token(tokens::INVITATION_PREFIX);
        let ttl = i64::try_from(state.config.invitation_ttl_secs).map_err(ApiError::internal)?;
        let now = db::now();
        let row = InvitationRow {
            id: InvitationId::new().to_string(),
            workspace_id: access.workspace_id.to_string(),
            email: email.as_str().to_owned(),
            role: body.role.as_str().to_owned(),
            token_hash: tokens::digest(&token),
            invited_by: access.user_id.to_string(),
            expires_at: now + chrono::Duration::seconds(ttl),
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
            created_at: now,
        };
        let row = state
            .db
            .write(move |conn| {
                if let Some(user) = UserRow::find_by_email(conn, &row.email)?
                    && MembershipRow::find(conn, &row.workspace_id, &user.id)?.is_some()
                {
                    return Err(ApiError::conflict(
                        "already_member",
                        "this person is already a member of the workspace",
                    ));
                }
                row.insert(conn)?;
                Ok(row)
            })
            .await?;
        let location = format!("{path}/{}", row.id);
        let invitation = Invitation::from_row(row)?;
        Created::new(CreatedInvitation { invitation, token }, location)
    })
    .await
}

/// The workspace's invitations, pending and past.
#[utoipa::path(
    tag = "invitations",
    operation_id = "list_invitations",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), PageParams),
    responses(
        (status = 200, description = "A page of invitations, oldest first", body = Paginated<Invitation>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not invite", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workspaces/{workspace_id}/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Paginated<Invitation>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::MembersInvite)
        .await?;
    let page = Page::from_params(params.into_inner())?;
    let (ws, after, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            InvitationRow::list(conn, &ws, after.as_deref(), fetch).map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), Invitation::from_row)
        .map(web::Json)
}

/// Withdraw a pending invitation.
#[utoipa::path(
    tag = "invitations",
    operation_id = "delete_invitation",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("invitation_id" = InvitationId, Path, description = "Invitation id"),
    ),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not invite", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or invitation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already accepted or withdrawn (`invitation_not_pending`)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/workspaces/{workspace_id}/invitations/{invitation_id}")]
pub async fn delete_invitation(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, InvitationId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, invitation_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::MembersInvite)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), invitation_id.to_string());
    state
        .db
        .write(move |conn| {
            InvitationRow::find(conn, &ws, &id)?.ok_or(ApiError::NotFound("invitation"))?;
            if InvitationRow::revoke(conn, &ws, &id)? == 0 {
                return Err(not_pending());
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn not_pending() -> ApiError {
    ApiError::conflict(
        "invitation_not_pending",
        "the invitation was already accepted or withdrawn",
    )
}

/// Accepting an invitation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "plzi_Qk…", "name": "Grace", "password": "a long passphrase"}))]
pub struct AcceptInvitation {
    /// The invitation token.
    pub token: String,
    /// Display name for a new account (when not signed in).
    pub name: Option<String>,
    /// Password for a new account (when not signed in).
    pub password: Option<String>,
}

/// The workspace joined, and tokens if an account was created.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedInvitation {
    /// The workspace now joined.
    pub workspace: Workspace,
    /// Tokens for the new account; `null` when the caller was signed in.
    pub tokens: Option<TokenPair>,
}

fn invalid_invitation() -> ApiError {
    ApiError::NotFound("invitation")
}

/// Accept an invitation.
///
/// Signed in: the invitation must be for the caller's email; they join the
/// workspace. Not signed in: if no account has the invited email, `name` and
/// `password` create one (and sign it in); if one exists, sign in first.
#[utoipa::path(
    tag = "invitations",
    operation_id = "accept_invitation",
    request_body = AcceptInvitation,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Joined", body = AcceptedInvitation),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "An account with this email exists: sign in first (`login_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The invitation is for another email (`invitation_email_mismatch`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, expired, withdrawn or used token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member (`already_member`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields for a new account", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    principal: MaybePrincipal,
    body: Json<AcceptInvitation>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let signed_in = principal.0.as_ref().map(Principal::user).transpose()?;
    let hash = tokens::digest(&body.token);
    let invitation = state
        .db
        .read(move |conn| InvitationRow::find_by_token_hash(conn, &hash).map_err(ApiError::from))
        .await?
        .filter(|row| {
            row.accepted_at.is_none() && row.revoked_at.is_none() && row.expires_at > db::now()
        })
        .ok_or_else(invalid_invitation)?;

    let new_account = match signed_in {
        Some(_) => None,
        None => {
            let email = invitation.email.clone();
            let exists = state
                .db
                .read(move |conn| UserRow::find_by_email(conn, &email).map_err(ApiError::from))
                .await?
                .is_some();
            if exists {
                return Err(ApiError::unauthorized(
                    "login_required",
                    "an account with this email exists; sign in and accept again",
                ));
            }
            let account = parse_account(
                &invitation.email,
                body.password.unwrap_or_default(),
                body.name.as_deref().unwrap_or_default(),
            )?;
            let hash = hash_password(account.password.clone()).await?;
            Some((account, hash))
        }
    };

    let st = state.get_ref().clone();
    let accepted = state
        .db
        .write(move |conn| join(conn, &st, &invitation, signed_in, new_account))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(accepted))
}

/// Adds the invitee to the workspace, creating their account if needed.
fn join(
    conn: &mut DbConn,
    state: &AppState,
    invitation: &InvitationRow,
    signed_in: Option<UserId>,
    new_account: Option<(NewAccount, String)>,
) -> ApiResult<AcceptedInvitation> {
    let (user_id, tokens) = match (signed_in, new_account) {
        (Some(user_id), _) => {
            let user = UserRow::find(conn, &user_id.to_string())?.ok_or_else(|| {
                ApiError::unauthorized("invalid_token", "the account no longer exists")
            })?;
            if user.email != invitation.email {
                return Err(ApiError::forbidden(
                    "invitation_email_mismatch",
                    "this invitation is for another email address",
                ));
            }
            (user_id, None)
        }
        (None, Some((account, hash))) => {
            let user_id = create_account(conn, &account, hash, INSTANCE_USER)?;
            (user_id, Some(session::start(conn, state, user_id)?))
        }
        (None, None) => return Err(invalid_invitation()),
    };
    if MembershipRow::find(conn, &invitation.workspace_id, &user_id.to_string())?.is_some() {
        return Err(ApiError::conflict(
            "already_member",
            "you are already a member of this workspace",
        ));
    }
    if InvitationRow::mark_accepted(conn, &invitation.id, &user_id.to_string())? == 0 {
        return Err(invalid_invitation());
    }
    let now = db::now();
    MembershipRow {
        workspace_id: invitation.workspace_id.clone(),
        user_id: user_id.to_string(),
        role: invitation.role.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    }
    .insert(conn)?;
    let workspace = WorkspaceRow::find(conn, &invitation.workspace_id)?
        .ok_or(ApiError::NotFound("workspace"))?;
    Ok(AcceptedInvitation {
        workspace: Workspace::from_row(workspace, stored_role(&invitation.role)?)?,
        tokens,
    })
}
