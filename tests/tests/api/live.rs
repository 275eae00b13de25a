//! The live event stream (SSE): changes arrive as they commit, a dropped
//! client resumes with `Last-Event-ID` missing nothing, filters hold, and
//! the activity log behind it records workflow steps and channel health.

use std::time::Duration;

use futures_util::StreamExt;
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::{Session, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// One SSE message.
#[derive(Debug)]
struct Message {
    id: i64,
    event: String,
    data: Value,
}

/// An open stream and what it has not handed out yet.
struct Stream {
    bytes: futures_util::stream::BoxStream<'static, reqwest::Result<actix_web::web::Bytes>>,
    buffer: String,
}

impl Stream {
    async fn open(
        app: &TestApp,
        session: &Session,
        ws: &str,
        query: &str,
        last: Option<i64>,
    ) -> Self {
        let mut request = app.get(
            &format!("/v1/workspaces/{ws}/events{query}"),
            &session.access,
        );
        if let Some(last) = last {
            request = request.header("last-event-id", last.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            bytes: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next event, or `None` when none comes within `wait`. Comments
    /// and the `retry` field are skipped.
    async fn next(&mut self, wait: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut message = (None, None, None);
                for line in block.lines() {
                    if let Some(id) = line.strip_prefix("id: ") {
                        message.0 = id.parse().ok();
                    } else if let Some(event) = line.strip_prefix("event: ") {
                        message.1 = Some(event.to_owned());
                    } else if let Some(data) = line.strip_prefix("data: ") {
                        message.2 = serde_json::from_str(data).ok();
                    }
                }
                if let (Some(id), Some(event), Some(data)) = message {
                    return Some(Message { id, event, data });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.bytes.next())
                .await
                .ok()??;
            self.buffer
                .push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        }
    }
}

const SOON: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(800);

async fn draft(app: &TestApp, owner: &Session, ws: &str, channel: &str) -> String {
    let post = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/posts"),
                &owner.access,
                &json!({"body": "Spring roast", "variants": [{"channel_id": channel}]}),
            ),
            StatusCode::CREATED,
        )
        .await;
    post["id"].as_str().unwrap().to_owned()
}

async fn step(app: &TestApp, who: &Session, ws: &str, post: &str, action: &str, body: Value) {
    app.call(
        app.post(
            &format!("/v1/workspaces/{ws}/posts/{post}/{action}"),
            &who.access,
            &body,
        ),
        StatusCode::OK,
    )
    .await;
}

#[actix_web::test]
async fn workflow_steps_stream_live_and_a_dropped_client_resumes_without_gaps() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let cm = app
        .add_member(&owner, &ws, "cm@example.com", "community_manager")
        .await;
    let post = draft(&app, &cm, &ws, &channel).await;

    // A stream opened now starts with the next event: the channel's
    // connection, made before, is not replayed.
    let mut stream = Stream::open(&app, &owner, &ws, "", None).await;
    assert!(stream.next(QUIET).await.is_none());

    step(&app, &cm, &ws, &post, "submit", json!({})).await;
    let submitted = stream.next(SOON).await.expect("post.submitted arrives");
    assert_eq!(submitted.event, "post.submitted");
    assert_eq!(submitted.data["type"], "post.submitted");
    assert_eq!(submitted.data["seq"], submitted.id);
    assert_eq!(submitted.data["workspace_id"], ws.as_str());
    assert_eq!(submitted.data["data"]["post_id"], post.as_str());
    assert_eq!(submitted.data["data"]["status"], "in_review");
    assert_eq!(submitted.data["data"]["previous_status"], "draft");
    assert_eq!(submitted.data["data"]["actor_id"], cm.user_id.as_str());
    assert!(submitted.data["id"].as_str().unwrap().starts_with("evt_"));
    drop(stream);

    // While nobody listens, two more steps happen.
    step(&app, &owner, &ws, &post, "approve", json!({})).await;
    let at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    step(
        &app,
        &owner,
        &ws,
        &post,
        "schedule",
        json!({"scheduled_at": at}),
    )
    .await;

    // Resuming after the last event seen delivers both, in order, once.
    let mut resumed = Stream::open(&app, &owner, &ws, "", Some(submitted.id)).await;
    let approved = resumed.next(SOON).await.unwrap();
    let scheduled = resumed.next(SOON).await.unwrap();
    assert_eq!(approved.event, "post.approved");
    assert_eq!(scheduled.event, "post.scheduled");
    assert!(submitted.id < approved.id && approved.id < scheduled.id);
    assert!(resumed.next(QUIET).await.is_none());

    // `?after=` does the same for clients that cannot set headers, and
    // `types` keeps only what was asked for.
    let mut filtered = Stream::open(
        &app,
        &owner,
        &ws,
        "?after=0&types=post.scheduled,channel.connected",
        None,
    )
    .await;
    let first = filtered.next(SOON).await.unwrap();
    let second = filtered.next(SOON).await.unwrap();
    assert_eq!(first.event, "channel.connected");
    assert_eq!(first.data["data"]["channel_id"], channel.as_str());
    assert_eq!(second.event, "post.scheduled");
    assert!(filtered.next(QUIET).await.is_none());
}

