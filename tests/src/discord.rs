//! A local fake of Discord's HTTP API (v10), for the Discord plugin's
//! end-to-end tests: no Discord server can run locally.
//!
//! It follows the public API reference where the plugin relies on it:
//!
//! - `Authorization: Bot <token>`, else 401 `{"message": "401: Unauthorized", "code": 0}`;
//! - error bodies `{code, message, errors}` with Discord's JSON error codes
//!   (10003 Unknown Channel, 10004 Unknown Guild, 10007 Unknown Member,
//!   10008 Unknown Message, 40005 Request entity too large, 50006 Cannot
//!   send an empty message, 50013 Missing Permissions, 50035 Invalid Form
//!   Body, 160004 thread already created);
//! - rate-limit headers on every answer (`X-RateLimit-Limit`, `-Remaining`,
//!   `-Reset`, `-Reset-After`, `-Bucket`), and 429s with `Retry-After`,
//!   `X-RateLimit-Scope` and `{message, retry_after, global}` once a
//!   bucket is used up;
//! - snowflake ids (milliseconds since 2015 in the top 42 bits);
//! - `nonce` + `enforce_nonce`: a repeated nonce from the same author
//!   within a few minutes answers the earlier message and creates nothing;
//! - messages in JSON or `multipart/form-data` (`payload_json`, `files[n]`);
//! - `GET …/messages` by `after`/`before`, newest first, `limit` 1–100;
//! - threads started from a message take the message's id.
//!
//! Tests script failures ([`FakeDiscord::fail_next`]) and other users'
//! messages ([`FakeDiscord::say`]), and sign interactions as Discord does
//! ([`FakeDiscord::signed_interaction`]).

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The bot token the fake accepts.
pub const TOKEN: &str = "MTE3NjU0ODkxMTA0MDU2NTI1OA.Gplaza.fake-bot-token";
/// The bot's user id.
pub const BOT_ID: &str = "1176548911040565258";
/// The guild (server).
pub const GUILD_ID: &str = "1176548911040565001";
/// The text channel the plugin posts to.
pub const CHANNEL_ID: &str = "1176548911040565002";
/// A member who writes to the channel.
pub const READER_ID: &str = "1176548911040565100";

/// Discord's epoch (2015-01-01) in Unix milliseconds.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
/// How long a nonce is remembered with `enforce_nonce` ("the past few minutes").
const NONCE_WINDOW: Duration = Duration::from_secs(5 * 60);
/// The largest upload of a server without boosts.
const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// The rate-limit window of every bucket.
const WINDOW: Duration = Duration::from_secs(5);

/// A failure to answer instead of (or after) doing the work.
#[derive(Debug, Clone)]
pub enum Failure {
    /// 429 with this `retry_after` (float seconds); nothing is done.
    RateLimited {
        /// Seconds to wait.
        retry_after: f64,
        /// Whether it is the global limit.
        global: bool,
    },
    /// This status with a Discord error body; nothing is done.
    Status(u16, i64, &'static str),
    /// The work is done, then this status is answered (a connection that
    /// broke after the message was made).
    AfterCommit(u16),
}

/// A request the fake received with a valid token.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`...
    pub method: String,
    /// The path below `/api/v10`.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// Headers, names in lower case.
    pub headers: HashMap<String, String>,
    /// The JSON body (or `payload_json` of a multipart body).
    pub json: Value,
    /// Files of a multipart body: (field name, filename, bytes).
    pub files: Vec<(String, String, Vec<u8>)>,
}

