//! A local fake of the JSON platform the template plugin speaks
//! (`plugins/template/src/api.rs`), with an OAuth2 authorization server
//! that checks PKCE (RFC 7636, S256) as real ones do.
//!
//! `POST /api/posts` honours `Idempotency-Key` as platforms that support it
//! do: the first request with a key creates the post, a later one with the
//! same key answers that post again and creates nothing. Every request is
//! counted per key ([`FakeState::received`]), so a test can tell "published
//! once" from "sent twice and de-duplicated". `GET
//! /api/posts?idempotency_key=K` finds the post a key created (404 when
//! none did).

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// What the fake platform knows.
#[derive(Debug, Default)]
pub struct FakeState {
    /// The account behind every valid token ([`account`] unless changed).
    pub account: Value,
    /// Access tokens it accepts.
    pub access_tokens: Vec<String>,
    /// Refresh tokens it accepts.
    pub refresh_tokens: Vec<String>,
    /// Codes handed out: code → (challenge, redirect_uri, client_id).
    pub codes: HashMap<String, (String, String, String)>,
    /// Lifetime of the access tokens it issues.
    pub expires_in: u32,
    /// Token requests seen (form bodies).
    pub token_requests: Vec<HashMap<String, String>>,
    /// Posts created.
    pub posts: Vec<Value>,
    /// Media uploaded, in order.
    pub media: Vec<Vec<u8>>,
    /// Counter for ids.
    pub next_id: u64,
    /// How the next `POST /api/posts` calls answer, first first: 200
    /// creates the post, anything else refuses it with that status (a
    /// platform having a bad minute). Empty: every call creates.
    pub post_answers: Vec<u16>,
    /// `POST /api/posts` requests received per `Idempotency-Key` (with a
    /// valid token), whether they created a post, replayed one or were
    /// refused.
    pub received: HashMap<String, u32>,
    /// The post each idempotency key created: its answer (`id`, `url`)
    /// and `text`.
    pub by_key: HashMap<String, Value>,
    /// Keys asked for through `GET /api/posts?idempotency_key=`, in order.
    pub lookups: Vec<String>,
    /// How the next lookups answer, first first: 200 looks the key up,
    /// anything else fails with that status. Empty: every lookup looks.
    pub lookup_answers: Vec<u16>,
    /// Mentions of the account, oldest first; `GET /api/mentions` pages
    /// through them by numeric id.
    pub mentions: Vec<Value>,
    /// `GET /api/mentions` requests received.
    pub mention_reads: u32,
    /// Counts per post id (`likes`, `shares`, `comments`, `views`), read
    /// by `GET /api/posts/{id}/stats`; a created post starts at zero.
    pub stats: HashMap<String, Value>,
    /// How the next stats reads answer, first first (as `post_answers`).
    pub stats_answers: Vec<u16>,
}

impl FakeState {
    /// How many `POST /api/posts` carried `key`.
    pub fn received(&self, key: &str) -> u32 {
        self.received.get(key).copied().unwrap_or(0)
    }
}

/// A running fake platform.
#[derive(Debug, Clone)]
pub struct FakePlatform {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its state, for arranging and asserting.
    pub state: Arc<Mutex<FakeState>>,
}

/// The account behind every valid token.
pub fn account() -> Value {
    json!({"id": "4242", "handle": "acme", "name": "Acme Coffee", "followers_count": 1200})
}

