//! Every workspace-scoped operation in the spec, called with another
//! workspace's ids, answers 404 and changes nothing.

use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::{TestApp, expect_json};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYqr";

/// A valid body for each operation that takes one.
fn body_for(operation_id: &str) -> Option<Value> {
    match operation_id {
        "update_workspace" | "update_channel" | "update_campaign" => {
            Some(json!({"name": "Hijacked"}))
        }
        "create_invitation" => Some(json!({"email": "mallory@example.com", "role": "owner"})),
        "update_member" => Some(json!({"role": "analyst"})),
        "create_api_token" => Some(json!({"name": "x", "permissions": ["workspace:read"]})),
        "create_channel" => {
            Some(json!({"plugin_id": "template", "config": {"base_url": "https://a.example"}}))
        }
        "start_channel_oauth" => Some(
            json!({"plugin_id": "template", "config": {"base_url": "https://a.example", "client_id": "x"}, "redirect_uri": "https://a.example"}),
        ),
        "complete_channel_oauth" => Some(json!({"state": "x", "code": "y"})),
        "reorder_channel_queue" => Some(json!({"post_ids": []})),
        "create_post" | "update_post" => Some(json!({"body": "Hijacked", "variants": []})),
        "import_posts" => Some(json!({"posts": []})),
        "approve_post" | "request_post_changes" | "cancel_post" => Some(json!({"reason": "x"})),
        "schedule_post" => Some(json!({"scheduled_at": "2999-01-01T00:00:00Z"})),
        "queue_post" | "retry_post" | "put_inbox_settings" => Some(json!({})),
        "create_post_comment" => Some(json!({"body": "Hijacked"})),
        // JSON, not a form: access is checked before the body is looked at.
        "upload_media" => Some(json!({"file": "iVBORw0KGgo="})),
        "update_media" => Some(json!({"alt_text": "Hijacked"})),
        "create_campaign" => {
            Some(json!({"name": "Hijack", "starts_on": "2030-01-01", "ends_on": "2030-01-31"}))
        }
        "create_event" => Some(json!({
            "title": "Hijack",
            "starts_at": "2030-01-01T18:00:00Z",
            "ends_at": "2030-01-01T20:00:00Z",
            "time_zone": "UTC",
            "place": "Elsewhere"
        })),
        "update_event" => Some(json!({"title": "Hijacked"})),
        "create_registration" => Some(json!({"name": "Mallory", "email": "m@example.com"})),
        "update_registration" => Some(json!({"status": "cancelled"})),
        "create_webhook" => Some(json!({
            "url": "https://93.184.215.14/hook",
            "event_types": ["*"],
            "secret": SECRET
        })),
        "update_webhook" => Some(json!({"enabled": false})),
        "rotate_webhook_secret" => Some(json!({"secret": SECRET})),
        "update_inbox_item" => Some(json!({"status": "spam"})),
        "create_objective" | "update_objective" => Some(json!({
            "name": "Hijacked", "kpi": "metric:likes", "target": 1,
            "starts_on": "2026-01-01", "ends_on": "2026-01-31"
        })),
        "bulk_update_inbox_items" => Some(json!({"item_ids": [], "status": "spam"})),
        "create_inbox_reply" => Some(json!({"text": "Hijacked"})),
        "review_inbox_reply" => Some(json!({"approve": true})),
        "moderate_inbox_item" => Some(json!({"action": "hide"})),
        "dry_run_inbox_rule" => Some(json!({
            "definition": {"when": {"type": "contains_words", "words": ["x"]}, "actions": [{"type": "stop"}]}
        })),
        "create_inbox_rule" | "update_inbox_rule" => Some(json!({
            "name": "Hijack",
            "definition": {"when": {"type": "contains_words", "words": ["x"]}, "actions": [{"type": "stop"}]}
        })),
        "create_saved_reply" | "update_saved_reply" => {
            Some(json!({"name": "Hijack", "text": "Hijacked"}))
        }
        "update_contact" => Some(json!({"name": "Hijacked"})),
        "merge_contact" => Some(json!({"contact_id": uuid::Uuid::now_v7()})),
        "split_contact" => Some(json!({"identity_id": uuid::Uuid::now_v7()})),
        "create_listening_query" | "update_listening_query" => {
            Some(json!({"name": "Hijack", "query": "acme"}))
        }
        _ => None,
    }
}

