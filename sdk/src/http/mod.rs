//! HTTP through the host: the only way a plugin reaches its platform.
//!
//! The host sends only to the manifest's allowed hosts, over https, to public
//! addresses, and caps sizes and counts; what it refuses comes back as an
//! [`HttpError`].
//!
//! ```no_run
//! # use plaza_sdk::{http, PluginError};
//! # fn run(token: &str) -> Result<(), PluginError> {
//! let response = http::Request::post("https://api.example.com/api/posts")
//!     .bearer(token)
//!     .header("Idempotency-Key", "k1")
//!     .json(&serde_json::json!({ "text": "Hello" }))?
//!     .send()?
//!     .error_for_status()?;
//! let created: serde_json::Value = response.json()?;
//! # Ok(()) }
//! ```

mod error;
mod status;

use std::fmt::{self, Display, Write as _};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::PluginError;

pub use error::HttpError;
pub use status::{error_for_response, retry_after_secs};

/// An HTTP request to send through the host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Request {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Vec<u8>>,
}

impl Request {
    /// A request with any method, e.g. `"PATCH"`.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// A `PUT` request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new("PUT", url)
    }

    /// A `PATCH` request.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new("PATCH", url)
    }

    /// A `DELETE` request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new("DELETE", url)
    }

    /// Adds a header; headers with the same name may repeat.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", format!("Bearer {token}"))
    }

    /// Appends a query parameter to the URL, percent-encoding name and value.
    pub fn query(mut self, name: &str, value: impl Display) -> Self {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        self.url.push(separator);
        self.url.push_str(&encode_component(name));
        self.url.push('=');
        self.url.push_str(&encode_component(&value.to_string()));
        self
    }

    /// Sets a JSON body and, unless already set, `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, PluginError> {
        let body = serde_json::to_vec(value).map_err(|error| {
            PluginError::Invalid(format!("the request body is not valid JSON: {error}"))
        })?;
        Ok(self.body_with_type(body, "application/json"))
    }

    /// Sets a form body (`application/x-www-form-urlencoded`), as OAuth2 token endpoints want.
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        let mut body = String::new();
        for (name, value) in fields {
            if !body.is_empty() {
                body.push('&');
            }
            body.push_str(&encode_component(name));
            body.push('=');
            body.push_str(&encode_component(value));
        }
        self.body_with_type(body.into_bytes(), "application/x-www-form-urlencoded")
    }

    /// Sets a raw body; set `Content-Type` yourself.
    pub fn bytes(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    fn body_with_type(self, body: Vec<u8>, content_type: &str) -> Self {
        let request = if self.header_value("content-type").is_some() {
            self
        } else {
            self.header("Content-Type", content_type)
        };
        request.bytes(body)
    }

    /// Sends the request through the host and waits for the whole response.
    pub fn send(self) -> Result<Response, HttpError> {
        crate::sys::http_send(self)
    }

    /// The method, e.g. `GET`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The full URL, query included.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every header in the order added.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The first header with this name, compared without regard to case.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body, if one was set.
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }

    /// The body as text (invalid UTF-8 replaced), empty when there is none.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(self.body().unwrap_or_default()).into_owned()
    }

    /// The body parsed as JSON; `None` when there is no body or it does not parse.
    pub fn body_json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(self.body()?).ok()
    }
}

/// An HTTP response: what the host received, or, in a webhook outcome and in
/// tests, what to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Every header as received.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with this status, no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON response.
    pub fn json_body(status: u16, value: &serde_json::Value) -> Self {
        Self::new(status)
            .with_header("Content-Type", "application/json")
            .with_body(value.to_string())
    }

    /// A plain-text response.
    pub fn text_body(status: u16, text: impl Into<String>) -> Self {
        Self::new(status)
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_body(text.into())
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header with this name, compared without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body parsed as JSON; a body that does not fit `T` is
    /// [`PluginError::Transient`] (the platform answered something unexpected).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.body).map_err(|error| {
            PluginError::Transient(format!(
                "unexpected answer from the platform (HTTP {}): {error}",
                self.status
            ))
        })
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The response itself when 2xx, else the [`PluginError`] its status means:
    /// see [`error_for_response`].
    pub fn error_for_status(self) -> Result<Self, PluginError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(error_for_response(&self))
        }
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Percent-encodes everything but RFC 3986 unreserved characters, for query
/// strings, form bodies and path segments.
pub fn encode_component(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

impl Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn query_parameters_are_encoded_and_joined() {
        let request = Request::get("https://a.example/api/mentions")
            .query("cursor", "a b&c")
            .query("limit", 20);
        assert_eq!(
            request.url(),
            "https://a.example/api/mentions?cursor=a%20b%26c&limit=20"
        );
    }

    #[test]
    fn json_sets_the_content_type_once() {
        let request = Request::post("https://a.example")
            .json(&json!({ "text": "hi" }))
            .unwrap();
        assert_eq!(
            request.header_value("content-type"),
            Some("application/json")
        );
        assert_eq!(
            request.body_json::<serde_json::Value>(),
            Some(json!({ "text": "hi" }))
        );

        let custom = Request::post("https://a.example")
            .header("Content-Type", "application/activity+json")
            .json(&json!({}))
            .unwrap();
        assert_eq!(custom.headers().len(), 1);
    }

    #[test]
    fn form_bodies_are_urlencoded() {
        let request = Request::post("https://a.example/token")
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "r/1+2")]);
        assert_eq!(
            request.body_text(),
            "grant_type=refresh_token&refresh_token=r%2F1%2B2"
        );
    }

    #[test]
    fn response_headers_are_case_insensitive() {
        let response = Response::text_body(200, "hi").with_header("Retry-After", "3");
        assert_eq!(response.header("retry-after"), Some("3"));
        assert_eq!(response.text(), "hi");
        assert!(response.is_success());
    }

    #[test]
    fn a_body_that_does_not_fit_is_transient() {
        let response = Response::text_body(200, "<html>");
        let error = response.json::<serde_json::Value>().unwrap_err();
        assert!(matches!(error, PluginError::Transient(_)));
    }
}
