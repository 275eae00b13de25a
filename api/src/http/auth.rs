//! Sign-up, login, token refresh, logout and the public signing keys.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::accounts::{create_account, hash_password, parse_account};
use crate::auth::password;
use crate::auth::session::{self, Refreshed};
use crate::config::SignupPolicy;
use crate::db::users::{INSTANCE_USER, UserRow};
use crate::domain::email::Email;
use crate::domain::ids::{UserId, parse_stored};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::Json;
use crate::http::views::TokenPair;
use crate::state::AppState;

/// A new account.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}))]
pub struct SignupRequest {
    /// Email address; becomes the login.
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    /// Display name, 1–100 characters.
    pub name: String,
}

/// Create an account and sign in.
///
/// Open only when the server runs with `PLAZA_SIGNUP=open`; otherwise
/// accounts come from invitations and `plaza admin create-user`.
#[utoipa::path(
    tag = "auth",
    operation_id = "signup",
    request_body = SignupRequest,
    security(()),
    responses(
        (status = 201, description = "Account created; signed in", body = TokenPair),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sign-up is closed (`signup_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already registered (`email_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/signup")]
pub async fn signup(
    state: web::Data<AppState>,
    body: Json<SignupRequest>,
) -> ApiResult<HttpResponse> {
    if state.config.signup != SignupPolicy::Open {
        return Err(ApiError::forbidden(
            "signup_closed",
            "sign-up is closed on this server; ask for an invitation",
        ));
    }
    let body = body.0;
    let account = parse_account(&body.email, body.password, &body.name)?;
    let hash = hash_password(account.password.clone()).await?;
    let st = state.get_ref().clone();
    let tokens = state
        .db
        .write(move |conn| {
            let user = create_account(conn, &account, hash, INSTANCE_USER)?;
            session::start(conn, &st, user)
        })
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(tokens))
}

/// Email and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// The account's email.
    pub email: String,
    /// Its password.
    pub password: String,
}

fn bad_login() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "email or password is wrong")
}

/// Sign in with email and password.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    request_body = LoginRequest,
    security(()),
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: Json<LoginRequest>,
) -> ApiResult<TokenPairJson> {
    let LoginRequest { email, password } = body.0;
    if password.len() > 4 * crate::domain::password::MAX_CHARS {
        return Err(bad_login());
    }
    let email = Email::parse(&email).map_err(|_| bad_login())?;
    let user = state
        .db
        .read(move |conn| UserRow::find_by_email(conn, email.as_str()).map_err(ApiError::from))
        .await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    // Verify against a decoy when there is no account, so timing says nothing.
    let matches = web::block(move || {
        let hash = stored.as_deref().unwrap_or(password::DECOY_HASH.as_str());
        password::verify(&password, hash) && stored.is_some()
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(bad_login());
    };
    let user_id: UserId = parse_stored(&user.id).map_err(ApiError::internal)?;
    let st = state.get_ref().clone();
    let tokens = state
        .db
        .write(move |conn| session::start(conn, &st, user_id))
        .await?;
    Ok(TokenPairJson(tokens))
}

/// A refresh token to exchange or end.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "plzr_3q2+7w…"}))]
pub struct RefreshRequest {
    /// The refresh token from the last sign-in or refresh.
    pub refresh_token: String,
}

/// Exchange a refresh token for a new access token and refresh token.
///
/// Each refresh token works once. Presenting one that was already used
/// revokes every token descended from the same sign-in.
#[utoipa::path(
    tag = "auth",
    operation_id = "refresh_token",
    request_body = RefreshRequest,
    security(()),
    responses(
        (status = 200, description = "New tokens; the old refresh token is spent", body = TokenPair),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown, expired or revoked (`invalid_refresh_token`), or reused (`refresh_token_reused`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> ApiResult<TokenPairJson> {
    let presented = body.0.refresh_token;
    let st = state.get_ref().clone();
    // Committed even when refused: a detected reuse must stay revoked.
    let outcome = state
        .db
        .write(move |conn| session::refresh(conn, &st, &presented))
        .await?;
    match outcome {
        Refreshed::Rotated(tokens) => Ok(TokenPairJson(tokens)),
        Refreshed::ReuseDetected => {
            tracing::warn!("refresh token reuse detected; family revoked");
            Err(ApiError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; every session from that sign-in is revoked",
            ))
        }
        Refreshed::Refused => Err(ApiError::unauthorized(
            "invalid_refresh_token",
            "the refresh token is unknown, expired or revoked",
        )),
    }
}

/// Sign out: revoke the refresh token and every token of its session.
///
/// Answers 204 whether or not the token was known.
#[utoipa::path(
    tag = "auth",
    operation_id = "logout",
    request_body = RefreshRequest,
    security(()),
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let presented = body.0.refresh_token;
    state
        .db
        .write(move |conn| session::end(conn, &presented))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A JSON Web Key Set.
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwks {
    /// The keys that verify access tokens; the first one signs new tokens.
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// Key id, as in the token header.
    pub kid: String,
    /// Always `EdDSA`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
}

/// The public keys that verify access tokens, for services that check them.
#[utoipa::path(
    tag = "auth",
    operation_id = "get_jwks",
    security(()),
    responses(
        (status = 200, description = "The verification keys", body = Jwks),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/auth/jwks")]
pub async fn jwks(state: web::Data<AppState>) -> web::Json<Jwks> {
    web::Json(Jwks {
        keys: state
            .keys
            .signing_keys()
            .iter()
            .map(|key| Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: key.public_x.clone(),
                kid: key.kid.clone(),
                alg: "EdDSA".into(),
                key_use: "sig".into(),
            })
            .collect(),
    })
}

/// A token pair as a JSON response (no caching: tokens are secrets).
#[derive(Debug)]
pub struct TokenPairJson(pub TokenPair);

impl actix_web::Responder for TokenPairJson {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &actix_web::HttpRequest) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(self.0)
    }
}
