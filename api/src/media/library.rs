//! Library operations that keep the rows and the stored bytes in step: a
//! file is committed with the first row that names it and removed with the
//! last.
//!
//! Adding and dropping references to one digest run one at a time
//! ([`lock_content`]), and the file work happens inside the transaction that
//! changes the rows, so a file is never removed while a row is being added
//! that names it.

use std::io::{self, Read};
use std::sync::Arc;

use actix_web::web::{self, Bytes};
use futures_util::Stream;

use super::intake::Upload;
use super::store::{ContentDigest, MediaStore};
use crate::db::media::{MediaRow, lock_content};
use crate::db::{self, DbConn};
use crate::domain::ids::{MediaId, UserId, WorkspaceId};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Bytes read from the store per chunk of a download.
const READ_BYTES: usize = 64 * 1024;

/// Marks a unique violation on (workspace, digest), answered by re-reading.
const RACED: &str = "media_upload_raced";

/// What saving an upload did.
#[derive(Debug)]
pub enum Saved {
    /// A new item in the library.
    Created(MediaRow),
    /// The library already held these bytes: its item, unchanged.
    Existing(MediaRow),
}

fn store_error(err: io::Error, doing: &'static str) -> ApiError {
    ApiError::internal(anyhow::Error::new(err).context(doing))
}

fn stored_digest(sha256: &str) -> ApiResult<ContentDigest> {
    ContentDigest::parse(sha256)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored digest {sha256:?} is not one")))
}

/// Adds an upload to a workspace's library, or answers the item that
/// already holds the same bytes there (the upload is then discarded).
pub async fn save(
    state: &AppState,
    workspace_id: WorkspaceId,
    uploader: UserId,
    upload: Upload,
) -> ApiResult<Saved> {
    let store = Arc::clone(&state.media);
    let ws = workspace_id.to_string();
    let digest = upload.file.digest().as_str().to_owned();
    let (ws_again, digest_again) = (ws.clone(), digest.clone());
    let saved = state
        .db
        .write(move |conn| {
            lock_content(conn, &digest)?;
            if let Some(existing) = MediaRow::find_by_sha256(conn, &ws, &digest)? {
                return Ok(Saved::Existing(existing));
            }
            let now = db::now();
            let row = MediaRow {
                id: MediaId::new().to_string(),
                workspace_id: ws,
                sha256: digest,
                mime_type: upload.media_type.mime().to_owned(),
                size_bytes: i64::try_from(upload.file.len()).map_err(ApiError::internal)?,
                width: upload.dimensions.and_then(|d| i32::try_from(d.width).ok()),
                height: upload.dimensions.and_then(|d| i32::try_from(d.height).ok()),
                original_filename: upload.original_filename,
                alt_text: upload.alt_text.map(|a| a.into_string()),
                version: 1,
                created_by: Some(uploader.to_string()),
                created_at: now,
                updated_at: now,
            };
            match row.insert(conn) {
                Ok(()) => {}
                Err(err) if db::is_unique_violation(&err) => {
                    return Err(ApiError::conflict(RACED, "the same file was just uploaded"));
                }
                Err(err) => return Err(err.into()),
            }
            store
                .commit(upload.file)
                .map_err(|err| store_error(err, "committing an upload"))?;
            Ok(Saved::Created(row))
        })
        .await;
    match saved {
        // Only possible if the lock is bypassed; the other upload's row answers.
        Err(ApiError::Conflict { code: RACED, .. }) => {
            state
                .db
                .read(move |conn| {
                    MediaRow::find_by_sha256(conn, &ws_again, &digest_again)?
                        .map(Saved::Existing)
                        .ok_or_else(|| ApiError::conflict(RACED, "the same file was just uploaded"))
                })
                .await
        }
        other => other,
    }
}

/// Removes the stored bytes of `sha256` if no row names them any more.
/// The caller holds [`lock_content`] for it.
fn forget_if_unreferenced(
    conn: &mut DbConn,
    store: &dyn MediaStore,
    sha256: &str,
) -> ApiResult<()> {
    if MediaRow::count_by_sha256(conn, sha256)? > 0 {
        return Ok(());
    }
    store
        .remove(&stored_digest(sha256)?)
        .map_err(|err| store_error(err, "removing stored media"))
}

/// Deletes an item from a workspace's library once `precondition` accepts
/// it; its bytes go too unless another item (in any workspace) uses them.
pub async fn remove<P>(
    state: &AppState,
    workspace_id: WorkspaceId,
    media_id: MediaId,
    precondition: P,
) -> ApiResult<()>
where
    P: FnOnce(&MediaRow) -> ApiResult<()> + Send + 'static,
{
    let store = Arc::clone(&state.media);
    let (ws, id) = (workspace_id.to_string(), media_id.to_string());
    state
        .db
        .write(move |conn| {
            let row = MediaRow::find(conn, &ws, &id)?.ok_or(ApiError::NotFound("media"))?;
            precondition(&row)?;
            lock_content(conn, &row.sha256)?;
            if MediaRow::delete(conn, &ws, &id)? == 0 {
                return Err(ApiError::NotFound("media"));
            }
            forget_if_unreferenced(conn, store.as_ref(), &row.sha256)
        })
        .await
}

/// Removes the stored bytes among `digests` that no row names any more:
/// after a workspace is deleted, its rows went with it by cascade.
pub async fn forget_unreferenced(state: &AppState, digests: Vec<String>) -> ApiResult<()> {
    for sha256 in digests {
        let store = Arc::clone(&state.media);
        state
            .db
            .write(move |conn| {
                lock_content(conn, &sha256)?;
                forget_if_unreferenced(conn, store.as_ref(), &sha256)
            })
            .await?;
    }
    Ok(())
}

/// The stored bytes of an item, checked against the length its row records.
pub async fn open(state: &AppState, row: &MediaRow) -> ApiResult<Box<dyn Read + Send>> {
    let store = Arc::clone(&state.media);
    let digest = stored_digest(&row.sha256)?;
    let (reader, len) = web::block(move || store.open(&digest))
        .await
        .map_err(|_| ApiError::Unavailable(anyhow::anyhow!("blocking pool is shutting down")))?
        .map_err(|err| store_error(err, "opening stored media"))?;
    if i64::try_from(len).ok() != Some(row.size_bytes) {
        return Err(ApiError::internal(anyhow::anyhow!(
            "stored media {} has {len} bytes, its row says {}",
            row.sha256,
            row.size_bytes
        )));
    }
    Ok(reader)
}

/// Reads stored bytes as a stream of chunks, off the async workers.
pub fn content_stream(reader: Box<dyn Read + Send>) -> impl Stream<Item = io::Result<Bytes>> {
    futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let read = web::block(move || {
            let mut chunk = vec![0; READ_BYTES];
            let n = loop {
                match reader.read(&mut chunk) {
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    other => break other?,
                }
            };
            chunk.truncate(n);
            Ok::<_, io::Error>((chunk, reader))
        })
        .await;
        match read {
            Ok(Ok((chunk, _))) if chunk.is_empty() => None,
            Ok(Ok((chunk, reader))) => Some((Ok(Bytes::from(chunk)), Some(reader))),
            Ok(Err(err)) => Some((Err(err), None)),
            Err(_) => Some((
                Err(io::Error::other("blocking pool is shutting down")),
                None,
            )),
        }
    })
}