/// What the fake knows.
#[derive(Debug)]
pub struct DiscordState {
    /// The token it accepts.
    pub token: String,
    /// Users by id.
    pub users: HashMap<String, Value>,
    /// Guild members (user id → member), the bot included.
    pub members: HashMap<String, Value>,
    /// Bans (user id → ban).
    pub bans: HashMap<String, Value>,
    /// Channels and threads by id.
    pub channels: BTreeMap<String, Value>,
    /// Every message by snowflake.
    pub messages: BTreeMap<u64, Value>,
    /// Deleted message ids.
    pub deleted: Vec<String>,
    /// (author, nonce) → (message id, when).
    nonces: HashMap<(String, String), (u64, Instant)>,
    /// Whether the bot may delete others' messages, ban, time out.
    pub can_manage_messages: bool,
    /// Ban Members.
    pub can_ban: bool,
    /// Moderate Members.
    pub can_moderate: bool,
    /// Requests per bucket window.
    pub bucket_limit: u32,
    /// Bucket → (window start, requests counted); clear it to start afresh.
    pub buckets: HashMap<String, (Instant, u32)>,
    /// Scripted failures: (method, path) → failures, first first.
    script: Vec<(String, String, Failure)>,
    /// Every authorized request, in order.
    pub requests: Vec<Recorded>,
    last_snowflake: u64,
}

/// A running fake Discord.
#[derive(Debug, Clone)]
pub struct FakeDiscord {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its state, for arranging and asserting.
    pub state: Arc<Mutex<DiscordState>>,
    application_key: Arc<SigningKey>,
}

fn user(id: &str, username: &str, global_name: &str, bot: bool) -> Value {
    json!({
        "id": id,
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": null,
        "bot": bot,
    })
}

impl FakeDiscord {
    /// Starts the fake on a free loopback port: a guild with the text
    /// channel, the bot and one reader as members.
    pub fn start() -> Self {
        let bot = user(BOT_ID, "plaza-bot", "Plaza", true);
        let reader = user(READER_ID, "rita", "Rita Reader", false);
        let member = |u: &Value| json!({ "user": u, "nick": null, "roles": [], "joined_at": now_iso(), "communication_disabled_until": null });
        let state = DiscordState {
            token: TOKEN.to_owned(),
            members: HashMap::from([
                (BOT_ID.to_owned(), member(&bot)),
                (READER_ID.to_owned(), member(&reader)),
            ]),
            users: HashMap::from([(BOT_ID.to_owned(), bot), (READER_ID.to_owned(), reader)]),
            bans: HashMap::new(),
            channels: BTreeMap::from([(
                CHANNEL_ID.to_owned(),
                json!({ "id": CHANNEL_ID, "type": 0, "guild_id": GUILD_ID, "name": "general", "position": 0 }),
            )]),
            messages: BTreeMap::new(),
            deleted: Vec::new(),
            nonces: HashMap::new(),
            can_manage_messages: true,
            can_ban: true,
            can_moderate: true,
            bucket_limit: 50,
            buckets: HashMap::new(),
            script: Vec::new(),
            requests: Vec::new(),
            last_snowflake: 0,
        };
        let state = Arc::new(Mutex::new(state));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake discord");
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let shared = web::Data::from(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .default_service(web::to(handle))
        })
        .workers(2)
        .listen(listener)
        .expect("listen")
        .run();
        actix_web::rt::spawn(server);
        Self {
            url,
            state,
            application_key: Arc::new(SigningKey::from_bytes(&[42; 32])),
        }
    }

    /// The API base URL a channel is configured with.
    pub fn api_url(&self) -> String {
        format!("{}/api/v10", self.url)
    }

    /// The channel configuration that points the plugin here.
    pub fn config(&self) -> Value {
        json!({
            "channel_id": CHANNEL_ID,
            "guild_id": GUILD_ID,
            "api_base_url": self.api_url(),
            "public_key": self.public_key_hex(),
        })
    }

    /// Queues a failure for the next request with this method and path
    /// (below `/api/v10`, e.g. `/channels/{id}/messages`).
    pub fn fail_next(&self, method: &str, path: &str, failure: Failure) {
        self.lock()
            .script
            .push((method.to_owned(), path.to_owned(), failure));
    }

    /// Another user writes `content` in `channel_id`, optionally replying to
    /// a message there; answers the message id. `<@id>` mentions are parsed
    /// as Discord does.
    pub fn say(
        &self,
        author_id: &str,
        channel_id: &str,
        content: &str,
        reply_to: Option<&str>,
    ) -> String {
        let mut state = self.lock();
        let reference = reply_to
            .map(|id| json!({ "message_id": id, "channel_id": channel_id, "guild_id": GUILD_ID }));
        let message = state.create(
            channel_id,
            author_id,
            content,
            reference,
            None,
            &json!([]),
            &json!([]),
            0,
        );
        message["id"].as_str().expect("id").to_owned()
    }

    /// The messages of a channel or thread, oldest first.
    pub fn messages_in(&self, channel_id: &str) -> Vec<Value> {
        self.lock()
            .messages
            .values()
            .filter(|m| m["channel_id"] == channel_id)
            .cloned()
            .collect()
    }

    /// Authorized requests with this method and path.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .cloned()
            .collect()
    }

    /// The application's public key, hex, as the Developer Portal shows it.
    pub fn public_key_hex(&self) -> String {
        hex(self.application_key.verifying_key().as_bytes())
    }

    /// The headers Discord sends with an interaction: the Ed25519
    /// signature of `timestamp + body` and the timestamp.
    pub fn signed_interaction(&self, body: &[u8]) -> Vec<(String, String)> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("time")
            .as_secs()
            .to_string();
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        let signature = self.application_key.sign(&message);
        vec![
            ("X-Signature-Ed25519".to_owned(), hex(&signature.to_bytes())),
            ("X-Signature-Timestamp".to_owned(), timestamp),
            ("Content-Type".to_owned(), "application/json".to_owned()),
        ]
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DiscordState> {
        self.state.lock().expect("state")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, false)
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("time")
            .as_millis(),
    )
    .expect("ms")
}

