use plaza_tests::{PASSWORD, TestApp, expect_json, expect_problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn accept(app: &TestApp, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = app
        .request(Method::POST, "/v1/invitations/accept")
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[actix_web::test]
async fn an_invitee_joins_with_a_new_account() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let response = app
        .post(
            &format!("/v1/workspaces/{ws}/invitations"),
            &ada.access,
            &json!({"email": "Grace@Example.com", "role": "community_manager"}),
        )
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&format!("/v1/workspaces/{ws}/invitations/"))
    );
    let invitation = expect_json(response, StatusCode::CREATED).await;
    assert_eq!(invitation["email"], "grace@example.com");
    assert_eq!(invitation["status"], "pending");
    let token = invitation["token"].as_str().unwrap();
    assert!(token.starts_with("plzi_"));

    let incomplete = accept(&app, None, json!({"token": token})).await;
    let problem = expect_problem(
        incomplete,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["password", "name"]);

    let joined = accept(
        &app,
        None,
        json!({"token": token, "name": "Grace", "password": PASSWORD}),
    )
    .await;
    let joined = expect_json(joined, StatusCode::OK).await;
    assert_eq!(joined["workspace"]["id"], ws);
    assert_eq!(joined["workspace"]["role"], "community_manager");
    let access = joined["tokens"]["access_token"].as_str().unwrap();
    let listed = expect_json(
        app.get("/v1/workspaces", access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["data"][0]["id"], ws);

    // A token works once.
    let again = accept(
        &app,
        None,
        json!({"token": token, "name": "Eve", "password": PASSWORD}),
    )
    .await;
    expect_problem(again, StatusCode::NOT_FOUND, "not_found").await;

    let list = expect_json(
        app.get(&format!("/v1/workspaces/{ws}/invitations"), &ada.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["data"][0]["status"], "accepted");
    assert!(
        list["data"][0].get("token").is_none(),
        "tokens are shown once"
    );
}

#[actix_web::test]
async fn existing_accounts_sign_in_to_accept_their_own_invitations() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let grace = app.signup("grace@example.com").await;
    let eve = app.signup("eve@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let token = app.invite(&ada, &ws, "grace@example.com", "analyst").await;

    let anonymous = accept(
        &app,
        None,
        json!({"token": token, "name": "G", "password": PASSWORD}),
    )
    .await;
    expect_problem(anonymous, StatusCode::UNAUTHORIZED, "login_required").await;
    let wrong_person = accept(&app, Some(&eve.access), json!({"token": token})).await;
    expect_problem(
        wrong_person,
        StatusCode::FORBIDDEN,
        "invitation_email_mismatch",
    )
    .await;

    let joined = accept(&app, Some(&grace.access), json!({"token": token})).await;
    let joined = expect_json(joined, StatusCode::OK).await;
    assert_eq!(joined["workspace"]["role"], "analyst");
    assert!(joined["tokens"].is_null());
    assert_eq!(
        app.get(&format!("/v1/workspaces/{ws}"), &grace.access)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn withdrawn_and_expired_invitations_cannot_be_accepted() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let token = app.invite(&ada, &ws, "grace@example.com", "analyst").await;
    let list = expect_json(
        app.get(&format!("/v1/workspaces/{ws}/invitations"), &ada.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let id = list["data"][0]["id"].as_str().unwrap();
    let path = format!("/v1/workspaces/{ws}/invitations/{id}");
    assert_eq!(
        app.delete(&path, &ada.access)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    expect_problem(
        app.delete(&path, &ada.access).send().await.unwrap(),
        StatusCode::CONFLICT,
        "invitation_not_pending",
    )
    .await;
    let withdrawn = accept(
        &app,
        None,
        json!({"token": token, "name": "G", "password": PASSWORD}),
    )
    .await;
    expect_problem(withdrawn, StatusCode::NOT_FOUND, "not_found").await;

    let token = app.invite(&ada, &ws, "lin@example.com", "analyst").await;
    let hash = plaza_api::auth::tokens::digest(&token);
    app.state
        .db
        .write(move |conn| {
            use diesel::prelude::*;
            use plaza_api::db::schema::invitations::dsl;
            diesel::update(dsl::invitations.filter(dsl::token_hash.eq(hash)))
                .set(dsl::expires_at.eq(plaza_api::db::now() - chrono::Duration::seconds(1)))
                .execute(conn)
                .map_err(plaza_api::error::ApiError::from)
        })
        .await
        .unwrap();
    let expired = accept(
        &app,
        None,
        json!({"token": token, "name": "L", "password": PASSWORD}),
    )
    .await;
    expect_problem(expired, StatusCode::NOT_FOUND, "not_found").await;
    let list = expect_json(
        app.get(&format!("/v1/workspaces/{ws}/invitations"), &ada.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let statuses: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["revoked", "expired"]);
}

#[actix_web::test]
async fn only_owners_invite_owners_and_members_are_not_invited_twice() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let grace = app
        .add_member(&ada, &ws, "grace@example.com", "strategist")
        .await;
    let path = format!("/v1/workspaces/{ws}/invitations");

    let as_owner = app
        .post(
            &path,
            &grace.access,
            &json!({"email": "x@example.com", "role": "owner"}),
        )
        .send()
        .await
        .unwrap();
    expect_problem(as_owner, StatusCode::FORBIDDEN, "permission_denied").await;
    let as_cm = app
        .post(
            &path,
            &grace.access,
            &json!({"email": "x@example.com", "role": "community_manager"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(as_cm.status(), StatusCode::CREATED);
    let member = app
        .post(
            &path,
            &ada.access,
            &json!({"email": "GRACE@example.com", "role": "analyst"}),
        )
        .send()
        .await
        .unwrap();
    expect_problem(member, StatusCode::CONFLICT, "already_member").await;
    let bad = app
        .post(
            &path,
            &ada.access,
            &json!({"email": "nope", "role": "analyst"}),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "email");
}
