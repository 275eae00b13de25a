//! A local fake of the Telegram Bot API, built from its public reference
//! (core.telegram.org/bots/api), for the Telegram plugin's end-to-end tests:
//! no Telegram server can run here.
//!
//! It answers as the real one does: `POST|GET /bot<token>/<method>` with
//! parameters as JSON, a query string or `multipart/form-data` (files),
//! `{"ok": true, "result": …}` on success and `{"ok": false, "error_code":
//! …, "description": "…", "parameters": {…}}` on failure, with the HTTP
//! status mirroring `error_code`:
//!
//! - a wrong token is 401 `Unauthorized`, an unknown method 404 `Not Found`;
//! - an unknown chat is 400 `Bad Request: chat not found`, a missing message
//!   `Bad Request: message to delete not found` or `message to be replied not
//!   found`;
//! - HTML (`parse_mode: "HTML"`) is parsed: an unsupported tag is refused
//!   (`can't parse entities`), entities are decoded, and the 4096 (text) and
//!   1024 (caption) limits apply to the parsed text in UTF-16 code units;
//! - a channel post is copied into the channel's discussion group as an
//!   automatic forward, as Telegram does;
//! - `getUpdates` honours offsets (everything below the offset is confirmed
//!   and forgotten; a negative offset keeps the last updates) and
//!   `allowed_updates`, and answers 409 Conflict while a webhook is set.
//!
//! Tests inject what other people do (direct messages, comments, mentions)
//! as updates, and script failures: the next call to a method fails with a
//! given error (a 429 carries `parameters.retry_after`), or goes through but
//! its answer is lost (a proxy's page instead of the result).

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Map, Value, json};

/// The bot's user id.
pub const BOT_ID: i64 = 7_000_000_001;
/// The bot's username.
pub const BOT_USERNAME: &str = "plaza_test_bot";
/// The channel's id.
pub const CHANNEL_ID: i64 = -1_001_000_000_001;
/// The channel's public username.
pub const CHANNEL_USERNAME: &str = "acme_news";
/// The channel's discussion group (a supergroup).
pub const GROUP_ID: i64 = -1_001_000_000_002;
/// Telegram's service account, the sender of automatic forwards.
const TELEGRAM_SERVICE_ID: i64 = 777_000;

/// Someone on Telegram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgUser {
    /// User id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Username, without `@`.
    pub username: String,
}

impl TgUser {
    /// A person with this id, name and username.
    pub fn new(id: i64, first_name: &str, username: &str) -> Self {
        Self {
            id,
            first_name: first_name.to_owned(),
            username: username.to_owned(),
        }
    }

    /// As a `User` object.
    pub fn json(&self) -> Value {
        json!({
            "id": self.id, "is_bot": false,
            "first_name": self.first_name, "username": self.username
        })
    }
}

/// A file part of a multipart request.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The form field.
    pub field: String,
    /// The file name sent.
    pub filename: String,
    /// Its `Content-Type`.
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// One method call received with a valid token.
#[derive(Debug, Clone)]
pub struct Call {
    /// The method, as sent.
    pub method: String,
    /// Its parameters (multipart text fields as strings).
    pub params: Map<String, Value>,
    /// Its files.
    pub files: Vec<Upload>,
}

/// What the next call to a method does instead of its work.
#[derive(Debug, Clone)]
enum Scripted {
    /// Fails with this status, description and parameters.
    Fail(u16, String, Option<Value>),
    /// Does its work, but the answer is a proxy's error page.
    LoseAnswer,
}