impl DiscordState {
    /// The next snowflake: time since Discord's epoch, worker 1, increment.
    fn snowflake(&mut self) -> u64 {
        let candidate = ((now_ms() - DISCORD_EPOCH_MS) << 22) | (1 << 17);
        self.last_snowflake = candidate.max(self.last_snowflake + 1);
        self.last_snowflake
    }

    /// Makes a message and answers it.
    #[expect(clippy::too_many_arguments, reason = "a message has that many parts")]
    fn create(
        &mut self,
        channel_id: &str,
        author_id: &str,
        content: &str,
        reference: Option<Value>,
        nonce: Option<Value>,
        embeds: &Value,
        attachments: &Value,
        flags: u64,
    ) -> Value {
        let id = self.snowflake();
        let mentions: Vec<Value> = self
            .users
            .iter()
            .filter(|(uid, _)| content.contains(&format!("<@{uid}>")))
            .map(|(_, u)| u.clone())
            .collect();
        let mut message = json!({
            "id": id.to_string(),
            "channel_id": channel_id,
            "author": self.users.get(author_id).cloned().unwrap_or_else(|| user(author_id, "someone", "Someone", false)),
            "content": content,
            "timestamp": now_iso(),
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": attachments,
            "embeds": embeds,
            "pinned": false,
            "type": 0,
            "flags": flags,
        });
        if let Some(nonce) = nonce {
            message["nonce"] = nonce;
        }
        if let Some(reference) = reference {
            let referenced = reference["message_id"]
                .as_str()
                .and_then(|m| m.parse::<u64>().ok())
                .and_then(|m| self.messages.get(&m).cloned());
            message["type"] = json!(19);
            message["message_reference"] = reference;
            message["referenced_message"] = referenced.unwrap_or(Value::Null);
        }
        self.messages.insert(id, message.clone());
        message
    }

