//! Bulk import of draft posts from CSV or JSON, checked row by row.

use actix_web::http::header;
use actix_web::{HttpRequest, post, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::content::{PostContent, Variant};
use super::{check_content, insert_post};
use crate::auth::Principal;
use crate::domain::ids::{PostId, WorkspaceId, parse_stored};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::parse_json;
use crate::http::problems::WriteProblems;
use crate::state::AppState;

/// Most rows one import takes.
pub const MAX_ROWS: usize = 1_000;

/// A JSON import: the posts to draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"posts": [{"body": "Hello", "variants": [{"channel_id": "01936b2e-7d4c-7c1a-9f4e-3b2a1c0d9e8f"}]}]}))]
pub struct PostImport {
    /// Up to 1,000 posts, each as `create_post` takes it.
    pub posts: Vec<serde_json::Value>,
}

/// Import switches.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportOptions {
    /// Check every row and report, creating nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// A row that became a draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedRow {
    /// Row number: 1 is the first post (in CSV, the line after the header).
    pub row: usize,
    /// The new draft (absent on a dry run).
    pub post_id: Option<PostId>,
}

/// A row that was refused, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRow {
    /// Row number.
    pub row: usize,
    /// Every problem, under its field.
    pub errors: Vec<FieldError>,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Rows that passed (and, unless a dry run, became drafts).
    pub imported: Vec<ImportedRow>,
    /// Rows that were refused.
    pub rejected: Vec<RejectedRow>,
}

/// One CSV line: `body,channel_ids,tags,media_ids,campaign_id,event_id`;
/// lists are separated by `;`.
#[derive(Debug, Deserialize)]
struct CsvRow {
    body: String,
    channel_ids: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    media_ids: String,
    #[serde(default)]
    campaign_id: String,
    #[serde(default)]
    event_id: String,
}

fn list(raw: &str) -> Vec<String> {
    raw.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn optional(raw: &str) -> Option<String> {
    let raw = raw.trim().to_owned();
    (!raw.is_empty()).then_some(raw)
}

impl CsvRow {
    fn into_content(self) -> Result<PostContent, Vec<FieldError>> {
        let variants = list(&self.channel_ids)
            .into_iter()
            .map(|id| {
                parse_stored(&id)
                    .map(|channel_id| Variant {
                        channel_id,
                        text: None,
                        media_ids: None,
                        options: serde_json::json!({}),
                        follow_ups: Vec::new(),
                        utm: None,
                    })
                    .map_err(|_| {
                        FieldError::new("channel_ids", format!("{id:?} is not a channel id"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| vec![e])?;
        Ok(PostContent {
            body: self.body,
            tags: list(&self.tags),
            media_ids: list(&self.media_ids),
            campaign_id: optional(&self.campaign_id),
            event_id: optional(&self.event_id),
            utm: None,
            variants,
        })
    }
}

/// Each row parsed, or why it could not be.
type ParsedRows = Vec<Result<PostContent, Vec<FieldError>>>;

fn parse_csv(body: &[u8]) -> ApiResult<ParsedRows> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|err| ApiError::bad_request("malformed_csv", err.to_string()))?
        .clone();
    for required in ["body", "channel_ids"] {
        if !headers.iter().any(|h| h == required) {
            return Err(ApiError::invalid_field(
                "header",
                format!("the CSV header needs a {required} column"),
            ));
        }
    }
    Ok(reader
        .deserialize::<CsvRow>()
        .map(|row| match row {
            Ok(row) => row.into_content(),
            Err(err) => Err(vec![FieldError::new("row", err.to_string())]),
        })
        .collect())
}

fn parse_json_rows(body: &[u8]) -> ApiResult<ParsedRows> {
    let import: PostImport = parse_json(body)?;
    Ok(import
        .posts
        .into_iter()
        .map(|value| {
            parse_json::<PostContent>(value.to_string().as_bytes()).map_err(|err| match err {
                ApiError::Validation(errors) => errors,
                other => vec![FieldError::new("post", other.to_string())],
            })
        })
        .collect())
}

/// Draft many posts at once from CSV (`text/csv`: a header row, then
/// `body,channel_ids,tags,media_ids,campaign_id,event_id` with `;` between
/// list items) or JSON (`{"posts": [...]}`, each as `create_post` takes it).
/// Every row is checked like a single create; good rows become drafts and
/// the report names each refused row and why. With `dry_run=true` nothing
/// is created.
#[utoipa::path(
    tag = "posts",
    operation_id = "import_posts",
    request_body(
        content(
            (PostImport = "application/json"),
            (String = "text/csv", example = "body,channel_ids,tags\nHello,01936b2e-7d4c-7c1a-9f4e-3b2a1c0d9e8f,launch;spring\n"),
        ),
    ),
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), ImportOptions),
    responses(
        (status = 200, description = "The report: what became drafts, what was refused and why", body = ImportReport),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/post-imports")]
pub async fn import_posts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    options: web::Query<ImportOptions>,
    request: HttpRequest,
    mut payload: web::Payload,
) -> ApiResult<web::Json<ImportReport>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::PostsWrite)
        .await?;
    let mime = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let limit = state.config.json_body_limit_bytes.max(4 * 1024 * 1024);
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|err| ApiError::bad_request("unreadable_body", err.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    let rows = match mime.as_str() {
        "text/csv" => parse_csv(&body)?,
        "application/json" => parse_json_rows(&body)?,
        _ => {
            return Err(ApiError::UnsupportedBodyFormat(
                "text/csv or application/json",
            ));
        }
    };
    if rows.len() > MAX_ROWS {
        return Err(ApiError::invalid_field(
            "posts",
            "an import takes at most 1,000 rows",
        ));
    }
    let dry_run = options.dry_run;
    let ws = access.workspace_id.to_string();
    let mut report = ImportReport {
        dry_run,
        imported: Vec::new(),
        rejected: Vec::new(),
    };
    for (index, parsed) in rows.into_iter().enumerate() {
        let row = index + 1;
        let checked = match parsed {
            Ok(content) => check_content(&state, &ws, content).await,
            Err(errors) => Err(ApiError::Validation(errors)),
        };
        match checked {
            Ok(_) if dry_run => report.imported.push(ImportedRow { row, post_id: None }),
            Ok(checked) => {
                let access = access.clone();
                let post = state
                    .db
                    .write(move |conn| insert_post(conn, &access, &checked))
                    .await?;
                report.imported.push(ImportedRow {
                    row,
                    post_id: Some(parse_stored(&post.id).map_err(ApiError::internal)?),
                });
            }
            Err(ApiError::Validation(errors)) => report.rejected.push(RejectedRow { row, errors }),
            Err(other) => return Err(other),
        }
    }
    Ok(web::Json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_content_or_row_errors() {
        let csv = "body,channel_ids,tags\n\
                   Hello,01936b2e-7d4c-7c1a-9f4e-3b2a1c0d9e8f,a; b\n\
                   Bad,not-an-id,\n";
        let rows = parse_csv(csv.as_bytes()).unwrap();
        let first = rows[0].as_ref().unwrap();
        assert_eq!(first.tags, vec!["a", "b"]);
        assert_eq!(first.variants.len(), 1);
        assert_eq!(rows[1].as_ref().unwrap_err()[0].field, "channel_ids");
        assert!(parse_csv(b"text\nhello\n").is_err());
    }
}