/// Everything the fake knows.
#[derive(Debug, Default)]
pub struct BotState {
    /// The token it accepts.
    pub token: String,
    /// Chats by id (`ChatFullInfo` objects).
    pub chats: HashMap<i64, Value>,
    /// Members per chat.
    pub members: HashMap<i64, HashSet<i64>>,
    /// Banned users per chat.
    pub banned: HashMap<i64, HashSet<i64>>,
    /// Restrictions: (chat, user) → permissions.
    pub restricted: HashMap<(i64, i64), Value>,
    /// Every message ever made, in order.
    pub messages: Vec<Value>,
    /// Deleted (chat, message) pairs.
    pub deleted: HashSet<(i64, i64)>,
    /// Updates not yet confirmed.
    pub updates: Vec<Value>,
    /// Every call with a valid token.
    pub calls: Vec<Call>,
    /// The webhook: URL and secret token.
    pub webhook: Option<(String, Option<String>)>,
    scripted: Vec<(String, Scripted)>,
    next_message: HashMap<i64, i64>,
    next_update: i64,
    next_group: u64,
    now: i64,
}

impl BotState {
    /// The live (not deleted) messages of a chat, in order.
    pub fn chat_messages(&self, chat_id: i64) -> Vec<Value> {
        self.messages
            .iter()
            .filter(|m| m["chat"]["id"] == chat_id)
            .filter(|m| !self.deleted.contains(&(chat_id, id_of(m))))
            .cloned()
            .collect()
    }

    /// A live message.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<Value> {
        if self.deleted.contains(&(chat_id, message_id)) {
            return None;
        }
        self.messages
            .iter()
            .find(|m| m["chat"]["id"] == chat_id && id_of(m) == message_id)
            .cloned()
    }

    /// The calls made to `method`.
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }

    fn new_message(&mut self, chat_id: i64, mut fields: Map<String, Value>) -> Value {
        let id = self.next_message.entry(chat_id).or_insert(0);
        *id += 1;
        let id = *id;
        self.now += 1;
        fields.insert("message_id".into(), json!(id));
        fields.insert("date".into(), json!(1_700_000_000 + self.now));
        fields.insert("chat".into(), self.chats[&chat_id].clone());
        let message = Value::Object(fields);
        self.messages.push(message.clone());
        message
    }

    fn push_update(&mut self, kind: &str, message: &Value) {
        self.next_update += 1;
        let update = json!({ "update_id": self.next_update, kind: message });
        self.updates.push(update);
    }

    fn resolve(&self, chat: Option<&Value>) -> Result<i64, Refusal> {
        let found = match chat {
            Some(Value::Number(n)) => n.as_i64().filter(|id| self.chats.contains_key(id)),
            Some(Value::String(s)) => match s.parse::<i64>() {
                Ok(id) => Some(id).filter(|id| self.chats.contains_key(id)),
                Err(_) => self.chats.values().find_map(|c| {
                    (c["username"].as_str().map(|u| format!("@{u}")).as_deref() == Some(s))
                        .then(|| c["id"].as_i64())
                        .flatten()
                }),
            },
            _ => None,
        };
        found.ok_or_else(|| bad_request("chat not found"))
    }
}

fn id_of(message: &Value) -> i64 {
    message["message_id"].as_i64().unwrap_or_default()
}

/// A running fake Bot API.
#[derive(Debug, Clone)]
pub struct FakeTelegram {
    /// `http://127.0.0.1:<port>`: the plugin's `api_base_url`.
    pub url: String,
    /// Its state, for arranging and asserting.
    pub state: Arc<Mutex<BotState>>,
}