    /// Counts a request against its bucket; answers the headers to send and
    /// whether the bucket was already used up.
    fn count(&mut self, bucket: &str) -> (Vec<(String, String)>, Option<f64>) {
        let now = Instant::now();
        let entry = self.buckets.entry(bucket.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        let reset_after = (WINDOW - now.duration_since(entry.0)).as_secs_f64();
        let over = entry.1 >= self.bucket_limit;
        if !over {
            entry.1 += 1;
        }
        let remaining = self.bucket_limit.saturating_sub(entry.1);
        let reset_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("time")
            .as_secs_f64()
            + reset_after;
        let digest = Sha256::digest(bucket.as_bytes());
        let headers = vec![
            (
                "X-RateLimit-Limit".to_owned(),
                self.bucket_limit.to_string(),
            ),
            ("X-RateLimit-Remaining".to_owned(), remaining.to_string()),
            ("X-RateLimit-Reset".to_owned(), format!("{reset_at:.3}")),
            (
                "X-RateLimit-Reset-After".to_owned(),
                format!("{reset_after:.3}"),
            ),
            ("X-RateLimit-Bucket".to_owned(), hex(&digest[..8])),
        ];
        (headers, over.then_some(reset_after))
    }
}

type Shared = web::Data<Mutex<DiscordState>>;

/// A Discord error body.
fn error(status: u16, code: i64, message: &str) -> (StatusCode, Value) {
    (
        StatusCode::from_u16(status).expect("status"),
        json!({ "message": message, "code": code }),
    )
}

/// 50035 Invalid Form Body with one field error.
fn form_error(field: &str, code: &str, message: &str) -> (StatusCode, Value) {
    let mut errors = json!({ "_errors": [{ "code": code, "message": message }] });
    for part in field.rsplit('.') {
        errors = json!({ part: errors });
    }
    (
        StatusCode::BAD_REQUEST,
        json!({ "code": 50035, "message": "Invalid Form Body", "errors": errors }),
    )
}

fn respond(status: StatusCode, body: Option<&Value>, headers: &[(String, String)]) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    for (name, value) in headers {
        response.insert_header((name.as_str(), value.as_str()));
    }
    match body {
        Some(body) => response.json(body),
        None => response.finish(),
    }
}

/// The route's bucket: method, the path with ids other than the top-level
/// resource (channel or guild) replaced.
fn bucket_of(method: &str, segments: &[&str]) -> String {
    let route: Vec<&str> = segments
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let top = n == 1 && matches!(segments.first(), Some(&"channels" | &"guilds"));
            if !top && s.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect();
    format!("{method} /{}", route.join("/"))
}

