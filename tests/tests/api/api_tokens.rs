use plaza_tests::{TestApp, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::json;

#[actix_web::test]
async fn a_token_does_what_it_was_granted_in_its_workspace_only() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let other = app.create_workspace(&ada, "Other").await;
    let (id, token) = app.api_token(&ada, &ws, &["workspace:read"]).await;
    assert!(token.starts_with("plzt_"));

    let read = app
        .get(&format!("/v1/workspaces/{ws}"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(read, StatusCode::OK).await["id"], ws);
    // Ada may list members; her token was not granted that.
    let members = app
        .get(&format!("/v1/workspaces/{ws}/members"), &token)
        .send()
        .await
        .unwrap();
    expect_problem(members, StatusCode::FORBIDDEN, "permission_denied").await;
    // Another workspace of Ada's does not exist as far as the token knows.
    let elsewhere = app
        .get(&format!("/v1/workspaces/{other}"), &token)
        .send()
        .await
        .unwrap();
    expect_problem(elsewhere, StatusCode::NOT_FOUND, "not_found").await;
    // Tokens do not mint tokens (even one granted api_tokens:manage), nor act as a person.
    let (_, manager) = app
        .api_token(&ada, &ws, &["workspace:read", "api_tokens:manage"])
        .await;
    let mint = app
        .post(
            &format!("/v1/workspaces/{ws}/api-tokens"),
            &manager,
            &json!({"name": "x", "permissions": ["workspace:read"]}),
        )
        .send()
        .await
        .unwrap();
    expect_problem(mint, StatusCode::FORBIDDEN, "user_token_required").await;
    expect_problem(
        app.get("/v1/me", &token).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "user_token_required",
    )
    .await;

    let list = expect_json(
        app.get(&format!("/v1/workspaces/{ws}/api-tokens"), &ada.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let listed = &list["data"][0];
    assert_eq!(listed["id"], id);
    assert_eq!(listed["permissions"], json!(["workspace:read"]));
    assert!(listed["last_used_at"].is_string(), "use is recorded");
    assert!(listed.get("token").is_none() && listed.get("token_hash").is_none());

    let revoke = app
        .delete(&format!("/v1/workspaces/{ws}/api-tokens/{id}"), &ada.access)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let after = app
        .get(&format!("/v1/workspaces/{ws}"), &token)
        .send()
        .await
        .unwrap();
    expect_problem(after, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let twice = app
        .delete(&format!("/v1/workspaces/{ws}/api-tokens/{id}"), &ada.access)
        .send()
        .await
        .unwrap();
    expect_problem(twice, StatusCode::NOT_FOUND, "not_found").await;
}

#[actix_web::test]
async fn a_token_never_exceeds_its_creators_role() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let grace = app
        .add_member(&ada, &ws, "grace@example.com", "strategist")
        .await;
    let path = format!("/v1/workspaces/{ws}/api-tokens");

    let beyond = app
        .post(
            &path,
            &grace.access,
            &json!({"name": "x", "permissions": ["workspace:read", "members:manage"]}),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        beyond,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "permissions[1]");

    let (_, token) = app
        .api_token(&grace, &ws, &["workspace:read", "workspace:update"])
        .await;
    let rename = || {
        app.patch(
            &format!("/v1/workspaces/{ws}"),
            &token,
            &json!({"name": "Renamed"}),
        )
        .send()
    };
    assert_eq!(rename().await.unwrap().status(), StatusCode::OK);

    // Demote Grace to analyst: her token loses what her role lost, at once.
    let member = format!("/v1/workspaces/{ws}/members/{}", grace.user_id);
    app.patch(&member, &ada.access, &json!({"role": "analyst"}))
        .send()
        .await
        .unwrap();
    expect_problem(
        rename().await.unwrap(),
        StatusCode::FORBIDDEN,
        "permission_denied",
    )
    .await;
    // Remove her: the token no longer reaches the workspace.
    app.delete(&member, &ada.access).send().await.unwrap();
    let gone = app
        .get(&format!("/v1/workspaces/{ws}"), &token)
        .send()
        .await
        .unwrap();
    expect_problem(gone, StatusCode::NOT_FOUND, "not_found").await;
}

#[actix_web::test]
async fn token_requests_are_validated() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let path = format!("/v1/workspaces/{ws}/api-tokens");
    let cases = [
        (
            json!({"name": "", "permissions": ["workspace:read"]}),
            "name",
        ),
        (json!({"name": "x", "permissions": []}), "permissions"),
        (
            json!({"name": "x", "permissions": ["root"]}),
            "permissions[0]",
        ),
        (
            json!({"name": "x", "permissions": ["workspace:read"], "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "x", "permissions": ["workspace:read"], "workspace_id": ws}),
            "workspace_id",
        ),
    ];
    for (body, field) in cases {
        let response = app.post(&path, &ada.access, &body).send().await.unwrap();
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
}

#[actix_web::test]
async fn expired_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let (id, token) = app.api_token(&ada, &ws, &["workspace:read"]).await;
    app.state
        .db
        .write(move |conn| {
            use diesel::prelude::*;
            use plaza_api::db::schema::api_tokens::dsl;
            diesel::update(dsl::api_tokens.filter(dsl::id.eq(id)))
                .set(dsl::expires_at.eq(Some(plaza_api::db::now() - chrono::Duration::seconds(1))))
                .execute(conn)
                .map_err(plaza_api::error::ApiError::from)
        })
        .await
        .unwrap();
    let response = app
        .get(&format!("/v1/workspaces/{ws}"), &token)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
}
