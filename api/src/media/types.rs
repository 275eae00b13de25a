//! Which files the media library accepts, recognised by their bytes, and
//! how large each may be.

use std::fmt;

use crate::config::Config;

/// The broad kind of a media file; limits and dimensions depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// A still or animated picture.
    Image,
    /// A video.
    Video,
}

/// A type the media library accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType {
    mime: &'static str,
    kind: MediaKind,
}

impl MediaType {
    const fn new(mime: &'static str, kind: MediaKind) -> Self {
        Self { mime, kind }
    }

    /// The MIME type, as stored and served.
    pub fn mime(self) -> &'static str {
        self.mime
    }

    /// Image or video.
    pub fn kind(self) -> MediaKind {
        self.kind
    }

    /// The accepted type with this MIME name.
    pub fn from_mime(mime: &str) -> Option<Self> {
        ACCEPTED.into_iter().find(|t| t.mime == mime)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime)
    }
}

/// Every type the media library accepts: what the social platforms take.
pub const ACCEPTED: [MediaType; 7] = [
    MediaType::new("image/png", MediaKind::Image),
    MediaType::new("image/jpeg", MediaKind::Image),
    MediaType::new("image/gif", MediaKind::Image),
    MediaType::new("image/webp", MediaKind::Image),
    MediaType::new("video/mp4", MediaKind::Video),
    MediaType::new("video/quicktime", MediaKind::Video),
    MediaType::new("video/webm", MediaKind::Video),
];

/// Bytes gathered from the start of a file before deciding what it is.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// A file whose content is not of an accepted type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the file's content is {detected}; the media library accepts {}",
    accepted_list()
)]
pub struct Unsupported {
    /// What the content was recognised as, for people to read.
    pub detected: String,
}

fn accepted_list() -> String {
    ACCEPTED.map(MediaType::mime).join(", ")
}

/// What a file is, judged from its first bytes alone (at least
/// [`SNIFF_BYTES`] of them unless the file is shorter). The name and the
/// type a client declares are never consulted: they are the client's claim.
pub fn sniff(head: &[u8]) -> Result<MediaType, Unsupported> {
    let Some(found) = infer::get(head) else {
        let detected = if head.is_empty() {
            "empty".to_owned()
        } else {
            "of no recognised type".to_owned()
        };
        return Err(Unsupported { detected });
    };
    MediaType::from_mime(found.mime_type()).ok_or_else(|| Unsupported {
        detected: format!("{} (.{})", found.mime_type(), found.extension()),
    })
}

/// How large a media file may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    /// Any file.
    pub max_bytes: usize,
    /// Images (the smaller of this and `max_bytes` applies).
    pub image_max_bytes: usize,
}

impl MediaLimits {
    /// The limits a server was configured with.
    pub fn from_config(config: &Config) -> Self {
        Self {
            max_bytes: config.media_max_bytes,
            image_max_bytes: config.media_image_max_bytes,
        }
    }

    /// The limit before the type is known: the largest any type may have.
    pub fn any(self) -> usize {
        self.max_bytes
    }

    /// The limit for a file of this type.
    pub fn for_type(self, media_type: MediaType) -> usize {
        match media_type.kind() {
            MediaKind::Image => self.image_max_bytes.min(self.max_bytes),
            MediaKind::Video => self.max_bytes,
        }
    }
}

/// The size of an image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dimensions {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Dimensions {
    /// Dimensions as read from an image header; `None` for sizes no real
    /// image has (zero, or too large to store).
    pub fn new(width: usize, height: usize) -> Option<Self> {
        let fits = |n: usize| {
            u32::try_from(n)
                .ok()
                .filter(|n| (1..=i32::MAX.unsigned_abs()).contains(n))
        };
        Some(Self {
            width: fits(width)?,
            height: fits(height)?,
        })
    }
}

