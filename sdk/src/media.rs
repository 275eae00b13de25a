//! Reading media files attached to the post being published.

use crate::{MediaRef, PluginError};

/// Bytes read per host call by [`read_all`].
const CHUNK_BYTES: u32 = 1 << 20;
/// Most bytes reserved up front from the declared size, which is only a hint.
const MAX_PREALLOCATED_BYTES: u64 = 16 << 20;

/// Reads up to `len` bytes of the media file `id` from `offset`; fewer bytes
/// mean the end of the file. A failure is [`PluginError::Transient`].
pub fn read(id: &str, offset: u64, len: u32) -> Result<Vec<u8>, PluginError> {
    crate::sys::media_read(id, offset, len)
        .map_err(|reason| PluginError::Transient(format!("media {id}: {reason}")))
}

/// Reads a whole media file, in chunks of 1 MiB.
pub fn read_all(media: &MediaRef) -> Result<Vec<u8>, PluginError> {
    let capacity = usize::try_from(media.size.min(MAX_PREALLOCATED_BYTES)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    loop {
        let chunk = read(&media.id, bytes.len() as u64, CHUNK_BYTES)?;
        let done = chunk.len() < CHUNK_BYTES as usize;
        bytes.extend_from_slice(&chunk);
        if done {
            return Ok(bytes);
        }
    }
}