#[actix_web::test]
async fn another_workspaces_objects_answer_404() {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let channel = app.connect_channel(&ada, &ws, &platform.url, "t0ken").await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let post = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/posts"),
                &ada.access,
                &json!({"body": "Acme secret plans", "variants": [{"channel_id": channel}]}),
            ),
            StatusCode::CREATED,
        )
        .await;
    let post = post["id"].as_str().unwrap().to_owned();
    let revisions = app
        .call(
            app.get(
                &format!("/v1/workspaces/{ws}/posts/{post}/revisions"),
                &ada.access,
            ),
            StatusCode::OK,
        )
        .await;
    let revision = revisions["data"][0]["id"].as_str().unwrap().to_owned();
    let comment = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/posts/{post}/comments"),
                &ada.access,
                &json!({"body": "Acme internal note"}),
            ),
            StatusCode::CREATED,
        )
        .await;
    let comment = comment["id"].as_str().unwrap().to_owned();
    let grace = app
        .add_member(&ada, &ws, "grace@example.com", "analyst")
        .await;
    let invitation = {
        app.invite(&ada, &ws, "lin@example.com", "analyst").await;
        let list = expect_json(
            app.get(&format!("/v1/workspaces/{ws}/invitations"), &ada.access)
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        list["data"][0]["id"].as_str().unwrap().to_owned()
    };
    let (token_id, _) = app.api_token(&ada, &ws, &["workspace:read"]).await;
    let created = |path: String, body: Value| {
        let request = app.post(&path, &ada.access, &body);
        async move {
            let body = expect_json(request.send().await.unwrap(), StatusCode::CREATED).await;
            body["id"].as_str().unwrap().to_owned()
        }
    };
    let created_with = |path: String, status: StatusCode| {
        let request = app.post(&path, &ada.access, &json!({}));
        async move {
            let body = expect_json(request.send().await.unwrap(), status).await;
            body["id"].as_str().unwrap().to_owned()
        }
    };
    let campaign = created(
        format!("/v1/workspaces/{ws}/campaigns"),
        json!({"name": "Launch", "starts_on": "2030-01-01", "ends_on": "2030-01-31"}),
    )
    .await;
    let event = created(
        format!("/v1/workspaces/{ws}/community-events"),
        json!({
            "title": "Meetup",
            "starts_at": "2030-01-10T18:00:00Z",
            "ends_at": "2030-01-10T20:00:00Z",
            "time_zone": "Europe/Paris",
            "place": "Paris",
            "capacity": 1,
            "campaign_id": campaign
        }),
    )
    .await;
    let webhook = created(
        format!("/v1/workspaces/{ws}/webhooks"),
        body_for("create_webhook").unwrap(),
    )
    .await;
    let delivery = created_with(
        format!("/v1/workspaces/{ws}/webhooks/{webhook}/test"),
        StatusCode::ACCEPTED,
    )
    .await;
    let media = app.upload_png(&ada.access, &ws, 1).await;
    let media_id = media["id"].as_str().unwrap();
    let registration = created(
        format!("/v1/workspaces/{ws}/community-events/{event}/registrations"),
        json!({"name": "Lin", "email": "lin@example.com"}),
    )
    .await;

    let inbox = inbox_ids(&app, &ada, &ws, &channel, &platform).await;
    let objective = created(
        format!("/v1/workspaces/{ws}/objectives"),
        json!({"name": "Acme likes", "kpi": "metric:likes", "target": 100,
               "starts_on": "2026-01-01", "ends_on": "2026-12-31"}),
    )
    .await;

    let mallory = app.signup("mallory@example.com").await;
    let mallorys = app.create_workspace(&mallory, "Mallory's").await;
    let (_, mallory_token) = app
        .api_token(
            &mallory,
            &mallorys,
            &[
                "workspace:read",
                "workspace:update",
                "workspace:delete",
                "members:read",
                "members:invite",
                "members:manage",
                "api_tokens:manage",
                "campaigns:manage",
                "posts:read",
                "media:write",
                "webhooks:manage",
            ],
        )
        .await;

    let spec: Value = serde_json::from_str(&plaza_api::openapi::spec_json().unwrap()).unwrap();
    let mut checked = 0;
    let mut leaks = Vec::new();
    for (template, operations) in spec["paths"].as_object().unwrap() {
        if !template.contains("{workspace_id}") {
            continue;
        }
        let path = template
            .replace("{workspace_id}", &ws)
            .replace("{user_id}", &grace.user_id)
            .replace("{invitation_id}", &invitation)
            .replace("{api_token_id}", &token_id)
            .replace("{channel_id}", &channel)
            .replace("{post_id}", &post)
            .replace("{revision_id}", &revision)
            .replace("{comment_id}", &comment)
            .replace("{campaign_id}", &campaign)
            .replace("{event_id}", &event)
            .replace("{registration_id}", &registration)
            .replace("{media_id}", media_id)
            .replace("{webhook_id}", &webhook)
            .replace("{delivery_id}", &delivery)
            .replace("{item_id}", &inbox.item)
            .replace("{reply_id}", &inbox.reply)
            .replace("{contact_id}", &inbox.contact)
            .replace("{rule_id}", &inbox.rule)
            .replace("{saved_reply_id}", &inbox.saved_reply)
            .replace("{query_id}", &inbox.query)
            .replace("{alert_id}", &inbox.alert)
            .replace("{objective_id}", &objective);
        assert!(
            !path.contains('{'),
            "no test id for a parameter in {template}"
        );
        for (method, operation) in operations.as_object().unwrap() {
            let operation_id = operation["operationId"].as_str().unwrap();
            let method: Method = method.to_uppercase().parse().unwrap();
            let body = body_for(operation_id);
            assert!(
                body.is_some() || operation.get("requestBody").is_none(),
                "add a body for {operation_id} to this test"
            );
            for token in [&mallory.access, &mallory_token] {
                let mut request = app.request(method.clone(), &path).bearer_auth(token);
                if let Some(body) = &body {
                    request = request.json(body);
                }
                let response = request.send().await.unwrap();
                let status = response.status();
                let text = response.text().await.unwrap();
                if status != StatusCode::NOT_FOUND || text.contains("Acme") {
                    leaks.push(format!("{operation_id} {path}: {status} {text}"));
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 58, "only {checked} calls made");
    assert!(
        leaks.is_empty(),
        "cross-workspace access:\n{}",
        leaks.join("\n")
    );

    // And nothing changed.
    let workspace = expect_json(
        app.get(&format!("/v1/workspaces/{ws}"), &ada.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(workspace["name"], "Acme");
    let members = expect_json(
        app.get(&format!("/v1/workspaces/{ws}/members"), &ada.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(members["data"].as_array().unwrap().len(), 2);
    let tokens = expect_json(
        app.get(&format!("/v1/workspaces/{ws}/api-tokens"), &ada.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(tokens["data"][0]["revoked_at"].is_null());
    let library = app
        .call(
            app.get(&format!("/v1/workspaces/{ws}/media"), &ada.access),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        library["data"],
        json!([media]),
        "still there, still undescribed"
    );
    let post = app
        .call(
            app.get(&format!("/v1/workspaces/{ws}/posts/{post}"), &ada.access),
            StatusCode::OK,
        )
        .await;
    assert_eq!(post["body"], "Acme secret plans");
    assert_eq!(post["status"], "draft");
    let channel = app
        .call(
            app.get(
                &format!("/v1/workspaces/{ws}/channels/{channel}"),
                &ada.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(channel["status"], "connected");
    let read = |path: String| {
        let request = app.get(&path, &ada.access);
        async move { expect_json(request.send().await.unwrap(), StatusCode::OK).await }
    };
    let campaign = read(format!("/v1/workspaces/{ws}/campaigns/{campaign}")).await;
    assert_eq!(campaign["name"], "Launch");
    assert_eq!(campaign["event_count"], 1);
    let event = read(format!("/v1/workspaces/{ws}/community-events/{event}")).await;
    assert_eq!(event["title"], "Meetup");
    assert_eq!(event["registrations"]["registered"], 1);
    let registration = read(format!(
        "/v1/workspaces/{ws}/community-events/{}/registrations/{registration}",
        event["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(registration["status"], "registered");
}

/// Ids of one of each inbox object of a workspace.
struct InboxIds {
    item: String,
    reply: String,
    contact: String,
    rule: String,
    saved_reply: String,
    query: String,
    alert: String,
}

async fn inbox_ids(
    app: &TestApp,
    ada: &plaza_tests::Session,
    ws: &str,
    channel: &str,
    platform: &FakePlatform,
) -> InboxIds {
    platform.mention("fan", "Acme secret complaint");
    let base = format!("/v1/workspaces/{ws}");
    app.call(
        app.post(
            &format!("{base}/channels/{channel}/inbox/poll"),
            &ada.access,
            &json!({}),
        ),
        StatusCode::OK,
    )
    .await;
    let items = app
        .call(
            app.get(&format!("{base}/inbox/items"), &ada.access),
            StatusCode::OK,
        )
        .await;
    let item = items["data"][0]["id"].as_str().unwrap().to_owned();
    let contact = items["data"][0]["author"]["contact_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .call(
            app.post(
                &format!("{base}/inbox/items/{item}/replies"),
                &ada.access,
                &json!({"text": "Acme answer"}),
            ),
            StatusCode::ACCEPTED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rule = app
        .call(
            app.post(
                &format!("{base}/inbox/rules"),
                &ada.access,
                &json!({"name": "Acme rule", "definition": {"when": {"type": "contains_words", "words": ["acme"]}, "actions": [{"type": "tag", "tag": "acme"}]}}),
            ),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let saved_reply = app
        .call(
            app.post(
                &format!("{base}/saved-replies"),
                &ada.access,
                &json!({"name": "Acme", "text": "Acme thanks"}),
            ),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // No test plugin searches and nothing raises an alert on demand: both
    // rows go in directly.
    let (query, alert) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    let sql = [
        format!(
            "INSERT INTO listening_queries (id, workspace_id, channel_id, name, query, subject, enabled, created_by, created_at, updated_at) \
             VALUES ('{query}', '{ws}', '{channel}', 'Acme', 'acme', 'brand', TRUE, '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            ada.user_id
        ),
        format!(
            "INSERT INTO inbox_alerts (id, workspace_id, hour_start, observed, expected, z_score, item_ids, created_at) \
             VALUES ('{alert}', '{ws}', '2026-01-01 00:00:00', 40, 2.0, 9.0, '[]', '2026-01-01 01:00:00')"
        ),
    ];
    app.state
        .db
        .write(move |conn| {
            use diesel::RunQueryDsl;
            for statement in sql {
                diesel::sql_query(statement).execute(conn)?;
            }
            Ok::<_, plaza_api::db::DbError>(())
        })
        .await
        .unwrap();
    InboxIds {
        item,
        reply,
        contact,
        rule,
        saved_reply,
        query,
        alert,
    }
}
