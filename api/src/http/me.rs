//! The signed-in account.

use actix_web::{get, web};

use crate::auth::Principal;
use crate::db::users::UserRow;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::views::User;
use crate::state::AppState;

/// The account behind the access token.
#[utoipa::path(
    tag = "me",
    operation_id = "get_me",
    responses(
        (status = 200, description = "The signed-in account", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API token (`user_token_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn get_me(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<User>> {
    let id = principal.user()?.to_string();
    let row = state
        .db
        .read(move |conn| UserRow::find(conn, &id).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "the account no longer exists"))?;
    User::from_row(row).map(web::Json)
}
