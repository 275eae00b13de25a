//! `Idempotency-Key` on creates: the same key with the same request answers
//! the first response again; with another request, 422.

use std::collections::BTreeMap;
use std::future::Future;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::idempotency::IdempotencyRow;
use crate::db::{self, is_unique_violation};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::IdempotencyKey;
use crate::state::AppState;

/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;
/// A request still unfinished after this long is taken to have died.
const ABANDONED_AFTER_SECS: i64 = 60;

/// The response of a successful create, before it is sent.
#[derive(Debug)]
pub struct Created {
    status: StatusCode,
    body: serde_json::Value,
    headers: BTreeMap<String, String>,
}

impl Created {
    /// A `201 Created` with `Location`.
    pub fn new(body: impl Serialize, location: String) -> ApiResult<Self> {
        Self::with_status(StatusCode::CREATED, body).map(|c| c.header(&header::LOCATION, location))
    }

    /// Any success status with a JSON body.
    pub fn with_status(status: StatusCode, body: impl Serialize) -> ApiResult<Self> {
        Ok(Self {
            status,
            body: serde_json::to_value(body).map_err(ApiError::internal)?,
            headers: BTreeMap::new(),
        })
    }

    /// Adds a header to replay with the response.
    pub fn header(mut self, name: &HeaderName, value: String) -> Self {
        self.headers.insert(name.as_str().to_owned(), value);
        self
    }

    fn into_response(self, replayed: bool) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(value),
            ) {
                response.insert_header((name, value));
            }
        }
        if replayed {
            response.insert_header(("idempotent-replayed", "true"));
        }
        response.json(self.body)
    }
}

/// Runs `create` at most once per (caller, key, request).
///
/// `fingerprint` identifies the request (method, path and body); `caller` is
/// [`crate::auth::Principal::key`].
pub async fn once<F, Fut>(
    state: &AppState,
    caller: String,
    key: IdempotencyKey,
    fingerprint: impl Serialize,
    create: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<Created>>,
{
    let Some(key) = key.0 else {
        return Ok(create().await?.into_response(false));
    };
    let request_hash = {
        let bytes = serde_json::to_vec(&fingerprint).map_err(ApiError::internal)?;
        let digest = Sha256::digest(&bytes);
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let claim = IdempotencyRow {
        principal: caller.clone(),
        idempotency_key: key.clone(),
        request_hash,
        status_code: None,
        response_body: None,
        response_headers: None,
        created_at: db::now(),
    };
    if let Some(earlier) = claim_or_replay(state, claim).await? {
        return Ok(earlier.into_response(true));
    }
    match create().await {
        Ok(created) => {
            let status = i32::from(created.status.as_u16());
            let body = created.body.to_string();
            let headers = serde_json::to_string(&created.headers).map_err(ApiError::internal)?;
            let (c, k) = (caller, key);
            state
                .db
                .write(move |conn| {
                    IdempotencyRow::complete(conn, &c, &k, status, &body, &headers)
                        .map_err(ApiError::from)
                })
                .await?;
            Ok(created.into_response(false))
        }
        Err(err) => {
            state
                .db
                .write(move |conn| {
                    IdempotencyRow::release(conn, &caller, &key).map_err(ApiError::from)
                })
                .await?;
            Err(err)
        }
    }
}

/// Claims the key, or answers from what an earlier request with it stored.
async fn claim_or_replay(state: &AppState, claim: IdempotencyRow) -> ApiResult<Option<Created>> {
    state
        .db
        .write(move |conn| {
            let now = claim.created_at;
            IdempotencyRow::purge_before(conn, now - chrono::Duration::hours(RETENTION_HOURS))?;
            let Some(earlier) =
                IdempotencyRow::find(conn, &claim.principal, &claim.idempotency_key)?
            else {
                return match claim.claim(conn) {
                    Ok(()) => Ok(None),
                    Err(err) if is_unique_violation(&err) => Err(in_progress()),
                    Err(err) => Err(err.into()),
                };
            };
            if earlier.request_hash != claim.request_hash {
                return Err(ApiError::IdempotencyKeyReused);
            }
            match (earlier.status_code, earlier.response_body) {
                (Some(status), Some(body)) => {
                    Ok(Some(stored(status, &body, earlier.response_headers)?))
                }
                _ if earlier.created_at < now - chrono::Duration::seconds(ABANDONED_AFTER_SECS) => {
                    IdempotencyRow::release(conn, &claim.principal, &claim.idempotency_key)?;
                    claim.claim(conn)?;
                    Ok(None)
                }
                _ => Err(in_progress()),
            }
        })
        .await
}

fn in_progress() -> ApiError {
    ApiError::conflict(
        "idempotency_key_in_progress",
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
}

/// The response an earlier request stored.
fn stored(status: i32, body: &str, headers: Option<String>) -> ApiResult<Created> {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored status {status}")))?;
    let headers: BTreeMap<String, String> = headers
        .map(|h| serde_json::from_str(&h))
        .transpose()
        .map_err(ApiError::internal)?
        .unwrap_or_default();
    let body: serde_json::Value = serde_json::from_str(body).map_err(ApiError::internal)?;
    Ok(Created {
        status,
        body,
        headers,
    })
}
