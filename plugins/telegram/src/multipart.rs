//! `multipart/form-data` bodies (RFC 7578) for the Bot API's uploads: the
//! SDK's request builder has JSON and form bodies only, and files must go
//! up as multipart ("Sending files" in the API reference).

use std::fmt::Write as _;

/// A form being built: text fields and files, in order.
#[derive(Debug, Clone, Default)]
pub struct Form {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
struct Part {
    name: String,
    file: Option<(String, String)>,
    bytes: Vec<u8>,
}

impl Form {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a text field.
    #[must_use]
    pub fn text(mut self, name: &str, value: impl Into<String>) -> Self {
        self.parts.push(Part {
            name: name.to_owned(),
            file: None,
            bytes: value.into().into_bytes(),
        });
        self
    }

    /// Adds a file field with its file name and MIME type.
    #[must_use]
    pub fn file(mut self, name: &str, filename: &str, mime: &str, bytes: Vec<u8>) -> Self {
        self.parts.push(Part {
            name: name.to_owned(),
            file: Some((filename.to_owned(), mime.to_owned())),
            bytes,
        });
        self
    }

    /// The `Content-Type` header value and the body. The boundary is
    /// lengthened until no part contains it.
    pub fn finish(self, seed: u64) -> (String, Vec<u8>) {
        let mut boundary = format!("plaza-telegram-{seed:x}");
        while self
            .parts
            .iter()
            .any(|p| contains(&p.bytes, boundary.as_bytes()))
        {
            boundary.push('x');
        }
        let mut body = Vec::new();
        for part in self.parts {
            let mut head = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"",
                quoted(&part.name)
            );
            match &part.file {
                Some((filename, mime)) => {
                    // Writing to a String cannot fail.
                    let _ = write!(
                        head,
                        "; filename=\"{}\"\r\nContent-Type: {mime}\r\n\r\n",
                        quoted(filename)
                    );
                }
                None => head.push_str("\r\n\r\n"),
            }
            body.extend_from_slice(head.as_bytes());
            body.extend_from_slice(&part.bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }
}

/// A name safe inside a quoted header parameter.
fn quoted(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '"' | '\r' | '\n' | '\\'))
        .collect()
}

/// Whether `needle` occurs in `haystack`; compares only where the first
/// byte matches, so megabytes of media are scanned cheaply.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return false;
    };
    haystack.iter().enumerate().any(|(at, &byte)| {
        byte == first
            && haystack
                .get(at + 1..at + 1 + rest.len())
                .is_some_and(|tail| tail == rest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_delimited_and_the_boundary_avoids_the_content() {
        let seed = 0xabc;
        let clash = format!("--plaza-telegram-{seed:x}");
        let (content_type, body) = Form::new()
            .text("chat_id", "@acme_news")
            .file("photo", "a\"b.png", "image/png", clash.clone().into_bytes())
            .finish(seed);
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap_or_default();
        assert_eq!(boundary, "plaza-telegram-abcx", "lengthened past the clash");
        let body = String::from_utf8(body).unwrap_or_default();
        assert_eq!(
            body,
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n@acme_news\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"ab.png\"\r\n\
                 Content-Type: image/png\r\n\r\n{clash}\r\n--{boundary}--\r\n"
            )
        );
        assert!(contains(b"xxabcxx", b"abc"));
        assert!(!contains(b"xxabxcx", b"abc"));
        assert!(!contains(b"ab", b"abc"));
    }
}
