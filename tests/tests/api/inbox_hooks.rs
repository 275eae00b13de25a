//! Platform webhooks into the inbox, through `POST /v1/hooks/{channel_id}`
//! and the real Telegram plugin: verified by the plugin (the secret token),
//! de-duplicated against polling, and a replayed delivery creates nothing.

use plaza_tests::telegram::{FakeTelegram, TgUser};
use plaza_tests::{TestApp, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "7000000001:AAtest-token_value";
const SECRET: &str = "wh-s3cret_token";

async fn deliver(
    app: &TestApp,
    channel: &str,
    secret: Option<&str>,
    body: &[u8],
) -> reqwest::Response {
    let mut request = app
        .request(reqwest::Method::POST, &format!("/v1/hooks/{channel}"))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    request.send().await.unwrap()
}

#[actix_web::test]
async fn telegram_updates_arrive_once_through_the_webhook_and_forgeries_are_refused() {
    let telegram = FakeTelegram::start(TOKEN);
    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels"),
                &owner.access,
                &json!({
                    "plugin_id": "telegram",
                    "config": {"chat_id": "@acme_news", "api_base_url": telegram.url},
                    "credentials": {"bot_token": TOKEN, "webhook_secret": SECRET},
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let rita = TgUser::new(501, "Rita", "rita_reads");
    telegram.direct_message(&rita, "Hola, ¿a qué hora abrís mañana?");
    let update: Value = telegram.state.lock().unwrap().updates[0].clone();
    let body = update.to_string().into_bytes();

    // Forged: no secret, or the wrong one. Nothing is stored.
    for forged in [None, Some("wh-s3cret_tokem")] {
        expect_problem(
            deliver(&app, &channel, forged, &body).await,
            StatusCode::UNAUTHORIZED,
            "webhook_not_verified",
        )
        .await;
    }
    // Unknown channel; malformed body.
    let unknown = deliver(&app, &uuid::Uuid::now_v7().to_string(), Some(SECRET), &body).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let garbage = deliver(&app, &channel, Some(SECRET), b"{not json").await;
    assert_eq!(
        garbage.status(),
        StatusCode::BAD_REQUEST,
        "{}",
        garbage.text().await.unwrap()
    );

    let path = format!("/v1/workspaces/{ws}/inbox/items");
    let items = || async {
        app.call(app.get(&path, &owner.access), StatusCode::OK)
            .await["data"]
            .as_array()
            .unwrap()
            .clone()
    };
    assert!(items().await.is_empty());

    let taken = app
        .call(
            app.request(reqwest::Method::POST, &format!("/v1/hooks/{channel}"))
                .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                .body(body.clone()),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        taken,
        json!({"received": 1, "created": 1, "replayed": false})
    );
    let stored = items().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["kind"], "direct_message");
    assert_eq!(stored[0]["source"], "webhook");
    assert_eq!(stored[0]["lang"], "es", "{}", stored[0]);

    // The same delivery again: a replay, nothing new.
    let replay = app
        .call(
            app.request(reqwest::Method::POST, &format!("/v1/hooks/{channel}"))
                .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                .body(body),
            StatusCode::OK,
        )
        .await;
    assert_eq!(replay["replayed"], true, "{replay}");
    assert_eq!(items().await.len(), 1);

    // Polling the same update (no webhook set on the fake) finds it known.
    let poll = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels/{channel}/inbox/poll"),
                &owner.access,
                &json!({}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(poll["created"], 0, "{poll}");
    assert_eq!(items().await.len(), 1);
}