async fn handle(req: HttpRequest, body: web::Bytes, state: Shared) -> HttpResponse {
    let Some(path) = req.path().strip_prefix("/api/v10") else {
        return respond(
            StatusCode::NOT_FOUND,
            Some(&json!({"message": "404: Not Found", "code": 0})),
            &[],
        );
    };
    let path = path.to_owned();
    let method = req.method().as_str().to_owned();
    let mut state = state.lock().expect("state");
    let authorized = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bot {}", state.token));
    if !authorized {
        return respond(
            StatusCode::UNAUTHORIZED,
            Some(&json!({"message": "401: Unauthorized", "code": 0})),
            &[],
        );
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (headers, exhausted) = state.count(&bucket_of(&method, &segments));
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (json_body, files) = match parse_body(&content_type, &body) {
        Ok(parsed) => parsed,
        Err(problem) => return respond(problem.0, Some(&problem.1), &headers),
    };
    state.requests.push(Recorded {
        method: method.clone(),
        path: path.clone(),
        query: req.query_string().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        json: json_body.clone(),
        files: files.clone(),
    });
    if let Some(retry_after) = exhausted {
        return rate_limited(&headers, retry_after, false);
    }
    let scripted = state
        .script
        .iter()
        .position(|(m, p, _)| *m == method && *p == path)
        .map(|n| state.script.remove(n).2);
    let after_commit = match scripted {
        Some(Failure::RateLimited {
            retry_after,
            global,
        }) => {
            return rate_limited(&headers, retry_after, global);
        }
        Some(Failure::Status(status, code, message)) => {
            let (status, body) = error(status, code, message);
            return respond(status, Some(&body), &headers);
        }
        Some(Failure::AfterCommit(status)) => Some(status),
        None => None,
    };
    // The plugin's queries are ids, numbers and `true`: nothing to decode.
    let query: HashMap<String, String> = req
        .query_string()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let (status, answer) = route(&mut state, &method, &segments, &query, &json_body, &files);
    if let Some(status) = after_commit {
        let (status, body) = error(status, 0, "upstream connect error");
        return respond(status, Some(&body), &headers);
    }
    respond(status, answer.as_ref(), &headers)
}

fn rate_limited(headers: &[(String, String)], retry_after: f64, global: bool) -> HttpResponse {
    let mut headers = headers.to_vec();
    headers.push(("Retry-After".to_owned(), format!("{}", retry_after.ceil())));
    headers.push((
        "X-RateLimit-Scope".to_owned(),
        if global { "global" } else { "user" }.to_owned(),
    ));
    if global {
        headers.push(("X-RateLimit-Global".to_owned(), "true".to_owned()));
    }
    respond(
        StatusCode::TOO_MANY_REQUESTS,
        Some(
            &json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": global }),
        ),
        &headers,
    )
}

type Files = Vec<(String, String, Vec<u8>)>;

/// The JSON body, or a multipart body's `payload_json` and files.
fn parse_body(content_type: &str, body: &[u8]) -> Result<(Value, Files), (StatusCode, Value)> {
    if body.is_empty() {
        return Ok((Value::Null, Vec::new()));
    }
    if let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
    {
        return parse_multipart(boundary.trim_matches('"'), body);
    }
    serde_json::from_slice(body)
        .map(|json| (json, Vec::new()))
        .map_err(|_| error(400, 50109, "The request body contains invalid JSON."))
}

fn parse_multipart(boundary: &str, body: &[u8]) -> Result<(Value, Files), (StatusCode, Value)> {
    let delimiter = format!("--{boundary}");
    let mut payload = Value::Null;
    let mut files = Vec::new();
    let bad = || error(400, 50035, "Invalid Form Body");
    for part in split(body, delimiter.as_bytes()).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").ok_or_else(bad)?;
        let split_at = find(part, b"\r\n\r\n").ok_or_else(bad)?;
        let head = String::from_utf8_lossy(&part[..split_at]).to_string();
        let mut content = &part[split_at + 4..];
        content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let field = |key: &str| {
            head.split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(&format!("{key}=\"")))
                .and_then(|v| v.split('"').next())
                .map(str::to_owned)
        };
        let name = field("name").ok_or_else(bad)?;
        if name == "payload_json" {
            payload = serde_json::from_slice(content).map_err(|_| bad())?;
        } else {
            files.push((
                name,
                field("filename").unwrap_or_default(),
                content.to_vec(),
            ));
        }
    }
    Ok((payload, files))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(body, delimiter) {
        parts.push(&body[..at]);
        body = &body[at + delimiter.len()..];
    }
    parts.push(body);
    parts
}

