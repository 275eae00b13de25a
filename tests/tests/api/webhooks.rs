//! Outgoing webhooks against real local receivers: signed per Standard
//! Webhooks, only what an endpoint subscribes to, retried on the schedule,
//! logged, replayable, disabled after sustained failure or `410 Gone`, and
//! never sent to an internal address.

use chrono::{Duration, NaiveDateTime, Utc};
use plaza_api::worker::run_due;
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::receiver::{Answer, Receiver};
use plaza_tests::{Session, TestApp, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use standardwebhooks::Webhook;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYqr";
const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oDC2FVsBQIhrsc";

struct Setup {
    app: TestApp,
    owner: Session,
    ws: String,
    channel: String,
    _platform: FakePlatform,
}

/// A server that may send webhooks to 127.0.0.1 (where the receivers
/// listen), with a connected channel.
async fn setup(adjust: impl FnOnce(&mut plaza_api::config::Config)) -> Setup {
    let app = TestApp::spawn_with(|c| {
        plaza_tests::load_all_plugins(c);
        c.plugin_insecure_hosts = vec!["127.0.0.1".to_owned()];
        c.webhook_allowed_hosts = vec!["127.0.0.1".to_owned()];
        adjust(c);
    })
    .await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    Setup {
        app,
        owner,
        ws,
        channel,
        _platform: platform,
    }
}

impl Setup {
    fn hooks(&self) -> String {
        format!("/v1/workspaces/{}/webhooks", self.ws)
    }

    async fn register(&self, url: &str, event_types: Value) -> String {
        let hook = self
            .app
            .call(
                self.app.post(
                    &self.hooks(),
                    &self.owner.access,
                    &json!({"url": url, "event_types": event_types, "secret": SECRET}),
                ),
                StatusCode::CREATED,
            )
            .await;
        assert!(hook.get("secret").is_none(), "secrets are write-only");
        hook["id"].as_str().unwrap().to_owned()
    }

    async fn submit_a_post(&self) -> String {
        let posts = format!("/v1/workspaces/{}/posts", self.ws);
        let post = self
            .app
            .call(
                self.app.post(
                    &posts,
                    &self.owner.access,
                    &json!({"body": "Spring roast", "variants": [{"channel_id": self.channel}]}),
                ),
                StatusCode::CREATED,
            )
            .await;
        let id = post["id"].as_str().unwrap().to_owned();
        self.app
            .call(
                self.app.post(
                    &format!("{posts}/{id}/submit"),
                    &self.owner.access,
                    &json!({}),
                ),
                StatusCode::OK,
            )
            .await;
        id
    }

    async fn pause_channel(&self) {
        self.app
            .call(
                self.app.post(
                    &format!("/v1/workspaces/{}/channels/{}/pause", self.ws, self.channel),
                    &self.owner.access,
                    &json!({}),
                ),
                StatusCode::OK,
            )
            .await;
    }

    async fn get(&self, path: &str) -> Value {
        self.app
            .call(self.app.get(path, &self.owner.access), StatusCode::OK)
            .await
    }

    async fn deliveries(&self, hook: &str) -> Vec<Value> {
        let page = self
            .get(&format!("{}/{hook}/deliveries", self.hooks()))
            .await;
        page["data"].as_array().unwrap().clone()
    }

    async fn endpoint(&self, hook: &str) -> Value {
        self.get(&format!("{}/{hook}", self.hooks())).await
    }
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

#[actix_web::test]
async fn events_reach_subscribed_endpoints_signed_and_logged() {
    let s = setup(|_| {}).await;
    let posts_hook = Receiver::start();
    let channels_hook = Receiver::start();
    let everything = Receiver::start();
    let posts = s
        .register(
            &format!("{}/plaza?team=1", posts_hook.url),
            json!(["post.submitted"]),
        )
        .await;
    s.register(&channels_hook.url, json!(["channel.paused"]))
        .await;
    s.register(&everything.url, json!(["*"])).await;

    let post = s.submit_a_post().await;
    run_due(&s.app.state, "w1", now()).await.unwrap();

    let received = posts_hook.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let delivery = &received[0];
    assert_eq!(delivery.path, "/plaza?team=1");
    assert_eq!(delivery.headers["content-type"], "application/json");
    Webhook::new(SECRET)
        .unwrap()
        .verify(delivery.body.as_bytes(), &delivery.header_map())
        .expect("the signature verifies with the endpoint's secret");
    assert!(
        Webhook::new(OTHER_SECRET)
            .unwrap()
            .verify(delivery.body.as_bytes(), &delivery.header_map())
            .is_err(),
        "and with no other"
    );
    let event = delivery.json();
    assert_eq!(event["type"], "post.submitted");
    assert_eq!(event["workspace_id"], s.ws.as_str());
    assert_eq!(event["data"]["post_id"], post.as_str());
    assert_eq!(
        delivery.headers["webhook-id"],
        event["id"].as_str().unwrap()
    );
    assert!(channels_hook.received().is_empty(), "not subscribed");
    assert_eq!(everything.received().len(), 1);

    // The log: one delivery, succeeded on its first attempt.
    let log = s.deliveries(&posts).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "succeeded");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status_code"], 204);
    assert_eq!(log[0]["event_id"], event["id"]);
    assert_eq!(log[0]["payload"], event);
    let detail = s
        .get(&format!(
            "{}/{posts}/deliveries/{}",
            s.hooks(),
            log[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(detail["history"][0]["attempt"], 1);
    assert_eq!(detail["history"][0]["status_code"], 204);
    assert!(detail["history"][0]["latency_ms"].as_i64().unwrap() >= 0);
    let healthy = s.endpoint(&posts).await;
    assert_eq!(healthy["enabled"], true);
    assert!(healthy["last_success_at"].is_string());

    s.pause_channel().await;
    run_due(&s.app.state, "w1", now()).await.unwrap();
    assert_eq!(channels_hook.received().len(), 1);
    assert_eq!(channels_hook.received()[0].json()["type"], "channel.paused");
    assert_eq!(
        posts_hook.received().len(),
        1,
        "still only what it asked for"
    );
    assert_eq!(everything.received().len(), 2);
}

#[actix_web::test]
async fn failures_are_retried_on_the_schedule_and_logged_until_one_succeeds() {
    let s = setup(|_| {}).await;
    let receiver = Receiver::start();
    let hook = s.register(&receiver.url, json!(["post.submitted"])).await;
    receiver.answer_next([
        Answer::status(500, "database on fire"),
        Answer::status(503, "busy"),
    ]);
    s.submit_a_post().await;

    let start = now();
    run_due(&s.app.state, "w1", start).await.unwrap();
    assert_eq!(receiver.received().len(), 1);
    let log = s.deliveries(&hook).await;
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["last_status_code"], 500);
    assert!(log[0]["next_attempt_at"].is_string());

    // The second attempt waits five seconds.
    run_due(&s.app.state, "w1", start + Duration::seconds(3))
        .await
        .unwrap();
    assert_eq!(receiver.received().len(), 1, "not before its time");
    run_due(&s.app.state, "w1", start + Duration::seconds(6))
        .await
        .unwrap();
    assert_eq!(receiver.received().len(), 2);
    // The third, five minutes after that.
    run_due(&s.app.state, "w1", start + Duration::seconds(6 + 290))
        .await
        .unwrap();
    assert_eq!(receiver.received().len(), 2);
    run_due(&s.app.state, "w1", start + Duration::seconds(6 + 301))
        .await
        .unwrap();
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    // Every attempt is the same message, signed afresh.
    let ids: Vec<&str> = received
        .iter()
        .map(|r| r.headers["webhook-id"].as_str())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(received.iter().all(|r| r.body == received[0].body));

    let log = s.deliveries(&hook).await;
    assert_eq!(log[0]["status"], "succeeded");
    assert_eq!(log[0]["attempts"], 3);
    let detail = s
        .get(&format!(
            "{}/{hook}/deliveries/{}",
            s.hooks(),
            log[0]["id"].as_str().unwrap()
        ))
        .await;
    let history: Vec<(i64, String)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["status_code"].as_i64().unwrap(),
                a["response_excerpt"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        history,
        vec![
            (500, "database on fire".to_owned()),
            (503, "busy".to_owned()),
            (204, String::new()),
        ]
    );
    let endpoint = s.endpoint(&hook).await;
    assert_eq!(
        endpoint["consecutive_failures"], 0,
        "a success ends the streak"
    );
    assert!(endpoint["failing_since"].is_null());
}

#[actix_web::test]
async fn sustained_failure_gives_up_disables_the_endpoint_and_a_replay_resends() {
    let s = setup(|c| c.webhook_disable_after_hours = 0).await;
    let receiver = Receiver::start();
    let hook = s.register(&receiver.url, json!(["post.submitted"])).await;
    let watcher = Receiver::start();
    s.register(&watcher.url, json!(["webhook.endpoint_disabled"]))
        .await;
    receiver.answer_always(Answer::status(500, "down"));
    s.submit_a_post().await;

    // Eight attempts over about a day, then it gives up.
    let mut at = now();
    for _ in 0..8 {
        run_due(&s.app.state, "w1", at).await.unwrap();
        at += Duration::hours(11);
    }
    assert_eq!(receiver.received().len(), 8);
    let log = s.deliveries(&hook).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"], 8);
    assert!(log[0]["next_attempt_at"].is_null());
    let endpoint = s.endpoint(&hook).await;
    assert_eq!(endpoint["enabled"], false);
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("failed"),
        "{endpoint}"
    );
    assert_eq!(endpoint["consecutive_failures"], 8);

    // The disabling is itself an event, sent to whoever subscribed to it.
    run_due(&s.app.state, "w1", at).await.unwrap();
    let told = watcher.received();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].json()["type"], "webhook.endpoint_disabled");
    assert_eq!(told[0].json()["data"]["webhook_id"], hook.as_str());

    // Disabled: new events make no delivery, tests and replays are refused.
    s.submit_a_post().await;
    run_due(&s.app.state, "w1", at).await.unwrap();
    assert_eq!(receiver.received().len(), 8);
    assert_eq!(s.deliveries(&hook).await.len(), 1);
    let delivery = log[0]["id"].as_str().unwrap().to_owned();
    let replay = format!("{}/{hook}/deliveries/{delivery}/replay", s.hooks());
    let refused = s
        .app
        .post(&replay, &s.owner.access, &json!({}))
        .send()
        .await
        .unwrap();
    expect_problem(refused, StatusCode::CONFLICT, "webhook_disabled").await;

    // Enabled again, the receiver fixed: a replay sends the same message.
    receiver.answer_always(Answer::status(200, "ok"));
    let enabled = s
        .app
        .call(
            s.app.patch(
                &format!("{}/{hook}", s.hooks()),
                &s.owner.access,
                &json!({"enabled": true}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(enabled["enabled"], true);
    assert_eq!(enabled["consecutive_failures"], 0);
    let replayed = s
        .app
        .call(
            s.app.post(&replay, &s.owner.access, &json!({})),
            StatusCode::ACCEPTED,
        )
        .await;
    assert_eq!(replayed["replay_of"], delivery.as_str());
    assert_eq!(replayed["status"], "pending");
    run_due(&s.app.state, "w1", at).await.unwrap();
    let received = receiver.received();
    assert_eq!(received.len(), 9);
    assert_eq!(
        received[8].headers["webhook-id"],
        received[0].headers["webhook-id"]
    );
    assert_eq!(received[8].body, received[0].body);
    let log = s.deliveries(&hook).await;
    assert_eq!(log[0]["id"], replayed["id"], "newest first");
    assert_eq!(log[0]["status"], "succeeded");
}

#[actix_web::test]
async fn gone_disables_at_once_and_pending_deliveries_are_given_up() {
    let s = setup(|_| {}).await;
    let receiver = Receiver::start();
    let hook = s
        .register(&receiver.url, json!(["post.submitted", "channel.paused"]))
        .await;
    receiver.answer_next([Answer::status(410, "unsubscribed")]);
    s.submit_a_post().await;
    run_due(&s.app.state, "w1", now()).await.unwrap();
    let endpoint = s.endpoint(&hook).await;
    assert_eq!(endpoint["enabled"], false);
    assert_eq!(
        endpoint["disabled_reason"],
        "the endpoint answered 410 Gone"
    );
    let log = s.deliveries(&hook).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"], 1, "no retry after 410");

    s.pause_channel().await;
    run_due(&s.app.state, "w1", now() + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(receiver.received().len(), 1, "nothing more is sent");
    let test = format!("{}/{hook}/test", s.hooks());
    let refused = s
        .app
        .post(&test, &s.owner.access, &json!({}))
        .send()
        .await
        .unwrap();
    expect_problem(refused, StatusCode::CONFLICT, "webhook_disabled").await;
}

#[actix_web::test]
async fn a_test_delivery_and_a_rotated_secret_sign_with_both_secrets_for_a_day() {
    let s = setup(|_| {}).await;
    let receiver = Receiver::start();
    let hook = s.register(&receiver.url, json!(["channel.paused"])).await;
    let rotated = s
        .app
        .call(
            s.app.post(
                &format!("{}/{hook}/secret", s.hooks()),
                &s.owner.access,
                &json!({"secret": OTHER_SECRET}),
            ),
            StatusCode::OK,
        )
        .await;
    assert!(rotated["previous_secret_expires_at"].is_string());
    assert!(rotated.get("secret").is_none());

    let test = s
        .app
        .call(
            s.app.post(
                &format!("{}/{hook}/test", s.hooks()),
                &s.owner.access,
                &json!({}),
            ),
            StatusCode::ACCEPTED,
        )
        .await;
    assert_eq!(test["event_type"], "webhook.test");
    run_due(&s.app.state, "w1", now()).await.unwrap();
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].json()["type"], "webhook.test");
    assert_eq!(
        received[0].headers["webhook-signature"].split(' ').count(),
        2
    );
    for secret in [SECRET, OTHER_SECRET] {
        Webhook::new(secret)
            .unwrap()
            .verify(received[0].body.as_bytes(), &received[0].header_map())
            .expect("both the old and the new secret verify during the grace day");
    }
}

#[actix_web::test]
async fn endpoint_urls_may_not_reach_internal_addresses_and_redirects_are_not_followed() {
    // No host allowed: every internal spelling is refused when saved.
    let app = TestApp::spawn().await;
    let canary = Receiver::start();
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let hooks = format!("/v1/workspaces/{ws}/webhooks");
    let port = canary.url.rsplit(':').next().unwrap().to_owned();
    for url in [
        canary.url.clone(),
        format!("https://127.0.0.1:{port}/"),
        format!("https://0x7f.1:{port}/"),
        format!("https://2130706433:{port}/"),
        format!("https://[::ffff:127.0.0.1]:{port}/"),
        format!("https://localhost:{port}/"),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        "https://10.1.2.3/hook".to_owned(),
        "http://hooks.example.com/plaza".to_owned(),
    ] {
        let response = app
            .post(
                &hooks,
                &owner.access,
                &json!({"url": url, "event_types": ["*"], "secret": SECRET}),
            )
            .send()
            .await
            .unwrap();
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
    }
    assert!(canary.received().is_empty());

    // A receiver the operator allows answers with a redirect to the canary:
    // the redirect is logged as a failure, never followed.
    let s = setup(|_| {}).await;
    let redirector = Receiver::start();
    redirector.answer_always(Answer::redirect(&format!("{}/stolen", canary.url)));
    let hook = s.register(&redirector.url, json!(["post.submitted"])).await;
    s.submit_a_post().await;
    run_due(&s.app.state, "w1", now()).await.unwrap();
    assert_eq!(redirector.received().len(), 1);
    assert!(canary.received().is_empty(), "the redirect was followed");
    let log = s.deliveries(&hook).await;
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["last_status_code"], 302);
    assert!(
        log[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed")
    );
}

#[actix_web::test]
async fn bad_endpoints_are_refused_field_by_field_and_nothing_is_saved() {
    let s = setup(|_| {}).await;
    let response = s
        .app
        .post(
            &s.hooks(),
            &s.owner.access,
            &json!({
                "url": "ftp://example.com/",
                "event_types": ["post.exploded"],
                "secret": "hunter2",
                "description": "x".repeat(501),
            }),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["description", "event_types", "secret", "url"]);
    let empty = s
        .app
        .post(
            &s.hooks(),
            &s.owner.access,
            &json!({"url": "https://93.184.215.14/hook", "event_types": [], "secret": SECRET}),
        )
        .send()
        .await
        .unwrap();
    expect_problem(empty, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let page = s.get(&s.hooks()).await;
    assert_eq!(page["data"], json!([]));

    // Deleting an endpoint removes it and its log.
    let receiver = Receiver::start();
    let hook = s.register(&receiver.url, json!(["*"])).await;
    s.submit_a_post().await;
    let deleted = s
        .app
        .delete(&format!("{}/{hook}", s.hooks()), &s.owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    run_due(&s.app.state, "w1", now()).await.unwrap();
    assert!(
        receiver.received().is_empty(),
        "a deleted endpoint gets nothing"
    );
    let gone = s
        .app
        .get(&format!("{}/{hook}", s.hooks()), &s.owner.access)
        .send()
        .await
        .unwrap();
    expect_problem(gone, StatusCode::NOT_FOUND, "not_found").await;
}

#[actix_web::test]
async fn updates_take_if_match_and_a_stale_etag_changes_nothing() {
    let s = setup(|_| {}).await;
    let receiver = Receiver::start();
    let hook = s.register(&receiver.url, json!(["post.submitted"])).await;
    let path = format!("{}/{hook}", s.hooks());
    let read = s.app.get(&path, &s.owner.access).send().await.unwrap();
    let tag = read.headers()["etag"].to_str().unwrap().to_owned();

    let updated = s
        .app
        .patch(
            &path,
            &s.owner.access,
            &json!({"description": "Chat", "event_types": ["*"]}),
        )
        .header("if-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let new_tag = updated.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_tag, tag);
    let body: Value = updated.json().await.unwrap();
    assert_eq!(body["description"], "Chat");
    assert_eq!(body["event_types"], json!(["*"]));

    // Someone else's edit came first: the old ETag is refused, nothing changes.
    let stale = s
        .app
        .patch(&path, &s.owner.access, &json!({"enabled": false}))
        .header("if-match", &tag)
        .send()
        .await
        .unwrap();
    expect_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    let endpoint = s.endpoint(&hook).await;
    assert_eq!(endpoint["enabled"], true);
    assert_eq!(endpoint["description"], "Chat");
}
