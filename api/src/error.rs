//! One error type for the whole API, rendered as RFC 9457 problem details.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbError;
use crate::domain::Violation;
use crate::plugins::{CallError, PluginFault};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details body, as every error answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:plaza:problem:validation_failed",
    "title": "The request has invalid fields",
    "status": 422,
    "detail": "2 fields are invalid",
    "code": "validation_failed",
    "errors": [{"field": "email", "message": "must contain an @"}]
}))]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:plaza:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for a person to read.
    pub detail: String,
    /// A stable machine-readable code; branch on this, not on `title`.
    pub code: String,
    /// For validation errors: each invalid field and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's path in the request body (`email`, `members[2].role`).
    pub field: String,
    /// Why it was refused.
    pub message: String,
}

impl FieldError {
    /// A field error from a field name and a message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<Violation> for FieldError {
    fn from(violation: Violation) -> Self {
        Self::new(violation.field, violation.message)
    }
}

/// Every way an API call can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One or more fields of the request are invalid (422).
    #[error("{} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    /// The request is malformed in a way that is not about one field (400).
    #[error("{detail}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// No valid credentials (401).
    #[error("{detail}")]
    Unauthorized {
        /// Stable code.
        code: &'static str,
        /// What was wrong.
        detail: &'static str,
    },
    /// Authenticated but not allowed (403).
    #[error("{detail}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// What was refused.
        detail: String,
    },
    /// The resource does not exist, or is not visible to the caller (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No route serves this method and path (404).
    #[error("no operation is served at this method and path; see /openapi.json")]
    NoRoute,
    /// The request conflicts with the current state (409).
    #[error("{detail}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// What conflicts.
        detail: String,
    },
    /// `If-Match` named a version that is no longer current (412).
    #[error("the resource has changed since it was read")]
    PreconditionFailed,
    /// The body is larger than allowed (413).
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not JSON (415).
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// The body is not in the format this operation takes, named here (415).
    #[error("the request body must be {0}")]
    UnsupportedBodyFormat(&'static str),
    /// The request is well-formed but what it carries cannot be accepted,
    /// for a reason that is not one field's (422).
    #[error("{detail}")]
    Unprocessable {
        /// Stable code.
        code: &'static str,
        /// What was refused and why.
        detail: String,
    },
    /// The same `Idempotency-Key` came with a different request (422).
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    /// A platform plugin call failed (422, 502, 503 or 504; see [`ApiError::platform`]).
    #[error("{detail}")]
    Platform {
        /// HTTP status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// What happened, without secrets.
        detail: String,
        /// Seconds to wait, when the platform said.
        retry_after: Option<u32>,
    },
    /// Something on our side failed; details are logged, not shown (500).
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
    /// A dependency (the database) is unavailable (503).
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
}

impl ApiError {
    /// A 422 for a single field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// A 422 listing each rule the input broke.
    pub fn violations(violations: Vec<Violation>) -> Self {
        Self::Validation(violations.into_iter().map(FieldError::from).collect())
    }

    /// A 400 with a code and a detail.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    /// A 403 with a code and a detail.
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            detail: detail.into(),
        }
    }

    /// A 409 with a code and a detail.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// A 422 about the content of a request, with a code and a detail.
    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unprocessable {
            code,
            detail: detail.into(),
        }
    }

    /// A 401: the caller is not (or no longer) signed in.
    pub fn unauthorized(code: &'static str, detail: &'static str) -> Self {
        Self::Unauthorized { code, detail }
    }

    /// Wraps an unexpected failure; the message is logged, never sent.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::Platform { code, .. }
            | Self::Unprocessable { code, .. } => code,
            Self::NotFound(_) => "not_found",
            Self::NoRoute => "route_not_found",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType | Self::UnsupportedBodyFormat(_) => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::Internal(_) => "internal_error",
            Self::Unavailable(_) => "service_unavailable",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Validation(_) => "The request has invalid fields",
            Self::BadRequest { .. } => "The request is malformed",
            Self::Unauthorized { .. } => "Authentication is required",
            Self::Forbidden { .. } => "Not allowed",
            Self::NotFound(_) | Self::NoRoute => "Not found",
            Self::Conflict { .. } => "Conflict with the current state",
            Self::PreconditionFailed => "Precondition failed",
            Self::PayloadTooLarge { .. } => "Request body too large",
            Self::UnsupportedMediaType | Self::UnsupportedBodyFormat(_) => "Unsupported media type",
            Self::Unprocessable { .. } => "The content cannot be accepted",
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::Platform { .. } => "The platform or its plugin failed",
            Self::Internal(_) => "Internal server error",
            Self::Unavailable(_) => "Service unavailable",
        }
    }

    /// The problem body this error answers with.
    pub fn problem(&self) -> Problem {
        let detail = match self {
            Self::Validation(errors) if errors.len() == 1 => "1 field is invalid".to_owned(),
            Self::Validation(errors) => format!("{} fields are invalid", errors.len()),
            Self::Internal(_) => "something went wrong on our side; it has been logged".to_owned(),
            Self::Unavailable(_) => "a dependency is unavailable; try again shortly".to_owned(),
            other => other.to_string(),
        };
        Problem {
            kind: format!("urn:plaza:problem:{}", self.code()),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail,
            code: self.code().to_owned(),
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::IdempotencyKeyReused | Self::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::NoRoute => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType | Self::UnsupportedBodyFormat(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Self::Platform { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(err) => tracing::error!(error = ?err, "internal error"),
            Self::Unavailable(err) => tracing::warn!(error = %err, "dependency unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if matches!(self, Self::Unauthorized { .. }) {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"plaza\""),
            ));
        }
        if let Self::Platform {
            retry_after: Some(secs),
            ..
        } = self
        {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.json(self.problem())
    }
}

impl ApiError {
    /// The answer for a failed plugin call made on behalf of a request.
    /// The platform refusing the input or the credentials is the caller's
    /// problem (422); the platform being down or rate-limiting is 503 with
    /// `Retry-After` where known; a plugin misbehaving is 502; a plugin that
    /// does not do this is 422.
    pub fn platform(err: &CallError) -> Self {
        let (status, code) = match err {
            CallError::Plugin(PluginFault::Unauthorized(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "credentials_rejected")
            }
            CallError::Plugin(PluginFault::Invalid(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "platform_refused")
            }
            CallError::Plugin(PluginFault::NotFound) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "platform_not_found")
            }
            CallError::Plugin(PluginFault::Unsupported) | CallError::Unsupported(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unsupported_by_platform")
            }
            CallError::Plugin(PluginFault::RateLimited(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "platform_rate_limited")
            }
            CallError::Plugin(PluginFault::Transient(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "platform_unavailable")
            }
            CallError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "plugin_unavailable"),
            CallError::TimedOut(_) => (StatusCode::GATEWAY_TIMEOUT, "plugin_timed_out"),
            CallError::Panicked(_)
            | CallError::Trapped(_)
            | CallError::OutOfMemory(_)
            | CallError::OutputTooLarge(_)
            | CallError::Host(_) => (StatusCode::BAD_GATEWAY, "plugin_failed"),
        };
        let retry_after = match err {
            CallError::Plugin(PluginFault::RateLimited(secs)) => *secs,
            _ => None,
        };
        Self::Platform {
            status,
            code,
            detail: err.to_string(),
            retry_after,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Pool(_) | DbError::Connect(_) | DbError::Cancelled => {
                Self::Unavailable(err.into())
            }
            DbError::Query(err) => Self::Internal(err.into()),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Internal(err.into())
    }
}

/// The result of an API operation.
pub type ApiResult<T> = Result<T, ApiError>;