/// Reads a `?mime_type=` filter: a whole type (`image/png`) or the start of
/// one (`image/`). Lower-cased; only characters MIME names use, so it can
/// be matched as a prefix without escaping.
pub fn parse_mime_filter(raw: &str) -> Result<String, &'static str> {
    let filter = raw.trim().to_ascii_lowercase();
    if filter.is_empty() {
        return Err("must not be empty");
    }
    if filter.len() > 100 {
        return Err("must be at most 100 characters");
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'+' | b'-');
    if !filter.bytes().all(allowed) {
        return Err("must be a media type or its start, such as `image/` or `video/mp4`");
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
    const GIF: &[u8] = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff";
    const WEBP: &[u8] = b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0";
    const MP4: &[u8] = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41";
    const MOV: &[u8] = b"\0\0\0\x14ftypqt  \0\0\0\0qt  \0\0\0\x08wide";
    const WEBM: &[u8] = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04webm";
    const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0";
    const PE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";

    #[test]
    fn accepted_types_are_recognised_by_their_bytes() {
        for (bytes, mime) in [
            (PNG, "image/png"),
            (JPEG, "image/jpeg"),
            (GIF, "image/gif"),
            (WEBP, "image/webp"),
            (MP4, "video/mp4"),
            (MOV, "video/quicktime"),
            (WEBM, "video/webm"),
        ] {
            assert_eq!(sniff(bytes).map(MediaType::mime), Ok(mime), "{mime}");
        }
    }

    #[test]
    fn executables_and_everything_else_are_refused_with_what_they_are() {
        let mut elf = ELF.to_vec();
        elf.resize(64, 0);
        let elf = sniff(&elf).err().map(|e| e.detected);
        assert_eq!(elf.as_deref(), Some("application/x-executable (.elf)"));
        let pe = sniff(PE).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(pe.contains("portable-executable"), "{pe}");
        assert!(
            pe.contains("image/png") && pe.contains("video/webm"),
            "{pe}"
        );
        for other in [
            &b"%PDF-1.7\n"[..],
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            b"PK\x03\x04\x14\0\0\0",
            b"just some text",
        ] {
            assert!(sniff(other).is_err(), "{other:?}");
        }
        assert_eq!(
            sniff(b"").err().map(|e| e.detected).as_deref(),
            Some("empty")
        );
    }

    #[test]
    fn an_image_signature_must_come_first() {
        let mut disguised = b"#!/bin/sh\n".to_vec();
        disguised.extend_from_slice(PNG);
        assert!(sniff(&disguised).is_err());
    }

    #[test]
    fn images_have_their_own_limit_within_the_overall_one() {
        let limits = MediaLimits {
            max_bytes: 100,
            image_max_bytes: 20,
        };
        let png = MediaType::from_mime("image/png");
        let mp4 = MediaType::from_mime("video/mp4");
        assert_eq!(png.map(|t| limits.for_type(t)), Some(20));
        assert_eq!(mp4.map(|t| limits.for_type(t)), Some(100));
        assert_eq!(limits.any(), 100);
        let tight = MediaLimits {
            max_bytes: 10,
            image_max_bytes: 20,
        };
        assert_eq!(png.map(|t| tight.for_type(t)), Some(10));
        assert_eq!(
            MediaLimits::from_config(&Config::default()),
            MediaLimits {
                max_bytes: 100 * 1024 * 1024,
                image_max_bytes: 20 * 1024 * 1024
            }
        );
    }

    #[test]
    fn dimensions_are_positive_and_storable() {
        assert_eq!(
            Dimensions::new(640, 480),
            Some(Dimensions {
                width: 640,
                height: 480
            })
        );
        assert_eq!(Dimensions::new(0, 480), None);
        assert_eq!(Dimensions::new(1 << 31, 1), None);
    }

    #[test]
    fn mime_filters_are_types_or_their_start() {
        assert_eq!(parse_mime_filter(" Image/ "), Ok("image/".to_owned()));
        assert_eq!(parse_mime_filter("video/mp4"), Ok("video/mp4".to_owned()));
        for bad in ["", "image/%", "image_", "a'b", &"x".repeat(101)] {
            assert!(parse_mime_filter(bad).is_err(), "{bad}");
        }
    }
}
