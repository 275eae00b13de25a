//! The `webhook` plugin end to end: a scheduled post goes out to a local
//! receiver in each format, signed so `standardwebhooks` accepts it, and a
//! failing endpoint is retried with the same message id and published once.

use chrono::{Duration, Utc};
use diesel::RunQueryDsl;
use diesel::sql_types::{Nullable, Text};
use plaza_api::db::DbError;
use plaza_api::worker::run_due;
use plaza_tests::receiver::{Answer, Receiver};
use plaza_tests::{Session, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(diesel::QueryableByName, Debug)]
struct Target {
    #[diesel(sql_type = Text)]
    channel_id: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    idempotency_key: String,
    #[diesel(sql_type = Nullable<Text>)]
    remote_id: Option<String>,
}

async fn targets(app: &TestApp, post: &str) -> Vec<Target> {
    let sql = format!(
        "SELECT channel_id, status, idempotency_key, remote_id FROM publish_targets WHERE post_id = '{post}'"
    );
    app.state
        .db
        .read(move |conn| {
            diesel::sql_query(sql)
                .load::<Target>(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap()
}

async fn connect_webhook(
    app: &TestApp,
    owner: &Session,
    ws: &str,
    url: &str,
    format: &str,
) -> String {
    let channel = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels"),
                &owner.access,
                &json!({
                    "plugin_id": "webhook",
                    "config": {"url": url, "format": format},
                    "credentials": {"secret": SECRET},
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(channel["account"]["handle"], "127.0.0.1", "{channel}");
    channel["id"].as_str().unwrap().to_owned()
}

/// Creates, submits and schedules a post five minutes ahead.
async fn scheduled_post(app: &TestApp, owner: &Session, ws: &str, body: Value) -> String {
    let posts = format!("/v1/workspaces/{ws}/posts");
    let post = app
        .call(app.post(&posts, &owner.access, &body), StatusCode::CREATED)
        .await;
    let id = post["id"].as_str().unwrap().to_owned();
    app.call(
        app.post(&format!("{posts}/{id}/submit"), &owner.access, &json!({})),
        StatusCode::OK,
    )
    .await;
    let at = (Utc::now() + Duration::minutes(5)).to_rfc3339();
    app.call(
        app.post(
            &format!("{posts}/{id}/schedule"),
            &owner.access,
            &json!({"scheduled_at": at}),
        ),
        StatusCode::OK,
    )
    .await;
    id
}

/// The receiver's request's signature, checked by the reference library.
fn assert_signed(received: &plaza_tests::receiver::Received) {
    standardwebhooks::Webhook::new(SECRET)
        .unwrap()
        .verify(received.body.as_bytes(), &received.header_map())
        .unwrap_or_else(|err| panic!("signature refused ({err}): {received:?}"));
}

#[actix_web::test]
async fn a_post_reaches_the_webhook_in_each_format_signed() {
    let app = TestApp::spawn_with_plugins().await;
    let receiver = Receiver::start();
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let plaza = connect_webhook(
        &app,
        &owner,
        &ws,
        &format!("{}/plaza", receiver.url),
        "plaza",
    )
    .await;
    let slack = connect_webhook(
        &app,
        &owner,
        &ws,
        &format!("{}/slack", receiver.url),
        "slack",
    )
    .await;
    let teams = connect_webhook(
        &app,
        &owner,
        &ws,
        &format!("{}/teams", receiver.url),
        "teams",
    )
    .await;
    let post = scheduled_post(
        &app,
        &owner,
        &ws,
        json!({
            "body": "Spring roast <3 & more",
            "variants": [
                {"channel_id": plaza, "options": {"campaign": "spring"}},
                {"channel_id": slack},
                {"channel_id": teams}
            ]
        }),
    )
    .await;

    let later = (Utc::now() + Duration::minutes(6)).naive_utc();
    run_due(&app.state, "w1", later).await.unwrap();

    let received = receiver.received();
    assert_eq!(received.len(), 3, "{received:?}");
    let targets = targets(&app, &post).await;
    let key_of = |channel: &str| {
        targets
            .iter()
            .find(|t| t.channel_id == channel)
            .unwrap()
            .idempotency_key
            .clone()
    };
    let at = |path: &str| received.iter().find(|r| r.path == path).unwrap();

    let plaza_request = at("/plaza");
    assert_eq!(
        plaza_request.json(),
        json!({
            "type": "post.publish",
            "idempotency_key": key_of(&plaza),
            "channel_id": plaza,
            "text": "Spring roast <3 & more",
            "reply_to": null,
            "media": [],
            "options": {"campaign": "spring"}
        })
    );
    assert_eq!(
        at("/slack").json(),
        json!({"text": "Spring roast &lt;3 &amp; more"})
    );
    let card = at("/teams").json();
    assert_eq!(card["type"], "message");
    assert_eq!(
        card["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(
        card["attachments"][0]["content"]["body"][0]["text"],
        "Spring roast <3 & more"
    );
    for (path, channel) in [("/plaza", &plaza), ("/slack", &slack), ("/teams", &teams)] {
        let request = at(path);
        assert_eq!(request.headers["content-type"], "application/json");
        assert_eq!(request.headers["webhook-id"], key_of(channel), "{path}");
        assert_signed(request);
    }
    for target in &targets {
        assert_eq!(target.status, "published", "{target:?}");
        assert_eq!(
            target.remote_id.as_deref(),
            Some(target.idempotency_key.as_str()),
            "a 204 has no id: the key names the post"
        );
    }
}

#[actix_web::test]
async fn a_failing_webhook_is_retried_and_published_once() {
    let app = TestApp::spawn_with_plugins().await;
    let receiver = Receiver::start();
    receiver.answer_next([Answer::status(500, "boom")]);
    receiver.answer_always(Answer::status(200, r#"{"id": "evt_42"}"#));
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = connect_webhook(
        &app,
        &owner,
        &ws,
        &format!("{}/hook", receiver.url),
        "plaza",
    )
    .await;
    let post = scheduled_post(
        &app,
        &owner,
        &ws,
        json!({"body": "Retry me", "variants": [{"channel_id": channel}]}),
    )
    .await;

    let later = (Utc::now() + Duration::minutes(10)).naive_utc();
    run_due(&app.state, "w1", later).await.unwrap();
    assert_eq!(receiver.received().len(), 1);
    let waiting = &targets(&app, &post).await[0];
    assert_ne!(waiting.status, "published", "{waiting:?}");

    run_due(&app.state, "w1", later + Duration::hours(2))
        .await
        .unwrap();
    let received = receiver.received();
    assert_eq!(received.len(), 2, "one failure, one success: {received:?}");
    assert_eq!(
        received[0].headers["webhook-id"], received[1].headers["webhook-id"],
        "a retry carries the same message id"
    );
    assert_eq!(received[0].body, received[1].body);
    assert_signed(&received[1]);
    let done = &targets(&app, &post).await[0];
    assert_eq!(done.status, "published");
    assert_eq!(done.remote_id.as_deref(), Some("evt_42"), "the answer's id");

    // Nothing more goes out.
    run_due(&app.state, "w1", later + Duration::hours(5))
        .await
        .unwrap();
    assert_eq!(receiver.received().len(), 2);
}
