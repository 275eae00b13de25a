//! The error responses operations share, declared once for the spec.
//!
//! Every workspace-scoped operation can answer the same handful of problems;
//! listing them by hand on each `#[utoipa::path]` repeated the same ten lines
//! everywhere. An operation names one of these sets in `responses(...)` and
//! adds tuples only for what is particular to it.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};

/// One `application/problem+json` response.
fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "Problem",
                ))))
                .build(),
        )
        .build()
        .into()
}

fn set(entries: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    entries
        .iter()
        .map(|(status, description)| ((*status).to_owned(), problem(description)))
        .collect()
}

const UNAUTHORIZED: (&str, &str) = ("401", "Not signed in, or the token is invalid or expired");
const FORBIDDEN: (&str, &str) = ("403", "The caller's role or token does not allow this");
const NOT_FOUND: (&str, &str) = (
    "404",
    "No such workspace or object, or the caller is not a member",
);
const INTERNAL: (&str, &str) = ("500", "Internal error");

/// Problems of an operation that reads: 400 (bad query), 401, 403, 404, 422
/// (bad limit, cursor or filter), 500.
#[derive(Debug)]
pub struct ReadProblems;

impl IntoResponses for ReadProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[
            ("400", "A query parameter could not be read"),
            UNAUTHORIZED,
            FORBIDDEN,
            NOT_FOUND,
            ("422", "A filter, limit or cursor is invalid"),
            INTERNAL,
        ])
    }
}

/// Problems of an operation that changes something from a JSON body: 400,
/// 401, 403, 404, 409, 413, 415, 422, 500. Updates add 412 themselves.
#[derive(Debug)]
pub struct WriteProblems;

impl IntoResponses for WriteProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[
            ("400", "Malformed JSON or a malformed header"),
            UNAUTHORIZED,
            FORBIDDEN,
            NOT_FOUND,
            (
                "409",
                "Conflicts with the object's state, or the same Idempotency-Key is still in progress",
            ),
            ("413", "Body too large"),
            ("415", "Body is not in a supported format"),
            (
                "422",
                "Invalid fields (each is named), or an Idempotency-Key reused with another body",
            ),
            INTERNAL,
        ])
    }
}

/// Problems of an operation without a body that acts on one object (delete,
/// a state change): 401, 403, 404, 409, 500.
#[derive(Debug)]
pub struct ActionProblems;

impl IntoResponses for ActionProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[
            UNAUTHORIZED,
            FORBIDDEN,
            NOT_FOUND,
            ("409", "Conflicts with the object's current state"),
            INTERNAL,
        ])
    }
}

/// `412 Precondition Failed` for updates that take `If-Match`.
#[derive(Debug)]
pub struct StaleProblem;

impl IntoResponses for StaleProblem {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[(
            "412",
            "If-Match does not match the current ETag: reload and retry",
        )])
    }
}