impl FakeTelegram {
    /// Starts the fake on a free loopback port, accepting `token`, with the
    /// channel `@acme_news` (three subscribers besides the bot) and its
    /// discussion group.
    pub fn start(token: &str) -> Self {
        let channel = json!({
            "id": CHANNEL_ID, "type": "channel", "title": "Acme News",
            "username": CHANNEL_USERNAME, "linked_chat_id": GROUP_ID
        });
        let group = json!({
            "id": GROUP_ID, "type": "supergroup", "title": "Acme News Chat",
            "username": "acme_news_chat", "linked_chat_id": CHANNEL_ID
        });
        let mut state = BotState {
            token: token.to_owned(),
            ..BotState::default()
        };
        state.chats.insert(CHANNEL_ID, channel);
        state.chats.insert(GROUP_ID, group);
        state
            .members
            .insert(CHANNEL_ID, HashSet::from([BOT_ID, 11, 12, 13]));
        state.members.insert(GROUP_ID, HashSet::from([BOT_ID]));
        let state = Arc::new(Mutex::new(state));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake telegram");
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
        Self { url, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BotState> {
        self.state.lock().expect("state")
    }

    /// `user` writes to the bot in private.
    pub fn direct_message(&self, user: &TgUser, text: &str) -> i64 {
        let mut state = self.lock();
        state.chats.entry(user.id).or_insert_with(|| {
            json!({
                "id": user.id, "type": "private",
                "first_name": user.first_name, "username": user.username
            })
        });
        let mut fields = Map::new();
        fields.insert("from".into(), user.json());
        fields.insert("text".into(), json!(text));
        let message = state.new_message(user.id, fields);
        state.push_update("message", &message);
        id_of(&message)
    }

    /// `user` writes in the discussion group (joining it), replying to the
    /// group message `reply_to` if given. `@username`s become `mention`
    /// entities.
    pub fn group_message(&self, user: &TgUser, text: &str, reply_to: Option<i64>) -> i64 {
        let mut state = self.lock();
        state.members.entry(GROUP_ID).or_default().insert(user.id);
        let mut fields = Map::new();
        fields.insert("from".into(), user.json());
        fields.insert("text".into(), json!(text));
        let entities = mentions(text);
        if !entities.is_empty() {
            fields.insert("entities".into(), Value::Array(entities));
        }
        if let Some(reply_to) = reply_to {
            let answered = state.message(GROUP_ID, reply_to).expect("replied message");
            fields.insert("message_thread_id".into(), json!(reply_to));
            fields.insert("reply_to_message".into(), answered);
        }
        let message = state.new_message(GROUP_ID, fields);
        state.push_update("message", &message);
        id_of(&message)
    }

    /// `user` comments on the channel post `post_id`: a reply to its copy in
    /// the discussion group, as Telegram's "Leave a comment" makes it.
    pub fn comment(&self, user: &TgUser, post_id: i64, text: &str) -> i64 {
        let copy = {
            let state = self.lock();
            state
                .chat_messages(GROUP_ID)
                .into_iter()
                .find(|m| {
                    m["is_automatic_forward"] == true
                        && m["forward_origin"]["message_id"] == post_id
                })
                .map(|m| id_of(&m))
                .expect("the channel post was copied into the discussion group")
        };
        self.group_message(user, text, Some(copy))
    }

    /// The next call to `method` fails with this status and description,
    /// and `parameters` when given.
    pub fn fail_next(
        &self,
        method: &str,
        status: u16,
        description: &str,
        parameters: Option<Value>,
    ) {
        self.lock().scripted.push((
            method.to_owned(),
            Scripted::Fail(status, description.to_owned(), parameters),
        ));
    }

    /// The next call to `method` answers 429 `Too Many Requests: retry
    /// after <secs>` with `parameters.retry_after`.
    pub fn flood_next(&self, method: &str, secs: u64) {
        self.fail_next(
            method,
            429,
            &format!("Too Many Requests: retry after {secs}"),
            Some(json!({ "retry_after": secs })),
        );
    }

    /// The next call to `method` does its work, but its answer is lost.
    pub fn lose_next_answer(&self, method: &str) {
        self.lock()
            .scripted
            .push((method.to_owned(), Scripted::LoseAnswer));
    }

    /// Stops accepting the token (the bot's token was revoked in @BotFather).
    pub fn revoke_token(&self) {
        self.lock().token = "revoked".to_owned();
    }

    /// The live messages of a chat.
    pub fn chat_messages(&self, chat_id: i64) -> Vec<Value> {
        self.lock().chat_messages(chat_id)
    }

    /// The calls made to `method`.
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.lock().calls_to(method)
    }
}

/// `mention` entities for every `@username` in `text` (UTF-16 offsets).
fn mentions(text: &str) -> Vec<Value> {
    let mut entities = Vec::new();
    let mut offset = 0;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let name: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            if name.len() >= 5 {
                entities.push(json!({
                    "type": "mention", "offset": offset, "length": name.len() + 1
                }));
                offset += name.len() + 1;
                i += name.chars().count() + 1;
                continue;
            }
        }
        offset += chars[i].len_utf16();
        i += 1;
    }
    entities
}

