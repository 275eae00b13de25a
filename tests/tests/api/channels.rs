//! Channels: connecting with credentials or OAuth2, sealed credentials,
//! health, pause and resume, posting slots.

use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::{TestApp, expect_problem};
use reqwest::StatusCode;
use serde_json::json;

#[derive(diesel::QueryableByName)]
struct Sealed {
    #[diesel(sql_type = Text)]
    credentials: String,
}

#[actix_web::test]
async fn a_channel_connects_with_checked_credentials_that_are_never_shown() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;

    let channel = app.connect_channel(&ada, &ws, &platform.url, "t0ken").await;
    assert_eq!(channel["status"], "connected");
    assert_eq!(channel["name"], "acme", "the account's handle by default");
    assert_eq!(channel["account"]["id"], "4242");
    assert_eq!(channel["account"]["followers"], 1200);
    assert_eq!(channel["has_credentials"], true);
    let text = channel.to_string();
    assert!(!text.contains("t0ken") && !text.contains("credentials\":{"));

    // At rest the token is sealed, not stored in the clear.
    let id = channel["id"].as_str().unwrap().to_owned();
    let rows: Vec<Sealed> = app
        .state
        .db
        .read({
            let id = id.clone();
            move |conn| {
                diesel::sql_query(format!(
                    "SELECT credentials FROM channels WHERE id = '{id}'"
                ))
                .load::<Sealed>(conn)
                .map_err(plaza_api::db::DbError::from)
            }
        })
        .await
        .unwrap();
    assert!(rows[0].credentials.starts_with("v1."));
    assert!(!rows[0].credentials.contains("t0ken"));

    // The same account twice is a conflict.
    let again = app
        .post(
            &format!("/v1/workspaces/{ws}/channels"),
            &ada.access,
            &json!({"plugin_id": "template", "config": {"base_url": platform.url}, "credentials": {"access_token": "t0ken"}}),
        )
        .send()
        .await
        .unwrap();
    expect_problem(again, StatusCode::CONFLICT, "channel_exists").await;
}

#[actix_web::test]
async fn bad_configuration_and_rejected_credentials_are_422_naming_why() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let path = format!("/v1/workspaces/{ws}/channels");

    let cases = [
        (
            json!({"plugin_id": "nope", "config": {}}),
            "validation_failed",
            "plugin_id",
        ),
        (
            json!({"plugin_id": "template", "config": {}}),
            "validation_failed",
            "config",
        ),
        (
            json!({"plugin_id": "template", "config": {"base_url": platform.url, "colour": "red"}}),
            "validation_failed",
            "config",
        ),
        (
            json!({"plugin_id": "template", "config": {"base_url": "ftp://x"}}),
            "validation_failed",
            "config.base_url",
        ),
        (
            json!({"plugin_id": "template", "config": {"base_url": platform.url}, "credentials": {"access_token": "wrong"}}),
            "credentials_rejected",
            "",
        ),
    ];
    for (body, code, field) in cases {
        let response = app.post(&path, &ada.access, &body).send().await.unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        if !field.is_empty() {
            assert_eq!(problem["errors"][0]["field"], field, "{body}");
        }
    }
    // Nothing was stored.
    let list = app.call(app.get(&path, &ada.access), StatusCode::OK).await;
    assert_eq!(list["data"], json!([]));
}