fn route(
    state: &mut DiscordState,
    method: &str,
    segments: &[&str],
    query: &HashMap<String, String>,
    body: &Value,
    files: &[(String, String, Vec<u8>)],
) -> (StatusCode, Option<Value>) {
    let found = |(status, body): (StatusCode, Value)| (status, Some(body));
    match (method, segments) {
        ("GET", ["users", "@me"]) => (StatusCode::OK, state.users.get(BOT_ID).cloned()),
        ("GET", ["channels", channel]) => match state.channels.get(*channel) {
            Some(channel) => (StatusCode::OK, Some(channel.clone())),
            None => found(error(404, 10003, "Unknown Channel")),
        },
        ("GET", ["guilds", guild]) if *guild == GUILD_ID => {
            let mut guild = json!({ "id": GUILD_ID, "name": "Acme Coffee", "owner_id": READER_ID });
            if query.get("with_counts").is_some_and(|v| v == "true") {
                guild["approximate_member_count"] = json!(state.members.len());
                guild["approximate_presence_count"] = json!(1);
            }
            (StatusCode::OK, Some(guild))
        }
        ("GET", ["guilds", _]) => found(error(404, 10004, "Unknown Guild")),
        ("POST", ["channels", channel, "messages"]) => {
            found(create_message(state, channel, body, files))
        }
        ("GET", ["channels", channel, "messages"]) => found(list_messages(state, channel, query)),
        ("GET", ["channels", channel, "messages", message]) => {
            match message_in(state, channel, message) {
                Ok(message) => (StatusCode::OK, Some(message)),
                Err(problem) => found(problem),
            }
        }
        ("DELETE", ["channels", channel, "messages", message]) => {
            match delete_message(state, channel, message) {
                Ok(()) => (StatusCode::NO_CONTENT, None),
                Err(problem) => found(problem),
            }
        }
        ("POST", ["channels", channel, "messages", message, "threads"]) => {
            found(start_thread(state, channel, message, body))
        }
        ("PATCH", ["guilds", guild, "members", member]) if *guild == GUILD_ID => {
            found(modify_member(state, member, body))
        }
        ("PUT", ["guilds", guild, "bans", member]) if *guild == GUILD_ID => {
            match ban(state, member, body) {
                Ok(()) => (StatusCode::NO_CONTENT, None),
                Err(problem) => found(problem),
            }
        }
        _ => found(error(404, 0, "404: Not Found")),
    }
}

fn message_in(
    state: &DiscordState,
    channel: &str,
    message: &str,
) -> Result<Value, (StatusCode, Value)> {
    if !state.channels.contains_key(channel) {
        return Err(error(404, 10003, "Unknown Channel"));
    }
    message
        .parse::<u64>()
        .ok()
        .and_then(|id| state.messages.get(&id))
        .filter(|m| m["channel_id"] == channel)
        .cloned()
        .ok_or_else(|| error(404, 10008, "Unknown Message"))
}