/// A refused call: status, description, parameters.
#[derive(Debug)]
struct Refusal(u16, String, Option<Value>);

fn bad_request(what: &str) -> Refusal {
    Refusal(400, format!("Bad Request: {what}"), None)
}

fn refusal_response(refusal: &Refusal) -> HttpResponse {
    let Refusal(status, description, parameters) = refusal;
    let mut body = json!({ "ok": false, "error_code": status, "description": description });
    if let Some(parameters) = parameters {
        body["parameters"] = parameters.clone();
    }
    HttpResponse::build(StatusCode::from_u16(*status).expect("status")).json(body)
}

fn success(result: &Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "ok": true, "result": result }))
}

type Shared = web::Data<Mutex<BotState>>;

async fn handle(req: HttpRequest, body: web::Bytes, state: Shared) -> HttpResponse {
    let path = req.path().trim_start_matches('/').to_owned();
    let Some((token, method)) = path
        .strip_prefix("bot")
        .and_then(|rest| rest.split_once('/'))
    else {
        return refusal_response(&Refusal(404, "Not Found".into(), None));
    };
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (params, files) = match parse_params(&content_type, req.query_string(), &body) {
        Ok(parsed) => parsed,
        Err(refusal) => return refusal_response(&refusal),
    };
    let mut state = state.lock().expect("state");
    if token != state.token {
        return refusal_response(&Refusal(401, "Unauthorized".into(), None));
    }
    state.calls.push(Call {
        method: method.to_owned(),
        params: params.clone(),
        files: files.clone(),
    });
    let scripted = state
        .scripted
        .iter()
        .position(|(m, _)| m.eq_ignore_ascii_case(method))
        .map(|n| state.scripted.remove(n).1);
    if let Some(Scripted::Fail(status, description, parameters)) = scripted {
        return refusal_response(&Refusal(status, description, parameters));
    }
    let answer = dispatch(&mut state, method, &params, &files);
    if matches!(scripted, Some(Scripted::LoseAnswer)) {
        return HttpResponse::Ok()
            .content_type("text/html")
            .body("<html><body>upstream answer lost</body></html>");
    }
    match answer {
        Ok(result) => success(&result),
        Err(refusal) => refusal_response(&refusal),
    }
}