#[actix_web::test]
async fn health_follows_the_platform_and_pause_resume() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let channel = app.connect_channel(&ada, &ws, &platform.url, "t0ken").await;
    let path = format!(
        "/v1/workspaces/{ws}/channels/{}",
        channel["id"].as_str().unwrap()
    );

    platform.revoke_all();
    let checked = app
        .call(
            app.post(&format!("{path}/check"), &ada.access, &json!({})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(checked["status"], "needs_reconnect");
    assert!(
        checked["status_reason"]
            .as_str()
            .unwrap()
            .contains("invalid_token")
    );

    // New credentials reconnect it.
    platform
        .state
        .lock()
        .unwrap()
        .access_tokens
        .push("fresh".into());
    let reconnected = app
        .call(
            app.patch(
                &path,
                &ada.access,
                &json!({"credentials": {"access_token": "fresh"}}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(reconnected["status"], "connected");

    let paused = app
        .call(
            app.post(&format!("{path}/pause"), &ada.access, &json!({})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(paused["status"], "paused");
    let listed = app
        .call(
            app.get(
                &format!("/v1/workspaces/{ws}/channels?status=paused"),
                &ada.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let resumed = app
        .call(
            app.post(&format!("{path}/resume"), &ada.access, &json!({})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(resumed["status"], "connected");

    // Posting slots are sorted and de-duplicated; bad ones are refused.
    let slots = json!([
        {"weekday": "friday", "time": "09:00"},
        {"weekday": "monday", "time": "17:30"},
        {"weekday": "friday", "time": "09:00"}
    ]);
    let updated = app
        .call(
            app.patch(&path, &ada.access, &json!({"posting_slots": slots})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        updated["posting_slots"][0],
        json!({"weekday": "monday", "time": "17:30"})
    );
    assert_eq!(updated["posting_slots"].as_array().unwrap().len(), 2);
    let bad = app
        .patch(
            &path,
            &ada.access,
            &json!({"posting_slots": [{"weekday": "monday", "time": "25:00"}]}),
        )
        .send()
        .await
        .unwrap();
    expect_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // A stale If-Match changes nothing.
    let stale = app
        .patch(&path, &ada.access, &json!({"name": "X"}))
        .header("If-Match", "\"v1\"")
        .send()
        .await
        .unwrap();
    expect_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;

    let gone = app.delete(&path, &ada.access).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    expect_problem(
        app.get(&path, &ada.access).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[actix_web::test]
async fn oauth2_with_pkce_connects_and_tokens_refresh_before_they_expire() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("unused");
    // Tokens that expire within the refresh margin are refreshed on next use.
    platform.state.lock().unwrap().expires_in = 60;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;

    let started = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels/oauth/start"),
                &ada.access,
                &json!({
                    "plugin_id": "template",
                    "config": {"base_url": platform.url, "client_id": "plaza-test"},
                    "redirect_uri": "https://app.example.com/oauth/return"
                }),
            ),
            StatusCode::OK,
        )
        .await;
    let url = started["authorization_url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/oauth/authorize?", platform.url)));
    assert!(url.contains("code_challenge_method=S256"));

    // The person consents; the platform redirects back with a code.
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    let location = consent.headers()["location"].to_str().unwrap().to_owned();
    let back = reqwest::Url::parse(&location).unwrap();
    let query: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(query["state"], started["state"].as_str().unwrap());

    let callback = format!("/v1/workspaces/{ws}/channels/oauth/callback");
    let body = json!({"state": query["state"], "code": query["code"]});
    let channel = app
        .call(app.post(&callback, &ada.access, &body), StatusCode::CREATED)
        .await;
    assert_eq!(channel["status"], "connected");
    assert!(channel["token_expires_at"].is_string());
    // The verifier went to the token endpoint, and a state works once.
    assert!(platform.state.lock().unwrap().token_requests[0].contains_key("code_verifier"));
    let replay = app
        .post(&callback, &ada.access, &body)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        replay,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "state");

    // The token expires within the margin: a check refreshes it first.
    let path = format!(
        "/v1/workspaces/{ws}/channels/{}",
        channel["id"].as_str().unwrap()
    );
    let before = channel["token_expires_at"].clone();
    let checked = app
        .call(
            app.post(&format!("{path}/check"), &ada.access, &json!({})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(checked["status"], "connected");
    assert_ne!(checked["token_expires_at"], before);
    let requests = platform.state.lock().unwrap().token_requests.clone();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1]["grant_type"], "refresh_token");

    // A refused refresh marks the channel for reconnection.
    platform.revoke_all();
    let refused = app
        .call(
            app.post(&format!("{path}/check"), &ada.access, &json!({})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(refused["status"], "needs_reconnect");
}

#[actix_web::test]
async fn oauth_needs_a_plugin_that_declares_it_and_a_real_redirect() {
    let app = TestApp::spawn_with_plugins().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let path = format!("/v1/workspaces/{ws}/channels/oauth/start");
    let bad_redirect = app
        .post(
            &path,
            &ada.access,
            &json!({"plugin_id": "template", "config": {"base_url": "https://x.example", "client_id": "c"}, "redirect_uri": "javascript:alert(1)"}),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        bad_redirect,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "redirect_uri");
    let unknown_state = app
        .post(
            &format!("/v1/workspaces/{ws}/channels/oauth/callback"),
            &ada.access,
            &json!({"state": "made-up", "code": "x"}),
        )
        .send()
        .await
        .unwrap();
    expect_problem(
        unknown_state,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[actix_web::test]
async fn a_sealed_credential_copied_to_another_channel_does_not_open() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    platform
        .state
        .lock()
        .unwrap()
        .access_tokens
        .push("other".into());
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let first = app.connect_channel(&ada, &ws, &platform.url, "t0ken").await;
    let other_ws = app.create_workspace(&ada, "Other").await;
    let second = app
        .connect_channel(&ada, &other_ws, &platform.url, "other")
        .await;
    let (a, b) = (
        first["id"].as_str().unwrap().to_owned(),
        second["id"].as_str().unwrap().to_owned(),
    );
    app.state
        .db
        .write(move |conn| {
            diesel::sql_query(format!(
                "UPDATE channels SET credentials = (SELECT credentials FROM channels WHERE id = '{a}') WHERE id = '{b}'"
            ))
            .execute(conn)
            .map_err(plaza_api::db::DbError::from)
        })
        .await
        .unwrap();
    let check = app
        .post(
            &format!(
                "/v1/workspaces/{other_ws}/channels/{}/check",
                second["id"].as_str().unwrap()
            ),
            &ada.access,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    expect_problem(check, StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;
}

#[actix_web::test]
async fn rotating_keys_reseals_credentials_under_the_new_key() {
    use plaza_api::auth::KeyRing;
    use plaza_api::auth::keys::new_key_spec;
    use plaza_api::db::channels::ChannelRow;
    use plaza_api::plugins::channels::{open_credentials, reseal_all};

    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let channel = app.connect_channel(&ada, &ws, &platform.url, "t0ken").await;
    let id = channel["id"].as_str().unwrap().to_owned();

    let old = &app.state.keys;
    let rotated = KeyRing::parse(
        &old.signing_spec(),
        &format!("{},{}", new_key_spec(), old.encryption_spec()),
    )
    .unwrap();
    let new_kid = rotated.active_encryption().kid.clone();
    let (resealed, row) = app
        .state
        .db
        .write({
            let (ws, id) = (ws.clone(), id.clone());
            move |conn| {
                let done = reseal_all(conn, &rotated)?;
                let again = reseal_all(conn, &rotated)?;
                assert_eq!(again.channels, 0, "already under the new key");
                let row = ChannelRow::find(conn, &ws, &id)?.unwrap();
                assert_eq!(
                    open_credentials(&rotated, &row).unwrap()["access_token"],
                    "t0ken"
                );
                Ok::<_, anyhow::Error>((done, row))
            }
        })
        .await
        .unwrap();
    assert_eq!(resealed.channels, 1);
    assert_eq!(row.credentials_key_id.as_deref(), Some(new_kid.as_str()));
    assert!(
        row.credentials
            .as_deref()
            .unwrap()
            .starts_with(&format!("v1.{new_kid}."))
    );
    // The old ring alone no longer opens it: the old key can be retired.
    assert!(open_credentials(old, &row).is_err());
}

#[actix_web::test]
async fn tokens_about_to_expire_are_refreshed_in_the_background_once() {
    use plaza_api::worker::run_due;

    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("unused");
    platform.state.lock().unwrap().expires_in = 60;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let started = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels/oauth/start"),
                &ada.access,
                &json!({
                    "plugin_id": "template",
                    "config": {"base_url": platform.url, "client_id": "plaza-test"},
                    "redirect_uri": "https://app.example.com/back"
                }),
            ),
            StatusCode::OK,
        )
        .await;
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(started["authorization_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let back = reqwest::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    let query: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    let channel = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels/oauth/callback"),
                &ada.access,
                &json!({"state": query["state"], "code": query["code"]}),
            ),
            StatusCode::CREATED,
        )
        .await;

    // The next token lives an hour: one refresh, then nothing to do.
    platform.state.lock().unwrap().expires_in = 3600;
    let now = chrono::Utc::now().naive_utc();
    assert_eq!(run_due(&app.state, "w1", now).await.unwrap(), 1);
    assert_eq!(run_due(&app.state, "w2", now).await.unwrap(), 0);
    let requests = platform.state.lock().unwrap().token_requests.clone();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1]["grant_type"], "refresh_token");
    let fresh = app
        .call(
            app.get(
                &format!(
                    "/v1/workspaces/{ws}/channels/{}",
                    channel["id"].as_str().unwrap()
                ),
                &ada.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_ne!(fresh["token_expires_at"], channel["token_expires_at"]);
    assert_eq!(fresh["status"], "connected");
}
