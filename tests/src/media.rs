//! Media for tests: real PNG files made on the spot, and `multipart/form-data`
//! bodies built by hand so a test controls every header of every part.

/// A valid RGB PNG of `width` × `height` pixels whose colours follow from
/// `seed` (different seeds, different bytes). Uncompressed, so its size is
/// predictable: about `width * height * 3` bytes.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    // 8-bit RGB, deflate, adaptive filtering, no interlace.
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut pixels = Vec::new();
    for y in 0..height {
        pixels.push(0); // filter: none
        for x in 0..width {
            let shade = (x.wrapping_mul(7) ^ y.wrapping_mul(13)) as u8;
            pixels.extend_from_slice(&[shade, seed, shade.wrapping_add(seed)]);
        }
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib_stored(&pixels));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).expect("chunk fits");
    png.extend_from_slice(&len.to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(65_535).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = u16::try_from(block.len()).expect("block fits");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The start of a 64-bit Linux executable, padded to `len` bytes.
pub fn elf(len: usize) -> Vec<u8> {
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0".to_vec();
    elf.resize(len.max(64), 0);
    elf
}

/// A file that starts like an MP4 video (an `ftyp` box of brand `isom`),
/// padded to `len` bytes: enough for anything that only looks at its type.
pub fn mp4(len: usize) -> Vec<u8> {
    let mut mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    mp4.resize(len.max(32), 0);
    mp4
}

/// A `multipart/form-data` body.
#[derive(Debug, Clone)]
pub struct MultipartForm {
    boundary: String,
    body: Vec<u8>,
}

impl Default for MultipartForm {
    fn default() -> Self {
        Self::new()
    }
}

impl MultipartForm {
    /// An empty form.
    pub fn new() -> Self {
        Self {
            boundary: format!("plaza-test-{}", uuid::Uuid::now_v7().simple()),
            body: Vec::new(),
        }
    }

    /// A form with one `file` part.
    pub fn with_file(filename: &str, content_type: &str, bytes: &[u8]) -> Self {
        Self::new().file("file", filename, content_type, bytes)
    }

    /// Adds a file part with the given declared name and type.
    pub fn file(mut self, name: &str, filename: &str, content_type: &str, bytes: &[u8]) -> Self {
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                 Content-Type: {content_type}\r\n\r\n",
                self.boundary
            )
            .as_bytes(),
        );
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// Adds a text part.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n",
                self.boundary
            )
            .as_bytes(),
        );
        self
    }

    /// The request's `Content-Type`.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The finished body.
    pub fn into_body(mut self) -> Vec<u8> {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        self.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        let stream = zlib_stored(b"abc");
        assert_eq!(stream[stream.len() - 4..], 0x024d_0127u32.to_be_bytes());
    }

    #[test]
    fn pngs_have_the_asked_size_and_differ_by_seed() {
        let a = png(3, 2, 1);
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&a[16..24], &[0, 0, 0, 3, 0, 0, 0, 2]);
        assert_ne!(a, png(3, 2, 2));
    }
}