fn dispatch(
    state: &mut BotState,
    method: &str,
    params: &Map<String, Value>,
    files: &[Upload],
) -> Result<Value, Refusal> {
    // Methods are case-insensitive ("Making requests").
    match method.to_ascii_lowercase().as_str() {
        "getme" => Ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Plaza",
            "username": BOT_USERNAME, "can_join_groups": true,
            "can_read_all_group_messages": false, "supports_inline_queries": false
        })),
        "getchat" => {
            let id = state.resolve(params.get("chat_id"))?;
            Ok(state.chats[&id].clone())
        }
        "getchatmembercount" => {
            let id = state.resolve(params.get("chat_id"))?;
            Ok(json!(state.members.get(&id).map_or(0, HashSet::len)))
        }
        "sendmessage" => send_message(state, params),
        "sendphoto" => send_file(state, params, files, "photo"),
        "sendvideo" => send_file(state, params, files, "video"),
        "senddocument" => send_file(state, params, files, "document"),
        "sendmediagroup" => send_media_group(state, params, files),
        "deletemessage" => {
            let chat = state.resolve(params.get("chat_id"))?;
            let id = int(params, "message_id")?;
            if state.message(chat, id).is_none() {
                return Err(bad_request("message to delete not found"));
            }
            state.deleted.insert((chat, id));
            Ok(json!(true))
        }
        "banchatmember" => {
            let chat = state.resolve(params.get("chat_id"))?;
            let user = int(params, "user_id")?;
            if state.chats[&chat]["type"] == "private" {
                return Err(bad_request(
                    "chat member status can't be changed in private chats",
                ));
            }
            state.members.entry(chat).or_default().remove(&user);
            state.banned.entry(chat).or_default().insert(user);
            Ok(json!(true))
        }
        "restrictchatmember" => {
            let chat = state.resolve(params.get("chat_id"))?;
            let user = int(params, "user_id")?;
            if state.chats[&chat]["type"] != "supergroup" {
                return Err(bad_request("method is available only for supergroups"));
            }
            let permissions = object(params, "permissions")?
                .ok_or_else(|| bad_request("parameter \"permissions\" is required"))?;
            state.restricted.insert((chat, user), permissions);
            Ok(json!(true))
        }
        "getupdates" => get_updates(state, params),
        "setwebhook" => {
            let url = params
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let secret = params.get("secret_token").and_then(Value::as_str);
            if let Some(secret) = secret {
                let allowed = (1..=256).contains(&secret.len())
                    && secret
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !allowed {
                    return Err(bad_request("secret token contains unallowed characters"));
                }
            }
            state.webhook = (!url.is_empty()).then(|| (url.to_owned(), secret.map(str::to_owned)));
            Ok(json!(true))
        }
        "deletewebhook" => {
            state.webhook = None;
            Ok(json!(true))
        }
        _ => Err(Refusal(404, "Not Found".into(), None)),
    }
}

fn int(params: &Map<String, Value>, name: &str) -> Result<i64, Refusal> {
    match params.get(name) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| bad_request(&format!("parameter \"{name}\" is required")))
}

fn flag(params: &Map<String, Value>, name: &str) -> bool {
    matches!(params.get(name), Some(Value::Bool(true)))
        || params.get(name).and_then(Value::as_str) == Some("true")
}

/// An object parameter: JSON in JSON requests, JSON text in forms.
fn object(params: &Map<String, Value>, name: &str) -> Result<Option<Value>, Refusal> {
    match params.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => serde_json::from_str(text)
            .map(Some)
            .map_err(|_| bad_request(&format!("can't parse {name} JSON object"))),
        Some(other) => Ok(Some(other.clone())),
    }
}

/// The fields every sent message shares: who sent it, the reply, the
/// topic, and the flags.
fn envelope(
    state: &BotState,
    chat: i64,
    params: &Map<String, Value>,
) -> Result<Map<String, Value>, Refusal> {
    let mut fields = Map::new();
    if state.chats[&chat]["type"] == "channel" {
        fields.insert("sender_chat".into(), state.chats[&chat].clone());
    } else {
        fields.insert(
            "from".into(),
            json!({ "id": BOT_ID, "is_bot": true, "first_name": "Plaza", "username": BOT_USERNAME }),
        );
    }
    if let Some(reply) = object(params, "reply_parameters")? {
        let id = reply["message_id"].as_i64().unwrap_or_default();
        let answered = state
            .message(chat, id)
            .ok_or_else(|| bad_request("message to be replied not found"))?;
        fields.insert("reply_to_message".into(), answered);
    }
    if params.contains_key("message_thread_id") {
        fields.insert(
            "message_thread_id".into(),
            json!(int(params, "message_thread_id")?),
        );
    }
    if flag(params, "protect_content") {
        fields.insert("has_protected_content".into(), json!(true));
    }
    Ok(fields)
}

