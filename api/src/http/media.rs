//! The media library: upload, list, read, describe, delete, download.

use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::body::SizedStream;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::media::MediaRow;
use crate::domain::ids::{MediaId, UserId, WorkspaceId, parse_stored};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{IfMatch, Json, Page, PageParams, Paginated, etag};
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem, WriteProblems};
use crate::http::views::utc;
use crate::media::alt_text::AltText;
use crate::media::intake::{self, FORM_OVERHEAD_BYTES};
use crate::media::library::{self, Saved};
use crate::media::types::{MediaLimits, parse_mime_filter};
use crate::state::AppState;

/// A file in a workspace's media library.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3c2-5d10-7c3e-8f00-4b1d2c3e4f50",
    "mime_type": "image/png",
    "size_bytes": 48213,
    "sha256": "5f2b51ca2fdc5baa31ec02e002f69aec7e4d8e1e9a3b2f6f86f6ac9f0e0b7a3c",
    "alt_text": "A latte with a heart drawn in the foam",
    "original_filename": "latte.png",
    "width": 1080,
    "height": 1080,
    "created_by": "019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f",
    "created_at": "2026-11-24T09:30:00Z",
    "updated_at": "2026-11-24T09:30:00Z",
    "content_url": "/v1/workspaces/019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e80/media/019ab3c2-5d10-7c3e-8f00-4b1d2c3e4f50/content"
}))]
pub struct Media {
    /// Media id.
    pub id: MediaId,
    /// What the bytes are, as recognised from them: `image/png`,
    /// `image/jpeg`, `image/gif`, `image/webp`, `video/mp4`,
    /// `video/quicktime` or `video/webm`.
    pub mime_type: String,
    /// Length of the file in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// What the image or video shows, for people who cannot see it.
    pub alt_text: Option<String>,
    /// The file's name on the uploader's machine, sanitised; informational
    /// only.
    pub original_filename: Option<String>,
    /// Width in pixels (images only).
    pub width: Option<u32>,
    /// Height in pixels (images only).
    pub height: Option<u32>,
    /// The member who uploaded it; `null` once that account is gone.
    pub created_by: Option<UserId>,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
    /// Last change to its description.
    pub updated_at: DateTime<Utc>,
    /// Where to download the bytes (same authentication).
    pub content_url: String,
}

fn item_path(workspace_id: &str, media_id: &str) -> String {
    format!("/v1/workspaces/{workspace_id}/media/{media_id}")
}

impl Media {
    fn from_row(row: MediaRow) -> ApiResult<Self> {
        let content_url = format!("{}/content", item_path(&row.workspace_id, &row.id));
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            size_bytes: u64::try_from(row.size_bytes).map_err(ApiError::internal)?,
            mime_type: row.mime_type,
            sha256: row.sha256,
            alt_text: row.alt_text,
            original_filename: row.original_filename,
            width: row.width.and_then(|w| u32::try_from(w).ok()),
            height: row.height.and_then(|h| u32::try_from(h).ok()),
            created_by: row
                .created_by
                .as_deref()
                .map(parse_stored)
                .transpose()
                .map_err(ApiError::internal)?,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            content_url,
        })
    }
}

/// The form of an upload, sent as `multipart/form-data`.
#[derive(Debug, ToSchema)]
pub struct UploadMedia {
    /// The file. What it is comes from its bytes, never from its name or the
    /// part's `Content-Type`: PNG, JPEG, GIF, WebP, MP4, QuickTime or WebM.
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
    /// What the image or video shows, up to 1500 characters.
    pub alt_text: Option<String>,
}

/// Changes to a media item; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"alt_text": "A latte with a heart drawn in the foam"}))]
pub struct UpdateMedia {
    /// New alt text, up to 1500 characters; `null` or blank removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub alt_text: Option<Option<String>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(de).map(Some)
}

/// `?limit=&cursor=&mime_type=` of the media list.
// `IntoParams` stays unimported: the path macro names it `utoipa::IntoParams`
// with this type's span, which would read as a needless qualification here.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListMediaParams {
    /// How many items to return (1–200, default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page; omit for the first page.
    pub cursor: Option<String>,
    /// Only media whose type is this or starts with it: `image/`, `video/mp4`.
    #[param(example = "image/")]
    pub mime_type: Option<String>,
}

