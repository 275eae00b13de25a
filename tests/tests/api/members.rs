use plaza_tests::{TestApp, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::json;

#[actix_web::test]
async fn owners_change_roles_with_if_match() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let grace = app
        .add_member(&ada, &ws, "grace@example.com", "moderator")
        .await;
    let path = format!("/v1/workspaces/{ws}/members/{}", grace.user_id);

    let member = app.get(&path, &ada.access).send().await.unwrap();
    let etag = member.headers()["etag"].to_str().unwrap().to_owned();
    let member = expect_json(member, StatusCode::OK).await;
    assert_eq!(member["role"], "moderator");
    assert_eq!(member["email"], "grace@example.com");

    // A moderator cannot update the workspace...
    let rename = |token: &str| {
        app.patch(
            &format!("/v1/workspaces/{ws}"),
            token,
            &json!({"name": "X"}),
        )
        .send()
    };
    expect_problem(
        rename(&grace.access).await.unwrap(),
        StatusCode::FORBIDDEN,
        "permission_denied",
    )
    .await;

    let promoted = app
        .patch(&path, &ada.access, &json!({"role": "strategist"}))
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(promoted, StatusCode::OK).await["role"],
        "strategist"
    );
    // ...and can the moment she is a strategist: roles are re-read on every call.
    assert_eq!(
        rename(&grace.access).await.unwrap().status(),
        StatusCode::OK
    );

    let stale = app
        .patch(&path, &ada.access, &json!({"role": "analyst"}))
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    expect_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;

    let bad_role = app
        .patch(&path, &ada.access, &json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        bad_role,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "role");
}

#[actix_web::test]
async fn a_workspace_never_loses_its_last_owner() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let own = format!("/v1/workspaces/{ws}/members/{}", ada.user_id);

    let demote = app
        .patch(&own, &ada.access, &json!({"role": "analyst"}))
        .send()
        .await
        .unwrap();
    expect_problem(demote, StatusCode::CONFLICT, "last_owner").await;
    let leave = app.delete(&own, &ada.access).send().await.unwrap();
    expect_problem(leave, StatusCode::CONFLICT, "last_owner").await;

    // With a second owner, the first may step down.
    let bob = app.add_member(&ada, &ws, "bob@example.com", "owner").await;
    let demote = app
        .patch(&own, &ada.access, &json!({"role": "analyst"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(demote, StatusCode::OK).await["role"], "analyst");
    let bob_path = format!("/v1/workspaces/{ws}/members/{}", bob.user_id);
    let bob_leaves = app.delete(&bob_path, &bob.access).send().await.unwrap();
    expect_problem(bob_leaves, StatusCode::CONFLICT, "last_owner").await;
}

#[actix_web::test]
async fn removal_takes_effect_at_once() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let grace = app
        .add_member(&ada, &ws, "grace@example.com", "community_manager")
        .await;
    let workspace = format!("/v1/workspaces/{ws}");
    assert_eq!(
        app.get(&workspace, &grace.access)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let removed = app
        .delete(
            &format!("{workspace}/members/{}", grace.user_id),
            &ada.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    // Her access token is still valid, but the workspace is gone for her.
    let response = app.get(&workspace, &grace.access).send().await.unwrap();
    expect_problem(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[actix_web::test]
async fn members_may_leave_but_not_remove_others() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let grace = app
        .add_member(&ada, &ws, "grace@example.com", "strategist")
        .await;
    let lin = app
        .add_member(&ada, &ws, "lin@example.com", "analyst")
        .await;
    let members = format!("/v1/workspaces/{ws}/members");

    let kick = app
        .delete(&format!("{members}/{}", lin.user_id), &grace.access)
        .send()
        .await
        .unwrap();
    expect_problem(kick, StatusCode::FORBIDDEN, "permission_denied").await;
    let leave = app
        .delete(&format!("{members}/{}", lin.user_id), &lin.access)
        .send()
        .await
        .unwrap();
    assert_eq!(leave.status(), StatusCode::NO_CONTENT);

    let list = expect_json(
        app.get(&members, &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let mut emails: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    emails.sort_unstable();
    assert_eq!(emails, ["ada@example.com", "grace@example.com"]);

    let unknown = app
        .delete(&format!("{members}/{}", uuid::Uuid::now_v7()), &ada.access)
        .send()
        .await
        .unwrap();
    expect_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;
}