/// The text people see: HTML parsed when `parse_mode` is `HTML`, checked
/// against `max` UTF-16 code units.
fn visible(
    params: &Map<String, Value>,
    field: &str,
    max: usize,
    too_long: &str,
) -> Result<Option<String>, Refusal> {
    let Some(raw) = params.get(field).and_then(Value::as_str) else {
        return Ok(None);
    };
    let parsed = match params.get("parse_mode").and_then(Value::as_str) {
        Some(mode) if mode.eq_ignore_ascii_case("html") => parse_html(raw)?,
        _ => raw.to_owned(),
    };
    if parsed.encode_utf16().count() > max {
        return Err(bad_request(too_long));
    }
    Ok(Some(parsed))
}

fn send_message(state: &mut BotState, params: &Map<String, Value>) -> Result<Value, Refusal> {
    let chat = state.resolve(params.get("chat_id"))?;
    let text = visible(params, "text", 4096, "message is too long")?
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| bad_request("message text is empty"))?;
    let mut fields = envelope(state, chat, params)?;
    fields.insert("text".into(), json!(text));
    if let Some(preview) = object(params, "link_preview_options")? {
        fields.insert("link_preview_options".into(), preview);
    }
    Ok(post(state, chat, fields))
}

/// Makes the message; a channel post is copied into the discussion group.
fn post(state: &mut BotState, chat: i64, fields: Map<String, Value>) -> Value {
    let copied_fields: Map<String, Value> = [
        "text",
        "caption",
        "photo",
        "video",
        "document",
        "media_group_id",
    ]
    .into_iter()
    .filter_map(|key| Some((key.to_owned(), fields.get(key)?.clone())))
    .collect();
    let message = state.new_message(chat, fields);
    if let Some(group) = state.chats[&chat]["linked_chat_id"].as_i64()
        && state.chats[&chat]["type"] == "channel"
    {
        let mut copy = copied_fields;
        copy.insert(
            "from".into(),
            json!({ "id": TELEGRAM_SERVICE_ID, "is_bot": false, "first_name": "Telegram" }),
        );
        copy.insert("sender_chat".into(), state.chats[&chat].clone());
        copy.insert("is_automatic_forward".into(), json!(true));
        copy.insert(
            "forward_origin".into(),
            json!({
                "type": "channel", "date": message["date"],
                "chat": state.chats[&chat], "message_id": message["message_id"]
            }),
        );
        let copied = state.new_message(group, copy);
        state.push_update("message", &copied);
    }
    message
}

fn file_object(kind: &str, upload: &Upload, n: u64) -> (String, Value) {
    let file = json!({
        "file_id": format!("{kind}-{n}"), "file_unique_id": format!("u{n}"),
        "file_size": upload.bytes.len(), "mime_type": upload.content_type,
        "file_name": upload.filename
    });
    let value = if kind == "photo" { json!([file]) } else { file };
    (kind.to_owned(), value)
}

fn send_file(
    state: &mut BotState,
    params: &Map<String, Value>,
    files: &[Upload],
    kind: &str,
) -> Result<Value, Refusal> {
    let chat = state.resolve(params.get("chat_id"))?;
    let upload = files
        .iter()
        .find(|f| f.field == kind)
        .ok_or_else(|| bad_request(&format!("there is no {kind} in the request")))?;
    let caption = visible(params, "caption", 1024, "message caption is too long")?;
    let mut fields = envelope(state, chat, params)?;
    state.next_group += 1;
    let (key, value) = file_object(kind, upload, state.next_group);
    fields.insert(key, value);
    if let Some(caption) = caption.filter(|c| !c.is_empty()) {
        fields.insert("caption".into(), json!(caption));
    }
    Ok(post(state, chat, fields))
}

