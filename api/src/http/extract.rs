//! Request extractors shared by handlers: a strict JSON body, pagination,
//! `If-Match` and `Idempotency-Key`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// A JSON request body: `application/json`, within the size limit, every
/// field known, every error naming its field.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// Body limit used when the app state is missing (unit tests).
const DEFAULT_LIMIT: usize = 1024 * 1024;

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(DEFAULT_LIMIT, |s| s.config.json_body_limit_bytes);
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            if declared.is_some_and(|len| len > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|err| ApiError::bad_request("unreadable_body", err.to_string()))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(Json)
        })
    }
}

/// Parses a JSON body, turning serde's errors into problem details.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            data_error(&path, &inner.to_string())
        } else {
            ApiError::bad_request("malformed_json", clean(&inner.to_string()))
        }
    })?;
    de.end()
        .map_err(|err| ApiError::bad_request("malformed_json", clean(&err.to_string())))?;
    Ok(value)
}

/// serde's message without its " at line 1 column 5" suffix.
fn clean(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned()
}

/// Names the field a data error is about; unknown and missing fields carry
/// their name in backticks.
fn data_error(path: &str, message: &str) -> ApiError {
    let message = clean(message);
    let parent = if path == "." { "" } else { path };
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    // An unknown field is reported at its own path, a missing one at its parent's.
    let field = match (named, parent) {
        (Some(name), "") => name.to_owned(),
        (Some(_), parent) if message.starts_with("unknown field") => parent.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, "") => "body".to_owned(),
        (None, parent) => parent.to_owned(),
    };
    let message = if message.starts_with("unknown field") {
        "is not a known field".to_owned()
    } else if message.starts_with("missing field") {
        "is required".to_owned()
    } else {
        message
    };
    ApiError::Validation(vec![FieldError::new(field, message)])
}

/// Reads a PATCH field that may be absent, `null` or a value, when `null`
/// means "clear it". Use on an `Option<Option<T>>` field with
/// `#[serde(default, deserialize_with = "present")]`: absent stays `None`
/// (unchanged), `null` is `Some(None)` (cleared), a value is `Some(Some(v))`.
pub fn present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// `?limit=&cursor=` on every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// How many items to return (1–200, default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page; omit for the first page.
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct Page {
    /// Items per page.
    pub limit: u32,
    /// Sort key of the last item seen.
    pub after: Option<String>,
}

/// Items per page unless asked otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Most items a page holds.
pub const MAX_PAGE_SIZE: u32 = 200;

impl Page {
    /// Checks the limit and decodes the cursor.
    pub fn from_params(params: PageParams) -> Result<Self, ApiError> {
        let limit = params.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ApiError::invalid_field(
                "limit",
                "must be between 1 and 200",
            ));
        }
        let after = params
            .cursor
            .map(|cursor| decode_cursor(&cursor))
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// Rows to fetch: one more than a page, to know whether another follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts fetched rows to a page and makes the cursor to the next one.
    pub fn finish<T, V>(
        &self,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> String,
        view: impl FnMut(T) -> Result<V, ApiError>,
    ) -> Result<Paginated<V>, ApiError> {
        let more = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        let data = rows.into_iter().map(view).collect::<Result<_, _>>()?;
        Ok(Paginated { data, next_cursor })
    }
}

fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{key}"))
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::invalid_field("cursor", "is not a cursor this API returned");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let key = text.strip_prefix("v1:").ok_or_else(invalid)?;
    if key.is_empty() || key.len() > 64 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid());
    }
    Ok(key.to_owned())
}

/// The query of a filtered list: `limit` and `cursor` for the page, every
/// other parameter for the filters `F` (which refuse names they do not know).
#[derive(Debug)]
pub struct ListQuery<F> {
    /// The page asked for.
    pub page: Page,
    /// The filters.
    pub filters: F,
}

impl<F: DeserializeOwned> ListQuery<F> {
    /// Splits and reads a query string.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let bad =
            |err: &dyn std::fmt::Display| ApiError::bad_request("invalid_query", err.to_string());
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query).map_err(|e| bad(&e))?;
        let (paging, filtering): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .partition(|(key, _)| key == "limit" || key == "cursor");
        let encode =
            |pairs: &[(String, String)]| serde_urlencoded::to_string(pairs).map_err(|e| bad(&e));
        let params: PageParams =
            serde_urlencoded::from_str(&encode(&paging)?).map_err(|e| bad(&e))?;
        let filters: F = serde_urlencoded::from_str(&encode(&filtering)?).map_err(|e| bad(&e))?;
        Ok(Self {
            page: Page::from_params(params)?,
            filters,
        })
    }
}