fn create_message(
    state: &mut DiscordState,
    channel: &str,
    body: &Value,
    files: &[(String, String, Vec<u8>)],
) -> (StatusCode, Value) {
    if !state.channels.contains_key(channel) {
        return error(404, 10003, "Unknown Channel");
    }
    let content = body["content"].as_str().unwrap_or_default().to_owned();
    if content.chars().count() > 2000 {
        return form_error(
            "content",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        );
    }
    let embeds = body.get("embeds").cloned().unwrap_or(json!([]));
    if embeds.as_array().is_some_and(|e| e.len() > 10) {
        return form_error(
            "embeds",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 10 or fewer in length.",
        );
    }
    if files.len() > 10 {
        return form_error(
            "files",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 10 or fewer in length.",
        );
    }
    if files
        .iter()
        .any(|(_, _, bytes)| bytes.len() > MAX_UPLOAD_BYTES)
    {
        return error(413, 40005, "Request entity too large");
    }
    let nonce = body.get("nonce").filter(|n| !n.is_null()).cloned();
    if nonce
        .as_ref()
        .and_then(Value::as_str)
        .is_some_and(|n| n.chars().count() > 25)
    {
        return form_error(
            "nonce",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 25 or fewer in length.",
        );
    }
    let no_embeds = embeds.as_array().is_none_or(Vec::is_empty);
    if content.is_empty() && no_embeds && files.is_empty() {
        return error(400, 50006, "Cannot send an empty message");
    }
    // enforce_nonce: the same author's nonce within a few minutes answers
    // the earlier message.
    let nonce_key = nonce
        .as_ref()
        .filter(|_| body["enforce_nonce"] == true)
        .map(|n| {
            (
                BOT_ID.to_owned(),
                n.as_str().map_or_else(|| n.to_string(), str::to_owned),
            )
        });
    if let Some(key) = &nonce_key
        && let Some((id, at)) = state.nonces.get(key)
        && at.elapsed() < NONCE_WINDOW
        && let Some(earlier) = state.messages.get(id)
    {
        return (StatusCode::OK, earlier.clone());
    }
    let reference = body
        .get("message_reference")
        .filter(|r| !r.is_null())
        .cloned();
    if let Some(reference) = &reference {
        let target_channel = reference["channel_id"].as_str().unwrap_or(channel);
        let exists = reference["message_id"]
            .as_str()
            .is_some_and(|m| message_in(state, target_channel, m).is_ok());
        if !exists && reference["fail_if_not_exists"] != false {
            return form_error(
                "message_reference",
                "REPLIES_UNKNOWN_MESSAGE",
                "Unknown message",
            );
        }
    }
    let described = body
        .get("attachments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut attachments = Vec::new();
    for (n, (_, filename, bytes)) in files.iter().enumerate() {
        let id = state.snowflake();
        let meta = described
            .iter()
            .find(|a| a["id"] == json!(n))
            .cloned()
            .unwrap_or(Value::Null);
        attachments.push(json!({
            "id": id.to_string(),
            "filename": meta["filename"].as_str().unwrap_or(filename),
            "description": meta["description"],
            "size": bytes.len(),
            "url": format!("https://cdn.discordapp.com/attachments/{channel}/{id}/{filename}"),
            "proxy_url": format!("https://media.discordapp.net/attachments/{channel}/{id}/{filename}"),
        }));
    }
    let flags = body["flags"].as_u64().unwrap_or(0);
    let message = state.create(
        channel,
        BOT_ID,
        &content,
        reference,
        nonce,
        &embeds,
        &Value::Array(attachments),
        flags,
    );
    if let (Some(key), Some(id)) = (
        nonce_key,
        message["id"].as_str().and_then(|i| i.parse().ok()),
    ) {
        state.nonces.insert(key, (id, Instant::now()));
    }
    (StatusCode::OK, message)
}

fn list_messages(
    state: &DiscordState,
    channel: &str,
    query: &HashMap<String, String>,
) -> (StatusCode, Value) {
    if !state.channels.contains_key(channel) {
        return error(404, 10003, "Unknown Channel");
    }
    let limit = match query.get("limit").map(|l| l.parse::<usize>()) {
        None => 50,
        Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
        Some(_) => {
            return form_error(
                "limit",
                "NUMBER_TYPE_MAX",
                "int value should be less than or equal to 100.",
            );
        }
    };
    let bound = |key: &str| query.get(key).and_then(|v| v.parse::<u64>().ok());
    let in_channel = state
        .messages
        .iter()
        .filter(|(_, m)| m["channel_id"] == channel);
    let mut page: Vec<Value> = if let Some(after) = bound("after") {
        // The messages right after `after`, then newest first.
        in_channel
            .filter(|(id, _)| **id > after)
            .take(limit)
            .map(|(_, m)| m.clone())
            .collect()
    } else {
        let before = bound("before").unwrap_or(u64::MAX);
        let mut newest: Vec<Value> = in_channel
            .filter(|(id, _)| **id < before)
            .rev()
            .take(limit)
            .map(|(_, m)| m.clone())
            .collect();
        newest.reverse();
        newest
    };
    page.reverse();
    (StatusCode::OK, Value::Array(page))
}

fn delete_message(
    state: &mut DiscordState,
    channel: &str,
    message: &str,
) -> Result<(), (StatusCode, Value)> {
    let found = message_in(state, channel, message)?;
    if found["author"]["id"] != BOT_ID && !state.can_manage_messages {
        return Err(error(403, 50013, "Missing Permissions"));
    }
    let id = message
        .parse::<u64>()
        .map_err(|_| error(404, 10008, "Unknown Message"))?;
    state.messages.remove(&id);
    state.deleted.push(message.to_owned());
    Ok(())
}

fn start_thread(
    state: &mut DiscordState,
    channel: &str,
    message: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let starter = match message_in(state, channel, message) {
        Ok(starter) => starter,
        Err(problem) => return problem,
    };
    if state.channels.contains_key(message) {
        return error(
            400,
            160_004,
            "A thread has already been created for this message",
        );
    }
    let name = body["name"].as_str().unwrap_or_default();
    if name.is_empty() || name.chars().count() > 100 {
        return form_error(
            "name",
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 100 in length.",
        );
    }
    let thread = json!({
        "id": message,
        "type": 11,
        "guild_id": GUILD_ID,
        "parent_id": channel,
        "owner_id": BOT_ID,
        "name": name,
        "message_count": 0,
        "member_count": 1,
        "thread_metadata": {
            "archived": false,
            "auto_archive_duration": body["auto_archive_duration"].as_u64().unwrap_or(4320),
            "archive_timestamp": now_iso(),
            "locked": false
        }
    });
    state.channels.insert(message.to_owned(), thread.clone());
    if let Ok(id) = message.parse::<u64>()
        && let Some(starter) = state.messages.get_mut(&id)
    {
        starter["thread"] = thread.clone();
    }
    // The thread opens with a THREAD_STARTER_MESSAGE pointing at its message.
    let reference = json!({ "message_id": message, "channel_id": channel, "guild_id": GUILD_ID });
    let author = starter["author"]["id"]
        .as_str()
        .unwrap_or(BOT_ID)
        .to_owned();
    let opener = state.create(
        message,
        &author,
        "",
        Some(reference),
        None,
        &json!([]),
        &json!([]),
        0,
    );
    if let Some(id) = opener["id"].as_str().and_then(|i| i.parse::<u64>().ok())
        && let Some(opener) = state.messages.get_mut(&id)
    {
        opener["type"] = json!(21);
    }
    (StatusCode::CREATED, thread)
}

fn modify_member(state: &mut DiscordState, member: &str, body: &Value) -> (StatusCode, Value) {
    if !state.members.contains_key(member) {
        return error(404, 10007, "Unknown Member");
    }
    if !state.can_moderate {
        return error(403, 50013, "Missing Permissions");
    }
    if let Some(until) = body.get("communication_disabled_until") {
        if let Some(text) = until.as_str() {
            let Ok(at) = DateTime::parse_from_rfc3339(text) else {
                return form_error(
                    "communication_disabled_until",
                    "DATE_TIME_TYPE_PARSE",
                    "Could not parse date.",
                );
            };
            if at.with_timezone(&Utc) > Utc::now() + chrono::Duration::days(28) {
                return form_error(
                    "communication_disabled_until",
                    "COMMUNICATION_DISABLED_UNTIL_TOO_LONG",
                    "Timeouts may be at most 28 days.",
                );
            }
        }
        if let Some(entry) = state.members.get_mut(member) {
            entry["communication_disabled_until"] = until.clone();
        }
    }
    (
        StatusCode::OK,
        state.members.get(member).cloned().unwrap_or(Value::Null),
    )
}

fn ban(state: &mut DiscordState, member: &str, body: &Value) -> Result<(), (StatusCode, Value)> {
    if !state.can_ban {
        return Err(error(403, 50013, "Missing Permissions"));
    }
    let seconds = body["delete_message_seconds"].as_u64().unwrap_or(0);
    if seconds > 604_800 {
        return Err(form_error(
            "delete_message_seconds",
            "NUMBER_TYPE_MAX",
            "int value should be less than or equal to 604800.",
        ));
    }
    let banned = state
        .users
        .get(member)
        .cloned()
        .unwrap_or_else(|| user(member, "unknown", "Unknown", false));
    state
        .bans
        .insert(member.to_owned(), json!({ "user": banned, "reason": null }));
    state.members.remove(member);
    Ok(())
}