fn send_media_group(
    state: &mut BotState,
    params: &Map<String, Value>,
    files: &[Upload],
) -> Result<Value, Refusal> {
    let chat = state.resolve(params.get("chat_id"))?;
    let media = object(params, "media")?
        .and_then(|m| m.as_array().cloned())
        .ok_or_else(|| bad_request("parameter \"media\" is required"))?;
    if !(2..=10).contains(&media.len()) {
        return Err(bad_request("media must include 2-10 items"));
    }
    state.next_group += 1;
    let group_id = format!("{}", 13_000_000_000_000_000u64 + state.next_group);
    let mut prepared = Vec::new();
    for item in &media {
        let kind = item["type"].as_str().unwrap_or_default();
        if !["photo", "video", "document", "audio"].contains(&kind) {
            return Err(bad_request("unsupported media type"));
        }
        let name = item["media"]
            .as_str()
            .and_then(|m| m.strip_prefix("attach://"))
            .ok_or_else(|| bad_request("wrong file identifier/HTTP URL specified"))?;
        let upload = files
            .iter()
            .find(|f| f.field == name)
            .ok_or_else(|| bad_request("wrong file identifier/HTTP URL specified"))?;
        let mut item_params = Map::new();
        for key in ["caption", "parse_mode"] {
            if let Some(value) = item.get(key) {
                item_params.insert(key.into(), value.clone());
            }
        }
        let caption = visible(&item_params, "caption", 1024, "message caption is too long")?;
        prepared.push((kind.to_owned(), upload.clone(), caption));
    }
    let mut sent = Vec::new();
    for (n, (kind, upload, caption)) in prepared.into_iter().enumerate() {
        let mut fields = envelope(state, chat, params)?;
        let (key, value) = file_object(&kind, &upload, state.next_group * 100 + n as u64);
        fields.insert(key, value);
        fields.insert("media_group_id".into(), json!(group_id));
        if let Some(caption) = caption.filter(|c| !c.is_empty()) {
            fields.insert("caption".into(), json!(caption));
        }
        sent.push(post(state, chat, fields));
    }
    Ok(Value::Array(sent))
}

fn get_updates(state: &mut BotState, params: &Map<String, Value>) -> Result<Value, Refusal> {
    if state.webhook.is_some() {
        return Err(Refusal(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook \
             to delete the webhook first"
                .into(),
            None,
        ));
    }
    let limit = params
        .get("limit")
        .map(|_| int(params, "limit"))
        .transpose()?
        .unwrap_or(100)
        .clamp(1, 100);
    if let Some(offset) = params
        .get("offset")
        .map(|_| int(params, "offset"))
        .transpose()?
    {
        if offset < 0 {
            // Only the last -offset updates are kept; the rest are forgotten.
            let keep = usize::try_from(-offset).unwrap_or(usize::MAX);
            let drop = state.updates.len().saturating_sub(keep);
            state.updates.drain(..drop);
        } else {
            state
                .updates
                .retain(|u| u["update_id"].as_i64().unwrap_or_default() >= offset);
        }
    }
    let allowed: Vec<String> = object(params, "allowed_updates")?
        .and_then(|a| a.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let wanted = |update: &Value| {
        allowed.is_empty()
            || update
                .as_object()
                .is_some_and(|o| o.keys().any(|k| allowed.contains(k)))
    };
    let updates: Vec<Value> = state
        .updates
        .iter()
        .filter(|u| wanted(u))
        .take(usize::try_from(limit).unwrap_or(100))
        .cloned()
        .collect();
    Ok(Value::Array(updates))
}

/// Parses the Bot API's HTML: the supported tags are dropped (their
/// formatting is not modelled), the four named entities and numeric ones
/// decoded; anything else in angle brackets is refused, as Telegram does.
fn parse_html(text: &str) -> Result<String, Refusal> {
    const TAGS: [&str; 17] = [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
        "br",
    ];
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let at = text.len() - rest.len();
        match c {
            '<' => {
                let end = rest.find('>').ok_or_else(|| {
                    bad_request(&format!(
                        "can't parse entities: Unclosed start tag at byte offset {at}"
                    ))
                })?;
                let inner = rest[1..end].trim_start_matches('/');
                let name = inner
                    .split(|c: char| c.is_whitespace())
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if !TAGS.contains(&name.as_str()) || name == "br" {
                    return Err(bad_request(&format!(
                        "can't parse entities: Unsupported start tag \"{name}\" at byte offset {at}"
                    )));
                }
                rest = &rest[end + 1..];
            }
            '&' => {
                let entity = rest.find(';').map(|end| (&rest[1..end], end));
                let decoded = entity.and_then(|(name, end)| {
                    let c = match name {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        _ => name
                            .strip_prefix('#')
                            .and_then(|n| n.parse::<u32>().ok())
                            .and_then(char::from_u32),
                    }?;
                    Some((c, end))
                });
                match decoded {
                    Some((c, end)) => {
                        out.push(c);
                        rest = &rest[end + 1..];
                    }
                    None => {
                        out.push('&');
                        rest = &rest[1..];
                    }
                }
            }
            other => {
                out.push(other);
                rest = &rest[other.len_utf8()..];
            }
        }
    }
    Ok(out)
}