impl FakePlatform {
    /// Starts the fake on a free loopback port, accepting `token`.
    pub fn start(token: &str) -> Self {
        let state = Arc::new(Mutex::new(FakeState {
            account: account(),
            access_tokens: vec![token.to_owned()],
            expires_in: 3600,
            ..FakeState::default()
        }));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake platform");
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let shared = web::Data::from(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route("/api/me", web::get().to(me))
                .route("/api/posts", web::post().to(create_post))
                .route("/api/posts", web::get().to(find_post))
                .route("/api/posts/{id}/stats", web::get().to(post_stats))
                .route("/api/media", web::post().to(upload_media))
                .route("/api/mentions", web::get().to(mentions))
                .route("/oauth/authorize", web::get().to(authorize))
                .route("/oauth/token", web::post().to(token_endpoint))
        })
        // Enough for several Plaza processes publishing at once.
        .workers(4)
        .listen(listener)
        .expect("listen")
        .run();
        actix_web::rt::spawn(server);
        Self { url, state }
    }

    /// The same platform with another account behind its tokens, so that
    /// one workspace can connect several fakes (an account connects once).
    #[must_use]
    pub fn with_account(self, id: &str, handle: &str) -> Self {
        let mut state = self.state.lock().expect("state");
        state.account["id"] = json!(id);
        state.account["handle"] = json!(handle);
        drop(state);
        self
    }

    /// Someone mentions the account: `text` by `author` (handle), with a
    /// numeric id following the last; answers the id.
    pub fn mention(&self, author: &str, text: &str) -> String {
        self.mention_with(author, text, &json!({}))
    }

    /// [`Self::mention`] with more fields (`in_reply_to`, `post_id`, `lang`,
    /// `followers_count` of the author...).
    pub fn mention_with(&self, author: &str, text: &str, extra: &Value) -> String {
        let mut state = self.state.lock().expect("state");
        let id = (state.mentions.len() + 1).to_string();
        let followers = extra.get("followers_count").cloned().unwrap_or(json!(10));
        let mut mention = json!({
            "id": id,
            "author": {"id": format!("user-{author}"), "handle": author, "name": author, "followers_count": followers},
            "text": text,
            "created_at": "2026-03-01T10:00:00Z",
            "url": format!("{}/m/{id}", self.url),
        });
        if let (Some(target), Some(fields)) = (mention.as_object_mut(), extra.as_object()) {
            for (key, value) in fields {
                if key != "followers_count" {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
        state.mentions.push(mention);
        id
    }

    /// Sets a post's counts (`likes`, `shares`, `comments`, `views`).
    pub fn set_stats(&self, post_id: &str, stats: Value) {
        let mut state = self.state.lock().expect("state");
        state.stats.insert(post_id.to_owned(), stats);
    }

    /// Sets the account's follower count.
    pub fn set_followers(&self, followers: u64) {
        let mut state = self.state.lock().expect("state");
        state.account["followers_count"] = json!(followers);
    }

    /// Stops accepting every token (the account revoked access).
    pub fn revoke_all(&self) {
        let mut state = self.state.lock().expect("state");
        state.access_tokens.clear();
        state.refresh_tokens.clear();
    }
}

type Shared = web::Data<Mutex<FakeState>>;

fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({"error": "invalid_token"}))
}

async fn me(req: HttpRequest, state: Shared) -> HttpResponse {
    let state = state.lock().expect("state");
    if bearer(&req).is_some_and(|t| state.access_tokens.contains(&t)) {
        HttpResponse::Ok().json(&state.account)
    } else {
        unauthorized()
    }
}

async fn create_post(req: HttpRequest, state: Shared, body: web::Json<Value>) -> HttpResponse {
    let mut state = state.lock().expect("state");
    if !bearer(&req).is_some_and(|t| state.access_tokens.contains(&t)) {
        return unauthorized();
    }
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(key) = &key {
        *state.received.entry(key.clone()).or_default() += 1;
    }
    if !state.post_answers.is_empty() {
        let status = state.post_answers.remove(0);
        if status != 200 {
            let status = actix_web::http::StatusCode::from_u16(status).expect("status");
            return HttpResponse::build(status).json(json!({"error": "try again later"}));
        }
    }
    if let Some(created) = key.as_ref().and_then(|k| state.by_key.get(k)) {
        return HttpResponse::Ok().json(answer(created));
    }
    state.next_id += 1;
    let id = state.next_id.to_string();
    let body = body.into_inner();
    let created = json!({
        "id": id,
        "url": format!("https://fake.example/p/{id}"),
        "text": body["text"],
    });
    if let Some(key) = key {
        state.by_key.insert(key, created.clone());
    }
    state
        .stats
        .insert(id, json!({"likes": 0, "shares": 0, "comments": 0}));
    state.posts.push(body);
    HttpResponse::Ok().json(answer(&created))
}

/// What creating a post answers (and a replay or a lookup again).
fn answer(created: &Value) -> Value {
    json!({"id": created["id"], "url": created["url"]})
}

#[derive(Debug, Deserialize)]
struct FindQuery {
    idempotency_key: String,
}

#[derive(Debug, Deserialize)]
struct MentionQuery {
    cursor: Option<String>,
    limit: Option<usize>,
}