#[actix_web::test]
async fn bad_resume_points_and_unknown_types_are_refused() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let events = format!("/v1/workspaces/{ws}/events");
    let bad_id = app
        .get(&events, &owner.access)
        .header("last-event-id", "evt_yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_id.status(), StatusCode::BAD_REQUEST);
    let problem: Value = bad_id.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Last-Event-ID")
    );
    let bad_type = app
        .get(&format!("{events}?types=post.exploded"), &owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_type.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad_type.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "types");
    // Another workspace's stream does not exist for an outsider.
    let mallory = app.signup("mallory@example.com").await;
    let stranger = app.get(&events, &mallory.access).send().await.unwrap();
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    // The catalogue lists every type with what it means.
    let catalogue = app
        .call(app.get("/v1/event-types", &owner.access), StatusCode::OK)
        .await;
    let names: Vec<&str> = catalogue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for expected in [
        "post.submitted",
        "post.published",
        "post.failed",
        "channel.needs_reconnect",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[actix_web::test]
async fn a_channel_losing_its_credentials_is_reported() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let mut stream = Stream::open(&app, &owner, &ws, "", None).await;
    platform.revoke_all();
    let checked = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels/{channel}/check"),
                &owner.access,
                &json!({}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(checked["status"], "needs_reconnect");
    let event = stream.next(SOON).await.unwrap();
    assert_eq!(event.event, "channel.needs_reconnect");
    assert_eq!(event.data["data"]["channel_id"], channel.as_str());
    assert_eq!(event.data["data"]["previous_status"], "connected");
    // Checking again changes nothing and reports nothing.
    app.call(
        app.post(
            &format!("/v1/workspaces/{ws}/channels/{channel}/check"),
            &owner.access,
            &json!({}),
        ),
        StatusCode::OK,
    )
    .await;
    assert!(stream.next(QUIET).await.is_none());
}

#[actix_web::test]
async fn a_change_made_on_one_replica_reaches_streams_on_another() {
    let app = TestApp::spawn_with_plugins().await;
    let replica = app.replica().await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let post = draft(&app, &owner, &ws, &channel).await;

    // The client streams from the replica; the change is made on the first
    // server. On PostgreSQL the replica hears of it through NOTIFY.
    let mut stream = Stream::open(&replica, &owner, &ws, "", None).await;
    step(&app, &owner, &ws, &post, "submit", json!({})).await;
    let submitted = stream.next(SOON).await.expect("the replica streams it");
    assert_eq!(submitted.event, "post.submitted");
    assert_eq!(submitted.data["data"]["post_id"], post.as_str());
    replica.stop().await;
}