/// The parameters of a request: its query string, then its body as JSON,
/// a URL-encoded form or `multipart/form-data`.
fn parse_params(
    content_type: &str,
    query: &str,
    body: &[u8],
) -> Result<(Map<String, Value>, Vec<Upload>), Refusal> {
    let mut params: Map<String, Value> = url_encoded(query)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let mut files = Vec::new();
    let lower = content_type.to_ascii_lowercase();
    if lower.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(object)) => params.extend(object),
            _ => return Err(bad_request("can't parse JSON object")),
        }
    } else if lower.starts_with("application/x-www-form-urlencoded") {
        let form = url_encoded(&String::from_utf8_lossy(body));
        params.extend(form.into_iter().map(|(k, v)| (k, Value::String(v))));
    } else if lower.starts_with("multipart/form-data") {
        let boundary = content_type
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .map(|b| b.trim_matches('"').to_owned())
            .ok_or_else(|| bad_request("can't parse multipart"))?;
        for part in multipart_parts(body, &boundary)? {
            match part.filename {
                Some(filename) => files.push(Upload {
                    field: part.name,
                    filename,
                    content_type: part.content_type.unwrap_or_default(),
                    bytes: part.bytes,
                }),
                None => {
                    params.insert(
                        part.name,
                        Value::String(String::from_utf8_lossy(&part.bytes).into_owned()),
                    );
                }
            }
        }
    }
    Ok((params, files))
}

/// `a=1&b=2` pairs (query strings and URL-encoded forms).
fn url_encoded(text: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(text)
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

struct Part {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

fn multipart_parts(body: &[u8], boundary: &str) -> Result<Vec<Part>, Refusal> {
    let delimiter = format!("--{boundary}").into_bytes();
    let broken = || bad_request("can't parse multipart");
    let mut positions = Vec::new();
    let mut from = 0;
    while let Some(at) = find(&body[from..], &delimiter) {
        positions.push(from + at);
        from += at + delimiter.len();
    }
    let mut parts = Vec::new();
    for pair in positions.windows(2) {
        let chunk = &body[pair[0] + delimiter.len()..pair[1]];
        let chunk = chunk.strip_prefix(b"\r\n").ok_or_else(broken)?;
        let chunk = chunk.strip_suffix(b"\r\n").ok_or_else(broken)?;
        let split = find(chunk, b"\r\n\r\n").ok_or_else(broken)?;
        let head = String::from_utf8_lossy(&chunk[..split]).into_owned();
        let bytes = chunk[split + 4..].to_vec();
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                name = quoted_param(line, "name");
                filename = quoted_param(line, "filename");
            } else if lower.starts_with("content-type:") {
                content_type = Some(line["content-type:".len()..].trim().to_owned());
            }
        }
        parts.push(Part {
            name: name.ok_or_else(broken)?,
            filename,
            content_type,
            bytes,
        });
    }
    Ok(parts)
}

fn quoted_param(line: &str, key: &str) -> Option<String> {
    line.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k == key).then(|| v.trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
