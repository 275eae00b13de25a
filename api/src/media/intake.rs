//! Reading an upload: the `multipart/form-data` body streamed part by part,
//! the file written to a staged file while it is hashed, recognised and
//! measured against the limits, so that memory use stays bounded whatever
//! the size.

use std::io;
use std::sync::Arc;

use actix_multipart::{Field, Multipart};
use actix_web::web::{self, BytesMut};
use futures_util::StreamExt;

use super::alt_text::AltText;
use super::filename::sanitize_filename;
use super::store::{MediaStore, SealedFile, StagedFile};
use super::types::{Dimensions, MediaKind, MediaLimits, MediaType, SNIFF_BYTES, sniff};
use crate::error::{ApiError, ApiResult};

/// Bytes gathered before each write to the staged file.
const WRITE_BYTES: usize = 256 * 1024;

/// Largest `alt_text` part, in bytes: its characters at four bytes each.
const ALT_TEXT_MAX_BYTES: usize = AltText::MAX_CHARS * 4;

/// Room in a form for boundaries, part headers and `alt_text`, on top of
/// the file itself.
pub const FORM_OVERHEAD_BYTES: usize = 64 * 1024;

/// The form parts an upload may have.
const FILE_PART: &str = "file";
const ALT_TEXT_PART: &str = "alt_text";

/// An upload read to its end and checked, not yet in a library.
#[derive(Debug)]
pub struct Upload {
    /// The bytes, staged, with their digest.
    pub file: SealedFile,
    /// What the bytes are.
    pub media_type: MediaType,
    /// Width and height of an image.
    pub dimensions: Option<Dimensions>,
    /// The uploader's file name, sanitised.
    pub original_filename: Option<String>,
    /// The `alt_text` part, if one was sent and was not blank.
    pub alt_text: Option<AltText>,
}

/// Whether a request's `Content-Type` is `multipart/form-data`.
pub fn is_form_data(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("multipart/form-data"))
}

fn malformed(err: &actix_multipart::MultipartError) -> ApiError {
    ApiError::bad_request(
        "malformed_multipart",
        format!("the multipart/form-data body cannot be read: {err}"),
    )
}

/// Runs file work on the blocking pool.
async fn blocking<T, F>(work: F) -> ApiResult<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    web::block(work)
        .await
        .map_err(|_| ApiError::Unavailable(anyhow::anyhow!("blocking pool is shutting down")))?
        .map_err(|err| ApiError::internal(anyhow::Error::new(err).context("media staging")))
}

/// Reads an upload form: exactly one `file` part, at most one `alt_text`
/// part, nothing else. Fails on the first problem; nothing stays staged.
pub async fn receive(
    store: Arc<dyn MediaStore>,
    limits: MediaLimits,
    mut form: Multipart,
) -> ApiResult<Upload> {
    let mut file = None;
    let mut alt_text = None;
    while let Some(part) = form.next().await {
        let mut part = part.map_err(|err| malformed(&err))?;
        let name = part.name().unwrap_or_default().to_owned();
        match name.as_str() {
            FILE_PART if file.is_none() => {
                let filename = part
                    .content_disposition()
                    .and_then(|cd| match cd.get_filename_ext() {
                        Some(ext) => Some(String::from_utf8_lossy(&ext.value).into_owned()),
                        None => cd.get_filename().map(str::to_owned),
                    })
                    .and_then(|raw| sanitize_filename(&raw));
                let (sealed, media_type) = receive_file(&store, limits, &mut part).await?;
                file = Some((sealed, media_type, filename));
            }
            ALT_TEXT_PART if alt_text.is_none() => {
                alt_text = Some(read_alt_text(&mut part).await?);
            }
            FILE_PART | ALT_TEXT_PART => {
                return Err(ApiError::invalid_field(&name, "must be sent only once"));
            }
            _ => {
                let shown: String = name.chars().take(64).collect();
                return Err(ApiError::invalid_field(&shown, "is not a known field"));
            }
        }
    }
    let Some((file, media_type, original_filename)) = file else {
        return Err(ApiError::invalid_field(
            FILE_PART,
            "is required: send the file as a multipart part named `file`",
        ));
    };
    let dimensions = match media_type.kind() {
        MediaKind::Image => Some(measure(&file, media_type).await?),
        MediaKind::Video => None,
    };
    Ok(Upload {
        file,
        media_type,
        dimensions,
        original_filename,
        alt_text: alt_text.flatten(),
    })
}

