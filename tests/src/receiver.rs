//! A local webhook receiver: records every request it gets and answers
//! what the test arranged, as a customer's endpoint (or a canary that must
//! never be reached) would.

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path and query.
    pub path: String,
    /// Headers, names in lower case.
    pub headers: HashMap<String, String>,
    /// The body, as text.
    pub body: String,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// The headers as an `http::HeaderMap`, for signature checks.
    pub fn header_map(&self) -> reqwest::header::HeaderMap {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in &self.headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        map
    }
}

/// An answer to give.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

impl Answer {
    /// A status with a body.
    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            headers: Vec::new(),
        }
    }

    /// A redirect to `location`.
    pub fn redirect(location: &str) -> Self {
        Self {
            status: 302,
            body: String::new(),
            headers: vec![("location".to_owned(), location.to_owned())],
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    received: Vec<Received>,
    answers: VecDeque<Answer>,
    otherwise: Option<Answer>,
}

/// A running receiver.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// Starts a receiver on a free loopback port; it answers `204` unless
    /// told otherwise.
    pub fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let shared = web::Data::from(Arc::clone(&inner));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        actix_web::rt::spawn(server);
        Self { url, inner }
    }

    /// Answers these next, in order, then the standing answer.
    pub fn answer_next(&self, answers: impl IntoIterator<Item = Answer>) {
        self.inner.lock().expect("receiver").answers.extend(answers);
    }

    /// Answers this whenever nothing else is queued.
    pub fn answer_always(&self, answer: Answer) {
        self.inner.lock().expect("receiver").otherwise = Some(answer);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("receiver").received.clone()
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    inner: web::Data<Mutex<Inner>>,
) -> HttpResponse {
    let mut inner = inner.lock().expect("receiver");
    inner.received.push(Received {
        path: req.uri().to_string(),
        headers: req
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let answer = inner
        .answers
        .pop_front()
        .or_else(|| inner.otherwise.clone())
        .unwrap_or_else(|| Answer::status(204, ""));
    let status = actix_web::http::StatusCode::from_u16(answer.status).expect("status");
    let mut response = HttpResponse::build(status);
    for (name, value) in answer.headers {
        response.insert_header((name, value));
    }
    response.body(answer.body)
}
