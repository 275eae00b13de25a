//! The body of a media upload: `multipart/form-data` (RFC 7578), which
//! `POST /api/v2/media` takes and the SDK does not build.

use plaza_sdk::clock;

/// A file to upload with its alt text.
#[derive(Debug, Clone)]
pub struct Upload<'a> {
    /// The bytes.
    pub bytes: &'a [u8],
    /// Its MIME type.
    pub mime: &'a str,
    /// A file name (the instance looks at its extension too).
    pub filename: String,
    /// Alt text (`description`).
    pub description: Option<&'a str>,
}

impl Upload<'_> {
    /// The `multipart/form-data` body (RFC 7578) with its `Content-Type`.
    pub fn multipart(&self) -> (String, Vec<u8>) {
        let boundary = self.boundary();
        let mut body = Vec::with_capacity(self.bytes.len() + 512);
        if let Some(description) = self.description {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"description\"\r\n\
                     Content-Type: text/plain; charset=utf-8\r\n\r\n{description}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
                 Content-Type: {}\r\n\r\n",
                self.filename.replace(['"', '\r', '\n'], "_"),
                self.mime
            )
            .as_bytes(),
        );
        body.extend_from_slice(self.bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }

    /// A boundary that occurs nowhere in the parts.
    fn boundary(&self) -> String {
        let mut seed = clock::now_ms() ^ (self.bytes.len() as u64).rotate_left(32);
        loop {
            let boundary = format!("plaza-boundary-{seed:016x}");
            let needle = boundary.as_bytes();
            let clashes = self
                .bytes
                .windows(needle.len())
                .any(|window| window == needle)
                || self
                    .description
                    .is_some_and(|text| text.contains(boundary.as_str()));
            if !clashes {
                return boundary;
            }
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use plaza_sdk::testing::TestHost;

    use super::Upload;

    #[test]
    fn the_boundary_never_occurs_in_the_file() {
        let _host = TestHost::new();
        let probe = Upload {
            bytes: &[0; 64],
            mime: "image/png",
            filename: "a.png".into(),
            description: None,
        };
        let first = probe.boundary();
        // A file that happens to contain that boundary gets another one.
        let mut bytes = vec![0_u8; 10];
        bytes.extend_from_slice(first.as_bytes());
        bytes.resize(64, 0);
        let clashing = Upload {
            bytes: &bytes,
            ..probe
        };
        let (content_type, body) = clashing.multipart();
        let boundary = content_type.rsplit('=').next().unwrap_or_default();
        assert_ne!(boundary, first);
        let text = String::from_utf8_lossy(&body);
        assert_eq!(text.matches(&format!("--{boundary}")).count(), 2);
    }
}