/// The type of a file from its first bytes, or the 422 naming what it is.
fn recognise(head: &[u8]) -> ApiResult<MediaType> {
    sniff(head).map_err(|err| ApiError::unprocessable("unsupported_media_type", err.to_string()))
}

/// Streams the `file` part to a staged file, refusing it as soon as it is
/// recognised as something unaccepted or grows past its type's limit.
async fn receive_file(
    store: &Arc<dyn MediaStore>,
    limits: MediaLimits,
    part: &mut Field,
) -> ApiResult<(SealedFile, MediaType)> {
    let staging = Arc::clone(store);
    let mut staged: StagedFile = blocking(move || staging.stage()).await?;
    let mut pending = BytesMut::new();
    let mut media_type = None;
    let mut limit = limits.any();
    let mut received = 0usize;
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(|err| malformed(&err))?;
        received = received.saturating_add(chunk.len());
        if received > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        pending.extend_from_slice(&chunk);
        if media_type.is_none() && pending.len() >= SNIFF_BYTES {
            // Nothing was written yet, so `pending` starts at the file's start.
            let recognised = recognise(&pending)?;
            limit = limits.for_type(recognised);
            if received > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            media_type = Some(recognised);
        }
        if media_type.is_some() && pending.len() >= WRITE_BYTES {
            let bytes = pending.split().freeze();
            staged = blocking(move || staged.write(&bytes).map(|()| staged)).await?;
        }
    }
    let media_type = match media_type {
        Some(known) => known,
        None => {
            let recognised = recognise(&pending)?;
            let limit = limits.for_type(recognised);
            if received > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            recognised
        }
    };
    let bytes = pending.freeze();
    let sealed = blocking(move || {
        staged.write(&bytes)?;
        staged.seal()
    })
    .await?;
    Ok((sealed, media_type))
}

/// Width and height from an image's header; an image whose header cannot
/// be read is refused rather than stored.
async fn measure(file: &SealedFile, media_type: MediaType) -> ApiResult<Dimensions> {
    let path = file.path().to_owned();
    let read = web::block(move || imagesize::size(path))
        .await
        .map_err(|_| ApiError::Unavailable(anyhow::anyhow!("blocking pool is shutting down")))?;
    let unreadable = || {
        ApiError::unprocessable(
            "unreadable_media",
            format!("the file starts like {media_type} but its size in pixels cannot be read"),
        )
    };
    match read {
        Ok(size) => Dimensions::new(size.width, size.height).ok_or_else(unreadable),
        Err(imagesize::ImageError::IoError(err)) => Err(ApiError::internal(
            anyhow::Error::new(err).context("reading a staged image"),
        )),
        Err(_) => Err(unreadable()),
    }
}

/// The `alt_text` part: UTF-8, within its limit; blank means none.
async fn read_alt_text(part: &mut Field) -> ApiResult<Option<AltText>> {
    let too_long = || ApiError::invalid_field(ALT_TEXT_PART, "must be at most 1500 characters");
    let bytes = part
        .bytes(ALT_TEXT_MAX_BYTES)
        .await
        .map_err(|_| too_long())?
        .map_err(|err| malformed(&err))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::invalid_field(ALT_TEXT_PART, "must be UTF-8 text"))?;
    AltText::parse(text).map_err(|message| ApiError::invalid_field(ALT_TEXT_PART, message))
}

#[cfg(test)]
mod tests {
    use super::is_form_data;

    #[test]
    fn only_form_data_is_an_upload() {
        assert!(is_form_data(Some("multipart/form-data; boundary=x")));
        assert!(is_form_data(Some("Multipart/Form-Data;boundary=x")));
        for other in [
            None,
            Some("application/json"),
            Some("multipart/mixed; boundary=x"),
            Some("image/png"),
        ] {
            assert!(!is_form_data(other), "{other:?}");
        }
    }
}