impl<F: DeserializeOwned> FromRequest for ListQuery<F> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::parse(req.query_string()))
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    /// The items, in a stable order.
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The `If-Match` precondition of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: update unconditionally.
    Absent,
    /// `*`: the resource must exist.
    Any,
    /// The update applies only if the current `ETag` is one of these.
    Tags(Vec<String>),
}

impl IfMatch {
    /// Whether the current `ETag` satisfies the precondition.
    pub fn allows(&self, current: &str) -> bool {
        match self {
            IfMatch::Absent | IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|tag| tag == current),
        }
    }

    /// Whether the client asked for a conditional update.
    pub fn is_conditional(&self) -> bool {
        matches!(self, IfMatch::Tags(_))
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(header::IF_MATCH) {
            None => Ok(IfMatch::Absent),
            Some(value) => match value.to_str().map(str::trim) {
                Ok("*") => Ok(IfMatch::Any),
                Ok(list) => Ok(IfMatch::Tags(
                    list.split(',').map(|tag| tag.trim().to_owned()).collect(),
                )),
                Err(_) => Err(ApiError::bad_request(
                    "invalid_if_match",
                    "If-Match must be `*` or a list of ETags",
                )),
            },
        };
        std::future::ready(parsed)
    }
}

/// The strong `ETag` of a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The optional `Idempotency-Key` of a create.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(value) => match value.to_str() {
                Ok(key)
                    if (1..=255).contains(&key.len())
                        && key.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    Ok(IdempotencyKey(Some(key.to_owned())))
                }
                _ => Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1 to 255 visible ASCII characters",
                )),
            },
        };
        std::future::ready(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields exist to be parsed")]
    struct Probe {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields exist to be parsed")]
    struct Inner {
        count: u32,
    }

    #[derive(Debug, Deserialize)]
    struct Patch {
        #[serde(default, deserialize_with = "present")]
        note: Option<Option<String>>,
    }

    #[test]
    fn patch_fields_tell_absent_from_null() {
        let note = |body: &[u8]| parse_json::<Patch>(body).ok().map(|p| p.note);
        assert_eq!(note(b"{}"), Some(None));
        assert_eq!(note(br#"{"note":null}"#), Some(Some(None)));
        assert_eq!(note(br#"{"note":"hi"}"#), Some(Some(Some("hi".to_owned()))));
    }

    fn field_of(err: ApiError) -> Option<String> {
        match err {
            ApiError::Validation(errors) => errors.first().map(|e| e.field.clone()),
            _ => None,
        }
    }

    #[test]
    fn json_errors_name_their_field() {
        let unknown = parse_json::<Probe>(br#"{"name":"a","nmae":"b"}"#).err();
        assert_eq!(unknown.and_then(field_of), Some("nmae".to_owned()));
        let missing = parse_json::<Probe>(br#"{}"#).err();
        assert_eq!(missing.and_then(field_of), Some("name".to_owned()));
        let nested = parse_json::<Probe>(br#"{"name":"a","inner":{"count":"x"}}"#).err();
        assert_eq!(nested.and_then(field_of), Some("inner.count".to_owned()));
        let deep_unknown = parse_json::<Probe>(br#"{"name":"a","inner":{"count":1,"x":2}}"#).err();
        assert_eq!(deep_unknown.and_then(field_of), Some("inner.x".to_owned()));
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for body in [
            &b"{"[..],
            b"not json",
            b"{\"name\":\"a\"} trailing",
            b"\xff\xfe",
        ] {
            let err = parse_json::<Probe>(body).err();
            assert!(
                matches!(
                    err,
                    Some(ApiError::BadRequest {
                        code: "malformed_json",
                        ..
                    })
                ),
                "{body:?}"
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let page = Page::from_params(PageParams {
            limit: None,
            cursor: Some(encode_cursor("0193-abc")),
        });
        assert_eq!(page.ok().and_then(|p| p.after), Some("0193-abc".to_owned()));
        for bad in ["!!", "djE6", &URL_SAFE_NO_PAD.encode("v2:x")] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
        for limit in [0, 201] {
            let page = Page::from_params(PageParams {
                limit: Some(limit),
                cursor: None,
            });
            assert!(page.is_err());
        }
    }

    #[test]
    fn a_page_knows_whether_more_follow() {
        let page = Page {
            limit: 2,
            after: None,
        };
        let full = page.finish(vec![1, 2, 3], ToString::to_string, Ok).ok();
        assert_eq!(full.as_ref().map(|p| p.data.clone()), Some(vec![1, 2]));
        assert!(full.is_some_and(|p| p.next_cursor.is_some()));
        let last = page.finish(vec![1], ToString::to_string, Ok).ok();
        assert!(last.is_some_and(|p| p.next_cursor.is_none()));
    }
}
