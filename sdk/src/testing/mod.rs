//! A native stand-in for the Plaza host, so a plugin's logic runs under
//! plain `cargo test` with no wasm at all.
//!
//! Outside `wasm32` every facade ([`crate::http`], [`crate::log`],
//! [`crate::kv`], [`crate::credentials`], [`crate::clock`], [`crate::media`])
//! talks to a host kept per thread. [`TestHost::new`] resets it and hands back
//! a handle to script it and to read what the plugin did:
//!
//! ```
//! use plaza_sdk::http::{self, Response};
//! use plaza_sdk::testing::TestHost;
//! use serde_json::json;
//!
//! let host = TestHost::new();
//! host.credential("access_token", "t0ken")
//!     .on("GET", "https://api.example.com/api/me", Response::json_body(200, &json!({ "id": "1" })));
//!
//! let token = plaza_sdk::credentials::require("access_token").unwrap();
//! let me = http::Request::get("https://api.example.com/api/me").bearer(&token).send().unwrap();
//! assert_eq!(me.status, 200);
//! assert_eq!(
//!     host.last_request().unwrap().header_value("authorization"),
//!     Some("Bearer t0ken")
//! );
//! ```
//!
//! libtest runs each test on a thread of its own, so tests do not see each
//! other's host; call [`TestHost::new`] at the start of every test anyway.

pub(crate) mod sys;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::marker::PhantomData;
use std::rc::Rc;

use crate::http::{HttpError, Request, Response};
use crate::log::Level;

/// The clock of a fresh [`TestHost`]: 2023-11-14T22:13:20Z.
pub const DEFAULT_NOW_MS: u64 = 1_700_000_000_000;

/// What the host answers to one request.
type Reply = Result<Response, HttpError>;

/// One scripted answer to requests with this method and URL.
#[derive(Debug)]
struct Rule {
    method: String,
    url: String,
    reply: Reply,
}

/// One line the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// Its text.
    pub message: String,
}

/// Everything the test host holds for the current thread.
#[derive(Debug)]
struct State {
    rules: Vec<Rule>,
    queue: VecDeque<Reply>,
    requests: Vec<Request>,
    credentials: HashMap<String, String>,
    kv: BTreeMap<String, Vec<u8>>,
    now_ms: u64,
    logs: Vec<LogLine>,
    media: HashMap<String, Vec<u8>>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            queue: VecDeque::new(),
            requests: Vec::new(),
            credentials: HashMap::new(),
            kv: BTreeMap::new(),
            now_ms: DEFAULT_NOW_MS,
            logs: Vec::new(),
            media: HashMap::new(),
        }
    }
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> T {
    STATE.with(|state| f(&mut state.borrow_mut()))
}

/// A handle to this thread's test host. Setters return `&Self` to chain.
#[derive(Debug)]
pub struct TestHost {
    /// The host lives in a thread-local: a handle must not cross threads.
    _not_send: PhantomData<Rc<()>>,
}

impl Default for TestHost {
    fn default() -> Self {
        Self::new()
    }
}

impl TestHost {
    /// Resets this thread's host: no scripted replies, no requests, no
    /// credentials, an empty kv store, no logs, no media, the clock at
    /// [`DEFAULT_NOW_MS`].
    pub fn new() -> Self {
        with_state(|state| *state = State::default());
        Self {
            _not_send: PhantomData,
        }
    }

    /// Answers every `method` request to exactly `url` (query included) with
    /// `response`. A later rule for the same request wins over an earlier one.
    pub fn on(&self, method: &str, url: &str, response: Response) -> &Self {
        self.rule(method, url, Ok(response))
    }

    /// Fails every `method` request to exactly `url` with `error`.
    pub fn on_error(&self, method: &str, url: &str, error: HttpError) -> &Self {
        self.rule(method, url, Err(error))
    }

    fn rule(&self, method: &str, url: &str, reply: Reply) -> &Self {
        with_state(|state| {
            state.rules.push(Rule {
                method: method.to_ascii_uppercase(),
                url: url.to_owned(),
                reply,
            });
        });
        self
    }

    /// Queues `response` for the next request that no rule answers.
    pub fn push(&self, response: Response) -> &Self {
        with_state(|state| state.queue.push_back(Ok(response)));
        self
    }

    /// Queues `error` for the next request that no rule answers.
    pub fn push_error(&self, error: HttpError) -> &Self {
        with_state(|state| state.queue.push_back(Err(error)));
        self
    }

    /// Every request sent so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        with_state(|state| state.requests.clone())
    }

    /// The last request sent, if any.
    pub fn last_request(&self) -> Option<Request> {
        with_state(|state| state.requests.last().cloned())
    }

    /// Sets the credential `name` of the channel under test.
    pub fn credential(&self, name: &str, value: &str) -> &Self {
        with_state(|state| state.credentials.insert(name.to_owned(), value.to_owned()));
        self
    }

    /// Removes the credential `name`.
    pub fn remove_credential(&self, name: &str) -> &Self {
        with_state(|state| state.credentials.remove(name));
        self
    }

    /// Stores `value` under `key` in the plugin's kv store.
    pub fn kv_set(&self, key: &str, value: impl AsRef<[u8]>) -> &Self {
        with_state(|state| state.kv.insert(key.to_owned(), value.as_ref().to_vec()));
        self
    }

    /// The value under `key` in the plugin's kv store.
    pub fn kv_get(&self, key: &str) -> Option<Vec<u8>> {
        with_state(|state| state.kv.get(key).cloned())
    }

    /// Every key in the plugin's kv store, sorted.
    pub fn kv_keys(&self) -> Vec<String> {
        with_state(|state| state.kv.keys().cloned().collect())
    }

    /// Sets the clock.
    pub fn set_now_ms(&self, now_ms: u64) -> &Self {
        with_state(|state| state.now_ms = now_ms);
        self
    }

    /// Moves the clock forward.
    pub fn advance_ms(&self, ms: u64) -> &Self {
        with_state(|state| state.now_ms = state.now_ms.saturating_add(ms));
        self
    }

    /// Every line logged so far, in order.
    pub fn logs(&self) -> Vec<LogLine> {
        with_state(|state| state.logs.clone())
    }

    /// Attaches a media file the plugin can read with [`crate::media::read`].
    pub fn media(&self, id: &str, bytes: impl Into<Vec<u8>>) -> &Self {
        with_state(|state| state.media.insert(id.to_owned(), bytes.into()));
        self
    }
}

#[cfg(test)]
mod tests;