fn with_etag(status: StatusCode, row: MediaRow) -> ApiResult<HttpResponse> {
    let tag = etag(row.version);
    let location = item_path(&row.workspace_id, &row.id);
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, tag));
    match status {
        StatusCode::CREATED => response.insert_header((header::LOCATION, location)),
        _ => response.insert_header((header::CONTENT_LOCATION, location)),
    };
    Ok(response.json(Media::from_row(row)?))
}

async fn load(
    state: &AppState,
    workspace_id: WorkspaceId,
    media_id: MediaId,
) -> ApiResult<MediaRow> {
    let (ws, id) = (workspace_id.to_string(), media_id.to_string());
    state
        .db
        .read(move |conn| MediaRow::find(conn, &ws, &id).map_err(ApiError::from))
        .await?
        .ok_or(ApiError::NotFound("media"))
}

/// Upload a file to the media library.
///
/// The file's type is recognised from its bytes; a file that is not an
/// accepted image or video is refused with 422 `unsupported_media_type`
/// naming what it is. Images may be at most `media_image_max_bytes`, any
/// file `media_max_bytes` (413). Uploading bytes the workspace's library
/// already holds answers that item (200) instead of adding another, so a
/// retried upload is harmless: no `Idempotency-Key` is needed.
#[utoipa::path(
    tag = "media",
    operation_id = "upload_media",
    request_body(content = UploadMedia, content_type = "multipart/form-data",
        description = "A `file` part, and optionally an `alt_text` part"),
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 201, description = "Added to the library", body = Media,
         headers(("Location" = String, description = "The new item"), ("ETag" = String, description = "Its version"))),
        (status = 200, description = "The library already holds these bytes: that item, unchanged (the `alt_text` sent is not applied)", body = Media,
         headers(("Content-Location" = String, description = "The item"), ("ETag" = String, description = "Its version"))),
        WriteProblems,
        (status = 400, description = "`malformed_multipart`: the form cannot be read (cut short, no boundary)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than its type may be: `media_image_max_bytes` for images, `media_max_bytes` for any file (the detail gives the limit)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `multipart/form-data`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unsupported_media_type`: the content is not an accepted type (the detail says what it is); \
            `unreadable_media`: an image whose size cannot be read; `validation_failed`: no `file` part, a part sent twice, \
            an unknown part, or invalid `alt_text`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workspaces/{workspace_id}/media")]
pub async fn upload_media(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    // Access first: another workspace's caller learns nothing from the body.
    let access = principal
        .access(&state, path.into_inner(), Permission::MediaWrite)
        .await?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !intake::is_form_data(content_type) {
        return Err(ApiError::UnsupportedBodyFormat("multipart/form-data"));
    }
    let limits = MediaLimits::from_config(&state.config);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limits.any().saturating_add(FORM_OVERHEAD_BYTES)) {
        return Err(ApiError::PayloadTooLarge {
            limit: limits.any(),
        });
    }
    let form = Multipart::new(req.headers(), payload);
    let upload = intake::receive(Arc::clone(&state.media), limits, form).await?;
    match library::save(&state, access.workspace_id, access.user_id, upload).await? {
        Saved::Created(row) => with_etag(StatusCode::CREATED, row),
        Saved::Existing(row) => with_etag(StatusCode::OK, row),
    }
}

/// The workspace's media library.
#[utoipa::path(
    tag = "media",
    operation_id = "list_media",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), ListMediaParams),
    responses(
        (status = 200, description = "A page of media, oldest first", body = Paginated<Media>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/media")]
pub async fn list_media(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<ListMediaParams>,
) -> ApiResult<web::Json<Paginated<Media>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::PostsRead)
        .await?;
    let params = params.into_inner();
    let mime_type = params
        .mime_type
        .as_deref()
        .map(parse_mime_filter)
        .transpose()
        .map_err(|message| ApiError::invalid_field("mime_type", message))?;
    let page = Page::from_params(PageParams {
        limit: params.limit,
        cursor: params.cursor,
    })?;
    let (ws, after, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            MediaRow::list(conn, &ws, mime_type.as_deref(), after.as_deref(), fetch)
                .map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), Media::from_row)
        .map(web::Json)
}

