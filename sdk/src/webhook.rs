//! Webhooks: requests a platform sends to Plaza, and what to make of them.

use crate::Item;
use crate::http::Response;

/// A request a platform sent to the channel's webhook URL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The path below the channel's webhook URL.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Every header as received.
    pub headers: Vec<(String, String)>,
    /// The raw body, for signature checks.
    pub body: Vec<u8>,
}

impl WebhookRequest {
    /// The first header with this name, compared without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What a webhook request meant: inbox items, and the answer the platform
/// expects when it wants a particular one (a PING wants a PONG).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookOutcome {
    /// New inbox items.
    pub items: Vec<Item>,
    /// The answer to send back; `None` lets the host answer `200 OK`.
    pub reply: Option<Response>,
}

impl WebhookOutcome {
    /// An outcome with these items and no particular answer.
    pub fn items(items: Vec<Item>) -> Self {
        Self { items, reply: None }
    }

    /// Sets the answer to send back.
    #[must_use]
    pub fn reply(mut self, reply: Response) -> Self {
        self.reply = Some(reply);
        self
    }
}
