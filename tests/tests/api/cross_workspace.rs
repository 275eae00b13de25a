//! Every workspace-scoped operation in the spec, called with another
//! workspace's ids, answers 404 and changes nothing.

use plaza_tests::{TestApp, expect_json};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A valid body for each operation that takes one.
fn body_for(operation_id: &str) -> Option<Value> {
    match operation_id {
        "update_workspace" => Some(json!({"name": "Hijacked"})),
        "create_invitation" => Some(json!({"email": "mallory@example.com", "role": "owner"})),
        "update_member" => Some(json!({"role": "analyst"})),
        "create_api_token" => Some(json!({"name": "x", "permissions": ["workspace:read"]})),
        // JSON, not a form: access is checked before the body is looked at.
        "upload_media" => Some(json!({"file": "iVBORw0KGgo="})),
        "update_media" => Some(json!({"alt_text": "Hijacked"})),
        _ => None,
    }
}

#[actix_web::test]
async fn another_workspaces_objects_answer_404() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
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
    let media = app.upload_png(&ada.access, &ws, 1).await;
    let media_id = media["id"].as_str().unwrap();

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
                "posts:read",
                "media:write",
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
            .replace("{media_id}", media_id);
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
    assert!(checked >= 24, "only {checked} calls made");
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
    let library = expect_json(
        app.get(&format!("/v1/workspaces/{ws}/media"), &ada.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        library["data"],
        json!([media]),
        "still there, still undescribed"
    );
}
