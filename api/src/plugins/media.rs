//! The media a call may read through the `media-read` import: only the
//! files attached to the post being published, from the media store.

use std::collections::HashMap;
use std::sync::Arc;

use crate::media::{ContentDigest, MediaStore};

/// Most bytes one `media-read` answers; the SDK reads in 1 MiB chunks.
pub const MAX_READ_BYTES: u32 = 4 << 20;

/// The files a call may read, by media id.
#[derive(Debug, Clone)]
pub struct AttachedMedia {
    store: Arc<dyn MediaStore>,
    files: HashMap<String, ContentDigest>,
}

impl AttachedMedia {
    /// Files of `store`, each readable under its media id.
    pub fn new(store: Arc<dyn MediaStore>, files: HashMap<String, ContentDigest>) -> Self {
        Self { store, files }
    }

    /// A slice of an attached file; anything else is refused with a reason
    /// the plugin can log.
    pub fn read(&self, id: &str, offset: u64, len: u32) -> Result<Vec<u8>, String> {
        let digest = self
            .files
            .get(id)
            .ok_or_else(|| format!("media {id} is not attached to this call"))?;
        self.store
            .read_at(digest, offset, len.min(MAX_READ_BYTES) as usize)
            .map_err(|err| format!("media {id} cannot be read: {err}"))
    }
}