/// One media item.
#[utoipa::path(
    tag = "media",
    operation_id = "get_media",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("media_id" = MediaId, Path, description = "Media id"),
    ),
    responses(
        (status = 200, description = "The item", body = Media,
         headers(("ETag" = String, description = "Send as If-Match to update"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/media/{media_id}")]
pub async fn get_media(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, MediaId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, media_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsRead)
        .await?;
    let row = load(&state, access.workspace_id, media_id).await?;
    with_etag(StatusCode::OK, row)
}

/// Describe a media item (its alt text).
#[utoipa::path(
    tag = "media",
    operation_id = "update_media",
    request_body = UpdateMedia,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("media_id" = MediaId, Path, description = "Media id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update fails with 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "Updated", body = Media,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/media/{media_id}")]
pub async fn update_media(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, MediaId)>,
    if_match: IfMatch,
    body: Json<UpdateMedia>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, media_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::MediaWrite)
        .await?;
    let alt_text = body
        .0
        .alt_text
        .map(|raw| {
            raw.as_deref()
                .map_or(Ok(None), AltText::parse)
                .map_err(|message| ApiError::invalid_field("alt_text", message))
        })
        .transpose()?;
    let (ws, id) = (access.workspace_id.to_string(), media_id.to_string());
    let row = state
        .db
        .write(move |conn| {
            let current = MediaRow::find(conn, &ws, &id)?.ok_or(ApiError::NotFound("media"))?;
            if !if_match.allows(&etag(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            let Some(alt_text) = alt_text else {
                return Ok(current);
            };
            let alt_text = alt_text.as_ref().map(AltText::as_str);
            MediaRow::set_alt_text(conn, &ws, &id, alt_text, Some(current.version))?
                .ok_or(ApiError::PreconditionFailed)
        })
        .await?;
    with_etag(StatusCode::OK, row)
}

/// Delete a media item. Its bytes are removed too unless another
/// workspace's library holds the same file.
#[utoipa::path(
    tag = "media",
    operation_id = "delete_media",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("media_id" = MediaId, Path, description = "Media id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if it changed since"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        ActionProblems,
        StaleProblem,
    )
)]
#[delete("/workspaces/{workspace_id}/media/{media_id}")]
pub async fn delete_media(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, MediaId)>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let (workspace_id, media_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::MediaWrite)
        .await?;
    library::remove(&state, access.workspace_id, media_id, move |row| {
        if if_match.allows(&etag(row.version)) {
            Ok(())
        } else {
            Err(ApiError::PreconditionFailed)
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Whether `If-None-Match` names the current representation (`etag`);
/// weak and strong tags compare alike, as RFC 9110 says for this header.
fn still_current(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|value| {
        value.trim() == "*"
            || value.split(',').any(|tag| {
                let tag = tag.trim();
                tag.strip_prefix("W/").unwrap_or(tag) == etag
            })
    })
}

/// Download a media item's bytes.
#[utoipa::path(
    tag = "media",
    operation_id = "get_media_content",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("media_id" = MediaId, Path, description = "Media id"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag of a copy the caller has; 304 if it is current"),
    ),
    responses(
        (status = 200, description = "The bytes, with the type recognised at upload",
         content(("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp"), ("video/mp4"), ("video/quicktime"), ("video/webm")),
         headers(
             ("ETag" = String, description = "The bytes' SHA-256 in quotes: strong, never changes"),
             ("Content-Length" = u64, description = "Length in bytes"),
             ("Cache-Control" = String, description = "`private`: only the caller's own cache may keep it"),
         )),
        (status = 304, description = "The copy named in If-None-Match is current",
         headers(
             ("ETag" = String, description = "The bytes' SHA-256 in quotes"),
             ("Cache-Control" = String, description = "`private`"),
         )),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/media/{media_id}/content")]
pub async fn get_media_content(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, MediaId)>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (workspace_id, media_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsRead)
        .await?;
    let row = load(&state, access.workspace_id, media_id).await?;
    let tag = format!("\"{}\"", row.sha256);
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if still_current(if_none_match, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, "private"))
            .finish());
    }
    let reader = library::open(&state, &row).await?;
    let len = u64::try_from(row.size_bytes).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, row.mime_type))
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "private"))
        // Shown as a page, the bytes may run nothing and load nothing.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ))
        .body(SizedStream::new(len, library::content_stream(reader))))
}

#[cfg(test)]
mod tests {
    use super::still_current;

    #[test]
    fn if_none_match_compares_tags_weakly() {
        let tag = "\"abc\"";
        assert!(still_current(Some("\"abc\""), tag));
        assert!(still_current(Some("W/\"abc\""), tag));
        assert!(still_current(Some("\"x\", \"abc\""), tag));
        assert!(still_current(Some("*"), tag));
        assert!(!still_current(Some("\"abcd\""), tag));
        assert!(!still_current(Some("abc"), tag));
        assert!(!still_current(None, tag));
    }
}