/// Mentions after the cursor (a numeric id), oldest first; the cursor to
/// resume from is the last one returned.
async fn mentions(
    req: HttpRequest,
    state: Shared,
    query: web::Query<MentionQuery>,
) -> HttpResponse {
    let mut state = state.lock().expect("state");
    if !bearer(&req).is_some_and(|t| state.access_tokens.contains(&t)) {
        return unauthorized();
    }
    state.mention_reads += 1;
    let after: u64 = query
        .cursor
        .as_deref()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let items: Vec<Value> = state
        .mentions
        .iter()
        .filter(|m| {
            m["id"]
                .as_str()
                .and_then(|id| id.parse::<u64>().ok())
                .unwrap_or(0)
                > after
        })
        .take(limit)
        .cloned()
        .collect();
    let next = items.last().map_or(query.cursor.clone(), |m| {
        m["id"].as_str().map(str::to_owned)
    });
    HttpResponse::Ok().json(json!({"items": items, "next_cursor": next}))
}

async fn find_post(req: HttpRequest, state: Shared, query: web::Query<FindQuery>) -> HttpResponse {
    let mut state = state.lock().expect("state");
    if !bearer(&req).is_some_and(|t| state.access_tokens.contains(&t)) {
        return unauthorized();
    }
    let key = query.into_inner().idempotency_key;
    state.lookups.push(key.clone());
    if !state.lookup_answers.is_empty() {
        let status = state.lookup_answers.remove(0);
        if status != 200 {
            let status = actix_web::http::StatusCode::from_u16(status).expect("status");
            return HttpResponse::build(status).json(json!({"error": "try again later"}));
        }
    }
    match state.by_key.get(&key) {
        Some(created) => HttpResponse::Ok().json(answer(created)),
        None => HttpResponse::NotFound().json(json!({"error": "not_found"})),
    }
}

/// A post's counts; 404 for a post the platform does not have.
async fn post_stats(req: HttpRequest, state: Shared, id: web::Path<String>) -> HttpResponse {
    let mut state = state.lock().expect("state");
    if !bearer(&req).is_some_and(|t| state.access_tokens.contains(&t)) {
        return unauthorized();
    }
    if !state.stats_answers.is_empty() {
        let status = state.stats_answers.remove(0);
        if status != 200 {
            let status = actix_web::http::StatusCode::from_u16(status).expect("status");
            return HttpResponse::build(status).json(json!({"error": "try again later"}));
        }
    }
    match state.stats.get(id.as_str()) {
        Some(stats) => HttpResponse::Ok().json(stats),
        None => HttpResponse::NotFound().json(json!({"error": "not_found"})),
    }
}

async fn upload_media(req: HttpRequest, state: Shared, body: web::Bytes) -> HttpResponse {
    let mut state = state.lock().expect("state");
    if !bearer(&req).is_some_and(|t| state.access_tokens.contains(&t)) {
        return unauthorized();
    }
    state.next_id += 1;
    let id = format!("m{}", state.next_id);
    state.media.push(body.to_vec());
    HttpResponse::Ok().json(json!({"id": id}))
}

#[derive(Debug, Deserialize)]
struct AuthorizeQuery {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
}

/// Stands in for the consent screen: the person says yes at once.
async fn authorize(query: web::Query<AuthorizeQuery>, state: Shared) -> HttpResponse {
    let q = query.into_inner();
    if q.response_type != "code" || q.code_challenge_method != "S256" {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_request"}));
    }
    let mut state = state.lock().expect("state");
    state.next_id += 1;
    let code = format!("code-{}", state.next_id);
    state.codes.insert(
        code.clone(),
        (q.code_challenge, q.redirect_uri.clone(), q.client_id),
    );
    HttpResponse::Found()
        .insert_header((
            "location",
            format!("{}?code={code}&state={}", q.redirect_uri, q.state),
        ))
        .finish()
}

async fn token_endpoint(state: Shared, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    let form = form.into_inner();
    let mut state = state.lock().expect("state");
    state.token_requests.push(form.clone());
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let grant = field("grant_type");
    let valid = match grant.as_str() {
        "authorization_code" => match state.codes.remove(&field("code")) {
            Some((challenge, redirect, client)) => {
                let computed =
                    URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes()));
                computed == challenge
                    && redirect == field("redirect_uri")
                    && client == field("client_id")
            }
            None => false,
        },
        "refresh_token" => {
            let refresh = field("refresh_token");
            let known = state.refresh_tokens.contains(&refresh);
            state.refresh_tokens.retain(|r| r != &refresh);
            known
        }
        _ => false,
    };
    if !valid {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}));
    }
    state.next_id += 1;
    let access = format!("access-{}", state.next_id);
    let refresh = format!("refresh-{}", state.next_id);
    state.access_tokens.push(access.clone());
    state.refresh_tokens.push(refresh.clone());
    HttpResponse::Ok().json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": state.expires_in,
        "scope": "read write",
        "token_type": "Bearer"
    }))
}
