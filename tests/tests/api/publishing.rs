//! The publisher: a scheduled post goes out once per channel, follow-ups
//! after it, and a crash mid-call is reconciled instead of posted twice.

use chrono::{Duration, Utc};
use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use plaza_api::db::DbError;
use plaza_api::worker::run_due;
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::{Session, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[derive(diesel::QueryableByName, Debug)]
struct Target {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    remote_url: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    error: Option<String>,
    #[diesel(sql_type = Text)]
    follow_up_ids: String,
}

async fn targets(app: &TestApp, post: &str) -> Vec<Target> {
    let sql = format!(
        "SELECT status, remote_url, error, follow_up_ids FROM publish_targets WHERE post_id = '{post}'"
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

async fn scheduled_post(
    app: &TestApp,
    owner: &Session,
    ws: &str,
    channel: &str,
    body: Value,
) -> String {
    let posts = format!("/v1/workspaces/{ws}/posts");
    let post = app
        .call(app.post(&posts, &owner.access, &body), StatusCode::CREATED)
        .await;
    let id = post["id"].as_str().unwrap().to_owned();
    let _ = channel;
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

#[actix_web::test]
async fn a_scheduled_post_goes_out_once_with_its_thread() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let post = scheduled_post(
        &app,
        &owner,
        &ws,
        &channel,
        json!({
            "body": "Spring roast",
            "variants": [{
                "channel_id": channel,
                "options": {"visibility": "unlisted"},
                "follow_ups": [{"text": "Notes: cherry"}, {"text": "Notes: cocoa"}]
            }]
        }),
    )
    .await;

    // Not due yet: nothing runs.
    let now = Utc::now().naive_utc();
    assert_eq!(run_due(&app.state, "w1", now).await.unwrap(), 0);
    let later = now + Duration::minutes(6);
    assert_eq!(run_due(&app.state, "w1", later).await.unwrap(), 1);

    let sent = platform.state.lock().unwrap().posts.clone();
    assert_eq!(sent.len(), 3, "the post and its two follow-ups: {sent:?}");
    assert_eq!(sent[0]["text"], "Spring roast");
    assert_eq!(sent[0]["visibility"], "unlisted");
    assert_eq!(
        sent[1]["reply_to"], "1",
        "the first follow-up answers the post"
    );
    assert_eq!(sent[2]["reply_to"], "2", "the second answers the first");

    let done = &targets(&app, &post).await[0];
    assert_eq!(done.status, "published");
    assert_eq!(done.remote_url.as_deref(), Some("https://fake.example/p/1"));
    assert_eq!(done.follow_up_ids, r#"["2","3"]"#);
    let view = app
        .call(
            app.get(&format!("/v1/workspaces/{ws}/posts/{post}"), &owner.access),
            StatusCode::OK,
        )
        .await;
    assert_eq!(view["status"], "published");
    assert!(view["published_at"].is_string());
    assert_eq!(view["targets"][0]["status"], "published");
    assert_eq!(view["targets"][0]["remote_url"], "https://fake.example/p/1");
    assert_eq!(view["targets"][0]["follow_up_ids"], json!(["2", "3"]));

    // Running again sends nothing more (only the hourly housekeeping is due).
    assert_eq!(
        run_due(&app.state, "w2", later + Duration::hours(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(platform.state.lock().unwrap().posts.len(), 3);
}

#[actix_web::test]
async fn a_thread_interrupted_by_a_failing_platform_resumes_where_it_stopped() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let post = scheduled_post(
        &app,
        &owner,
        &ws,
        &channel,
        json!({
            "body": "Spring roast",
            "variants": [{
                "channel_id": channel,
                "follow_ups": [{"text": "Notes: cherry"}, {"text": "Notes: cocoa"}]
            }]
        }),
    )
    .await;
    // The main part goes out; the platform then fails the first follow-up.
    platform.state.lock().unwrap().post_answers = vec![200, 503];
    let later = (Utc::now() + Duration::minutes(10)).naive_utc();
    assert_eq!(run_due(&app.state, "w1", later).await.unwrap(), 1);
    let halfway = &targets(&app, &post).await[0];
    assert_eq!(halfway.status, "published");
    assert_eq!(halfway.follow_up_ids, "[]");
    assert!(
        halfway
            .error
            .as_deref()
            .unwrap()
            .contains("follow-up 0 failed")
    );
    let path = format!("/v1/workspaces/{ws}/posts/{post}");
    let view = app
        .call(app.get(&path, &owner.access), StatusCode::OK)
        .await;
    assert_eq!(view["status"], "publishing", "the thread is not done");

    // The retry sends the rest of the thread, not the main part again.
    assert_eq!(
        run_due(&app.state, "w1", later + Duration::hours(2))
            .await
            .unwrap(),
        2,
        "the publish job and the hourly housekeeping"
    );
    let sent = platform.state.lock().unwrap().posts.clone();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[0]["text"], "Spring roast");
    assert_eq!(sent[1]["text"], "Notes: cherry");
    assert_eq!(sent[1]["reply_to"], "1");
    assert_eq!(sent[2]["reply_to"], "2");
    let done = &targets(&app, &post).await[0];
    assert_eq!(done.follow_up_ids, r#"["2","3"]"#);
    assert_eq!(done.error, None);
    let view = app
        .call(app.get(&path, &owner.access), StatusCode::OK)
        .await;
    assert_eq!(view["status"], "published");
}

/// Leaves `post` as a worker that died mid-call leaves it: `publishing`,
/// with its target's intent (`sending`) recorded and no outcome. Answers the
/// target's idempotency key.
async fn interrupt(app: &TestApp, ws: &str, post: &str, channel: &str) -> String {
    let key = format!("plaza-{post}-{channel}");
    let (post, ch, ws_id, stored) = (
        post.to_owned(),
        channel.to_owned(),
        ws.to_owned(),
        key.clone(),
    );
    app.state
        .db
        .write(move |conn| {
            diesel::sql_query(format!("UPDATE posts SET status = 'publishing' WHERE id = '{post}'"))
                .execute(conn)?;
            let now = plaza_api::db::now();
            diesel::sql_query(format!(
                "INSERT INTO publish_targets (id, workspace_id, post_id, channel_id, status, \
                 idempotency_key, follow_up_ids, attempts, created_at, updated_at) VALUES \
                 ('{}', '{ws_id}', '{post}', '{ch}', 'sending', '{stored}', '[]', 1, '{now}', '{now}')",
                uuid::Uuid::now_v7()
            ))
            .execute(conn)?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
    key
}

#[actix_web::test]
async fn an_interrupted_call_is_looked_up_by_its_key_and_never_sent_twice() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let body = json!({"body": "Hello", "variants": [{"channel_id": channel}]});

    // One call reached the platform before its worker died; the other did not.
    let went_out = scheduled_post(&app, &owner, &ws, &channel, body.clone()).await;
    let went_out_key = interrupt(&app, &ws, &went_out, &channel).await;
    platform.state.lock().unwrap().by_key.insert(
        went_out_key.clone(),
        json!({"id": "77", "url": "https://fake.example/p/77", "text": "Hello"}),
    );
    let never_left = scheduled_post(&app, &owner, &ws, &channel, body).await;
    let never_left_key = interrupt(&app, &ws, &never_left, &channel).await;
    let later = (Utc::now() + Duration::minutes(10)).naive_utc();
    assert_eq!(run_due(&app.state, "w2", later).await.unwrap(), 2);

    {
        let state = platform.state.lock().unwrap();
        let mut looked_up = state.lookups.clone();
        looked_up.sort();
        let mut expected = vec![went_out_key.clone(), never_left_key.clone()];
        expected.sort();
        assert_eq!(looked_up, expected, "both keys are looked up first");
        assert_eq!(state.received(&went_out_key), 0, "found: not sent again");
        assert_eq!(state.received(&never_left_key), 1, "not found: sent once");
        assert_eq!(state.posts.len(), 1);
    }
    let found = &targets(&app, &went_out).await[0];
    assert_eq!(found.status, "published");
    assert_eq!(
        found.remote_url.as_deref(),
        Some("https://fake.example/p/77")
    );
    let sent = &targets(&app, &never_left).await[0];
    assert_eq!(sent.status, "published");
    for post in [&went_out, &never_left] {
        let view = app
            .call(
                app.get(&format!("/v1/workspaces/{ws}/posts/{post}"), &owner.access),
                StatusCode::OK,
            )
            .await;
        assert_eq!(view["status"], "published");
    }
}

#[actix_web::test]
async fn unscheduled_posts_are_not_sent_and_lookups_are_retried_then_go_to_review() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let body = json!({"body": "Hello", "variants": [{"channel_id": channel}]});

    let first = scheduled_post(&app, &owner, &ws, &channel, body.clone()).await;
    app.call(
        app.post(
            &format!("/v1/workspaces/{ws}/posts/{first}/unschedule"),
            &owner.access,
            &json!({}),
        ),
        StatusCode::OK,
    )
    .await;
    let later = (Utc::now() + Duration::minutes(10)).naive_utc();
    assert_eq!(run_due(&app.state, "w1", later).await.unwrap(), 0);

    // A worker died after recording the intent and before the outcome. The
    // platform, having a bad minute, fails the lookup (503): the target
    // waits in `sending` and the question is asked again later.
    let second = scheduled_post(&app, &owner, &ws, &channel, body).await;
    interrupt(&app, &ws, &second, &channel).await;
    platform.state.lock().unwrap().lookup_answers = vec![503, 400];
    assert_eq!(run_due(&app.state, "w2", later).await.unwrap(), 1);
    assert_eq!(platform.state.lock().unwrap().lookups.len(), 1);
    let waiting = &targets(&app, &second).await[0];
    assert_eq!(waiting.status, "sending");
    assert!(waiting.error.is_none());
    // Then it refuses the question itself (400): nobody can say whether
    // the post went out, so nothing is resent and a person decides.
    run_due(&app.state, "w2", later + Duration::minutes(30))
        .await
        .unwrap();
    assert_eq!(platform.state.lock().unwrap().lookups.len(), 2);
    assert!(
        platform.state.lock().unwrap().posts.is_empty(),
        "never sent twice"
    );
    let review = &targets(&app, &second).await[0];
    assert_eq!(review.status, "needs_review");
    assert!(review.error.as_deref().unwrap().contains("cannot say"));
    let view = app
        .call(
            app.get(
                &format!("/v1/workspaces/{ws}/posts/{second}"),
                &owner.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(view["status"], "failed");
    assert_eq!(view["targets"][0]["status"], "needs_review");

    // Someone checked the platform: the post is not there and should not
    // be. Cancelling the target closes it for good; it is never sent.
    let cancel = format!("/v1/workspaces/{ws}/posts/{second}/targets/{channel}/cancel");
    let cancelled = app
        .call(app.post(&cancel, &owner.access, &json!({})), StatusCode::OK)
        .await;
    assert_eq!(cancelled["targets"][0]["status"], "cancelled");
    assert!(
        cancelled["targets"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with(&format!("cancelled by {}", owner.user_id))
    );
    let twice = app
        .post(&cancel, &owner.access, &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    let elsewhere = app
        .post(
            &format!(
                "/v1/workspaces/{ws}/posts/{second}/targets/{}/cancel",
                uuid::Uuid::now_v7()
            ),
            &owner.access,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    let retried = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/posts/{second}/retry"),
                &owner.access,
                &json!({"include_needs_review": true}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(retried["targets"][0]["status"], "cancelled");
    run_due(&app.state, "w3", later + Duration::minutes(1))
        .await
        .unwrap();
    assert!(platform.state.lock().unwrap().posts.is_empty());
}

#[actix_web::test]
async fn housekeeping_forgets_old_events_and_finished_jobs_but_keeps_dead_letters() {
    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let now = plaza_api::db::now();
    let long_ago = now - Duration::days(40);
    let ws_id = ws.clone();
    app.state
        .db
        .write(move |conn| {
            for (id, at) in [("evt_old", long_ago), ("evt_new", now)] {
                diesel::sql_query(format!(
                    "INSERT INTO activity_events (id, workspace_id, event_type, data, occurred_at) \
                     VALUES ('{id}', '{ws_id}', 'post.submitted', '{{}}', '{at}')"
                ))
                .execute(conn)?;
            }
            for (id, status) in [("old-done", "succeeded"), ("old-dead", "dead")] {
                diesel::sql_query(format!(
                    "INSERT INTO jobs (id, kind, payload, status, attempts, max_attempts, run_at, \
                     fence, created_at, updated_at, finished_at) VALUES ('{id}', 'publish_post', \
                     '{{}}', '{status}', 1, 1, '{long_ago}', 1, '{long_ago}', '{long_ago}', '{long_ago}')"
                ))
                .execute(conn)?;
            }
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
    // The first look plans the housekeeping an hour ahead; then it runs.
    assert_eq!(run_due(&app.state, "w1", now).await.unwrap(), 0);
    assert_eq!(
        run_due(&app.state, "w1", now + Duration::minutes(61))
            .await
            .unwrap(),
        1
    );
    let left = app
        .state
        .db
        .read(|conn| {
            #[derive(diesel::QueryableByName)]
            struct Id {
                #[diesel(sql_type = Text)]
                id: String,
            }
            let ids = diesel::sql_query(
                "SELECT id FROM activity_events UNION ALL \
                 SELECT id FROM jobs WHERE id IN ('old-done', 'old-dead')",
            )
            .load::<Id>(conn)?;
            Ok::<_, DbError>(ids.into_iter().map(|i| i.id).collect::<Vec<_>>())
        })
        .await
        .unwrap();
    assert!(left.contains(&"evt_new".to_owned()), "{left:?}");
    assert!(!left.contains(&"evt_old".to_owned()), "{left:?}");
    assert!(left.contains(&"old-dead".to_owned()), "{left:?}");
    assert!(!left.contains(&"old-done".to_owned()), "{left:?}");
}

#[actix_web::test]
async fn dead_jobs_are_listed_for_administrators_and_retried_by_hand() {
    let app = TestApp::spawn_with_plugins().await;
    let admin = app.signup("admin@example.com").await;
    let user = app.signup("user@example.com").await;
    let id = admin.user_id.clone();
    app.state
        .db
        .write(move |conn| {
            plaza_api::db::users::UserRow::set_instance_role(conn, &id, "admin")
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    // A job no handler can read fails for good at once.
    let job = app
        .state
        .db
        .write(|conn| {
            let job = plaza_api::jobs::NewJob::new("publish_post", &json!({"post": 1}));
            plaza_api::jobs::enqueue(conn, &job, plaza_api::db::now()).map_err(DbError::from)
        })
        .await
        .unwrap();
    let job = job.id().to_owned();
    assert_eq!(
        run_due(&app.state, "w1", plaza_api::db::now())
            .await
            .unwrap(),
        1
    );

    let letters = app
        .call(app.get("/v1/admin/jobs", &admin.access), StatusCode::OK)
        .await;
    assert_eq!(letters["data"].as_array().unwrap().len(), 1);
    let letter = &letters["data"][0];
    assert_eq!(letter["id"], job.as_str());
    assert_eq!(letter["status"], "dead");
    assert_eq!(letter["kind"], "publish_post");
    assert_eq!(letter["payload"], json!({"post": 1}));
    assert!(
        letter["last_error"]
            .as_str()
            .unwrap()
            .contains("unreadable payload")
    );
    let none = app
        .call(
            app.get(
                "/v1/admin/jobs?status=queued&kind=publish_post",
                &admin.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(none["data"], json!([]));

    let refused = app
        .get("/v1/admin/jobs", &user.access)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused = app
        .post(
            &format!("/v1/admin/jobs/{job}/retry"),
            &user.access,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let retried = app
        .call(
            app.post(
                &format!("/v1/admin/jobs/{job}/retry"),
                &admin.access,
                &json!({}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(retried["status"], "queued");
    assert_eq!(retried["attempts"], 0);
    let again = app
        .post(
            &format!("/v1/admin/jobs/{job}/retry"),
            &admin.access,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let missing = app
        .get(
            &format!("/v1/admin/jobs/{}", uuid::Uuid::now_v7()),
            &admin.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_refused_post_fails_its_target_and_a_revoked_account_needs_reconnecting() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let post = scheduled_post(
        &app,
        &owner,
        &ws,
        &channel,
        json!({"body": "Hello", "variants": [{"channel_id": channel}]}),
    )
    .await;
    platform.revoke_all();
    let later = (Utc::now() + Duration::minutes(10)).naive_utc();
    assert_eq!(run_due(&app.state, "w1", later).await.unwrap(), 1);
    let failed = &targets(&app, &post).await[0];
    assert_eq!(failed.status, "failed");
    let channel = app
        .call(
            app.get(
                &format!("/v1/workspaces/{ws}/channels/{channel}"),
                &owner.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(channel["status"], "needs_reconnect");

    // Reconnected, the failed target is sent again by hand; only it.
    platform
        .state
        .lock()
        .unwrap()
        .access_tokens
        .push("fresh".into());
    let channel_path = format!(
        "/v1/workspaces/{ws}/channels/{}",
        channel["id"].as_str().unwrap()
    );
    app.call(
        app.patch(
            &channel_path,
            &owner.access,
            &json!({"credentials": {"access_token": "fresh"}}),
        ),
        StatusCode::OK,
    )
    .await;
    let retry = format!("/v1/workspaces/{ws}/posts/{post}/retry");
    let retried = app
        .call(app.post(&retry, &owner.access, &json!({})), StatusCode::OK)
        .await;
    assert_eq!(retried["status"], "publishing");
    assert_eq!(retried["targets"][0]["status"], "pending");
    assert_eq!(
        run_due(&app.state, "w2", later + Duration::minutes(1))
            .await
            .unwrap(),
        1
    );
    let view = app
        .call(
            app.get(&format!("/v1/workspaces/{ws}/posts/{post}"), &owner.access),
            StatusCode::OK,
        )
        .await;
    assert_eq!(view["status"], "published");
    assert_eq!(platform.state.lock().unwrap().posts.len(), 1);
    // A published post is not retried.
    let again = app
        .post(&retry, &owner.access, &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
}
