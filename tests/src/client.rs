//! A client of Plaza processes over HTTP, for the tests and benchmarks that
//! drive real processes ([`crate::process`]): signs up, connects channels,
//! schedules posts in bulk, and reads back what the publisher did.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{PASSWORD, expect_json};

/// Requests in flight at once when scheduling in bulk.
const IN_FLIGHT: usize = 8;

/// A signed-in client of one Plaza process.
#[derive(Debug, Clone)]
pub struct PlazaClient {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    client: reqwest::Client,
    access: String,
}

/// One publish target as the API shows it, with its post.
#[derive(Debug, Clone, Deserialize)]
pub struct TargetView {
    /// The post's id (filled in from the post).
    #[serde(default)]
    pub post_id: String,
    /// The post's body (filled in from the post).
    #[serde(default)]
    pub body: String,
    /// When the post was due (filled in from the post).
    #[serde(default)]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The channel.
    pub channel_id: String,
    /// `pending`, `sending`, `published`, `failed`, `needs_review`, `cancelled`.
    pub status: String,
    /// The platform's id of the post.
    pub remote_id: Option<String>,
    /// Why it failed or needs review.
    pub error: Option<String>,
    /// Platform calls made for it.
    pub attempts: i32,
    /// When it went out.
    pub published_at: Option<DateTime<Utc>>,
}

impl PlazaClient {
    /// Creates an account on the process at `url` (sign-up must be open)
    /// and signs in as it.
    pub async fn sign_up(url: &str, email: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let response = client
            .post(format!("{url}/v1/auth/signup"))
            .json(&json!({"email": email, "password": PASSWORD, "name": "Tester"}))
            .send()
            .await
            .expect("sign up");
        let tokens = expect_json(response, StatusCode::CREATED).await;
        Self {
            url: url.to_owned(),
            client,
            access: tokens["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
        }
    }

    /// The same account on another process of the deployment (they share
    /// the signing keys, so the token holds there too).
    #[must_use]
    pub fn at(&self, url: &str) -> Self {
        Self {
            url: url.to_owned(),
            ..self.clone()
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder, status: StatusCode) -> Value {
        let response = request
            .bearer_auth(&self.access)
            .send()
            .await
            .expect("request to plaza");
        expect_json(response, status).await
    }

    /// `POST path` with a JSON body, expecting `status`.
    pub async fn post(&self, path: &str, body: &Value, status: StatusCode) -> Value {
        let request = self.client.post(format!("{}{path}", self.url)).json(body);
        self.send(request, status).await
    }

    /// `GET path`, expecting 200.
    pub async fn get(&self, path: &str) -> Value {
        let request = self.client.get(format!("{}{path}", self.url));
        self.send(request, StatusCode::OK).await
    }

    /// Creates a workspace; answers its id.
    pub async fn create_workspace(&self, name: &str) -> String {
        let body = self
            .post(
                "/v1/workspaces",
                &json!({"name": name}),
                StatusCode::CREATED,
            )
            .await;
        body["id"].as_str().expect("workspace id").to_owned()
    }

    /// Connects a `template` channel to a fake platform; answers its id.
    pub async fn connect_channel(
        &self,
        workspace: &str,
        platform_url: &str,
        token: &str,
    ) -> String {
        let body = self
            .post(
                &format!("/v1/workspaces/{workspace}/channels"),
                &json!({
                    "plugin_id": "template",
                    "config": {"base_url": platform_url},
                    "credentials": {"access_token": token},
                }),
                StatusCode::CREATED,
            )
            .await;
        body["id"].as_str().expect("channel id").to_owned()
    }

    /// Drafts `posts` (as `create_post` takes them) through the bulk import,
    /// then submits and schedules each at `at`; answers their ids in order.
    pub async fn schedule_posts(
        &self,
        workspace: &str,
        posts: &[Value],
        at: DateTime<Utc>,
    ) -> Vec<String> {
        let mut ids = Vec::with_capacity(posts.len());
        for chunk in posts.chunks(1_000) {
            let report = self
                .post(
                    &format!("/v1/workspaces/{workspace}/post-imports"),
                    &json!({"posts": chunk}),
                    StatusCode::OK,
                )
                .await;
            assert_eq!(report["rejected"], json!([]), "refused rows: {report}");
            ids.extend(
                report["imported"]
                    .as_array()
                    .expect("imported rows")
                    .iter()
                    .map(|row| row["post_id"].as_str().expect("post id").to_owned()),
            );
        }
        let base = format!("/v1/workspaces/{workspace}/posts");
        let at = json!({"scheduled_at": at.to_rfc3339()});
        futures_util::stream::iter(&ids)
            .for_each_concurrent(IN_FLIGHT, |id| {
                let (base, at) = (&base, &at);
                async move {
                    self.post(&format!("{base}/{id}/submit"), &json!({}), StatusCode::OK)
                        .await;
                    self.post(&format!("{base}/{id}/schedule"), at, StatusCode::OK)
                        .await;
                }
            })
            .await;
        ids
    }

    /// Every post of the workspace (all pages), oldest first.
    pub async fn posts(&self, workspace: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/workspaces/{workspace}/posts?limit=200");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let page = self.get(&path).await;
            all.extend(page["data"].as_array().expect("data").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return all,
            }
        }
    }

    /// Every publish target of the workspace's posts, with its post.
    pub async fn targets(&self, workspace: &str) -> Vec<TargetView> {
        let mut targets = Vec::new();
        for post in self.posts(workspace).await {
            for target in post["targets"].as_array().expect("targets") {
                let mut target: TargetView =
                    serde_json::from_value(target.clone()).expect("a publish target");
                target.post_id = post["id"].as_str().expect("post id").to_owned();
                target.body = post["body"].as_str().unwrap_or_default().to_owned();
                target.scheduled_at =
                    serde_json::from_value(post["scheduled_at"].clone()).expect("scheduled_at");
                targets.push(target);
            }
        }
        targets
    }

    /// Whether the workspace has any post in `status`.
    async fn any_post_in(&self, workspace: &str, status: &str) -> bool {
        let page = self
            .get(&format!(
                "/v1/workspaces/{workspace}/posts?status={status}&limit=1"
            ))
            .await;
        !page["data"].as_array().expect("data").is_empty()
    }

    /// Polls until the publisher is done with the workspace: no post left
    /// `scheduled` or `publishing`, so no target `pending` or `sending`.
    /// Answers how long that took; `Err` with what is left after `timeout`.
    pub async fn wait_until_published(
        &self,
        workspace: &str,
        timeout: Duration,
    ) -> Result<Duration, String> {
        let started = Instant::now();
        loop {
            let busy = self.any_post_in(workspace, "scheduled").await
                || self.any_post_in(workspace, "publishing").await;
            if !busy {
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                let left: Vec<String> = self
                    .targets(workspace)
                    .await
                    .into_iter()
                    .filter(|t| t.status == "pending" || t.status == "sending")
                    .map(|t| format!("{} on {}: {}", t.post_id, t.channel_id, t.status))
                    .collect();
                return Err(format!(
                    "after {timeout:?} {} target(s) are still not done: {left:?}",
                    left.len()
                ));
            }
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Due-to-published latencies of the published targets, and the rate.
#[derive(Debug, Clone, Copy)]
pub struct PublishTimes {
    /// Published targets measured.
    pub published: usize,
    /// The quickest latency from due to published (for a batch due at
    /// once: how long before the first went out).
    pub first: Duration,
    /// Median latency.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// The slowest (for a batch due at once: when the last went out).
    pub max: Duration,
}

impl PublishTimes {
    /// Measures `targets` (each against its post's `scheduled_at`); `None`
    /// when none was published.
    pub fn of(targets: &[TargetView]) -> Option<Self> {
        let mut latencies: Vec<Duration> = targets
            .iter()
            .filter_map(|t| {
                Some(
                    (t.published_at? - t.scheduled_at?)
                        .to_std()
                        .unwrap_or_default(),
                )
            })
            .collect();
        latencies.sort();
        let (first, max) = (*latencies.first()?, *latencies.last()?);
        let at = |q: f64| {
            let rank = (q * latencies.len() as f64).ceil() as usize;
            latencies[rank.clamp(1, latencies.len()) - 1]
        };
        Some(Self {
            published: latencies.len(),
            first,
            p50: at(0.50),
            p95: at(0.95),
            max,
        })
    }

    /// Targets published per second while the batch went out: from the
    /// first to the last (the idle poll before the first is not counted).
    pub fn per_second(&self) -> f64 {
        let span = self.max.saturating_sub(self.first).as_secs_f64();
        self.published.saturating_sub(1) as f64 / span.max(f64::EPSILON)
    }
}
