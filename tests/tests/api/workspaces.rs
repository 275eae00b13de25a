use plaza_tests::{TestApp, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::json;

#[actix_web::test]
async fn create_read_rename_delete() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;

    let response = app
        .post(
            "/v1/workspaces",
            &ada.access,
            &json!({"name": "  Acme Coffee "}),
        )
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let created = expect_json(response, StatusCode::CREATED).await;
    assert_eq!(created["name"], "Acme Coffee");
    assert_eq!(created["role"], "owner");
    assert_eq!(
        location,
        format!("/v1/workspaces/{}", created["id"].as_str().unwrap())
    );

    let read = app.get(&location, &ada.access).send().await.unwrap();
    assert_eq!(read.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(expect_json(read, StatusCode::OK).await, created);

    let renamed = app
        .patch(&location, &ada.access, &json!({"name": "Acme Coffee EU"}))
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    let new_etag = renamed.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    assert_eq!(
        expect_json(renamed, StatusCode::OK).await["name"],
        "Acme Coffee EU"
    );

    // The old ETag is stale now: a lost update is refused, and nothing changes.
    let stale = app
        .patch(&location, &ada.access, &json!({"name": "Overwritten"}))
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
    let current = expect_json(
        app.get(&location, &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(current["name"], "Acme Coffee EU");

    let stale_delete = app
        .delete(&location, &ada.access)
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    expect_problem(
        stale_delete,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    let deleted = app
        .delete(&location, &ada.access)
        .header("if-match", &new_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.get(&location, &ada.access).send().await.unwrap();
    expect_problem(gone, StatusCode::NOT_FOUND, "not_found").await;
}

#[actix_web::test]
async fn names_are_validated() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    for name in [
        json!(""),
        json!("x".repeat(101)),
        json!("two\nlines"),
        json!(42),
    ] {
        let response = app
            .post("/v1/workspaces", &ada.access, &json!({"name": name}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "name");
    }
}

#[actix_web::test]
async fn lists_page_through_every_workspace_once() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(app.create_workspace(&ada, &format!("Brand {i}")).await);
    }
    app.create_workspace(&bob, "Bob's").await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/workspaces?limit=2&cursor={c}"),
            None => "/v1/workspaces?limit=2".to_owned(),
        };
        let page = expect_json(
            app.get(&path, &ada.access).send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|w| w["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen, created,
        "every workspace once, in creation order, none of Bob's"
    );

    for bad in [
        "limit=0",
        "limit=201",
        "cursor=bm9wZQ",
        "limit=x",
        "colour=red",
    ] {
        let response = app
            .get(&format!("/v1/workspaces?{bad}"), &ada.access)
            .send()
            .await
            .unwrap();
        assert!(
            matches!(
                response.status(),
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{bad}: {}",
            response.status()
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
}

#[actix_web::test]
async fn idempotency_keys_replay_the_first_answer() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let create = |name: &str, key: &str, token: &str| {
        app.post("/v1/workspaces", token, &json!({"name": name}))
            .header("idempotency-key", key)
            .send()
    };
    let first = create("Acme", "key-1", &ada.access).await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = expect_json(first, StatusCode::CREATED).await;
    let again = create("Acme", "key-1", &ada.access).await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.headers()["location"].to_str().unwrap(),
        format!("/v1/workspaces/{}", first["id"].as_str().unwrap())
    );
    assert_eq!(expect_json(again, StatusCode::CREATED).await, first);

    let other_body = create("Other", "key-1", &ada.access).await.unwrap();
    expect_problem(
        other_body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;

    // Keys belong to their caller: Bob's key-1 is his own.
    let bob = app.signup("bob@example.com").await;
    let bobs = expect_json(
        create("Acme", "key-1", &bob.access).await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(bobs["id"], first["id"]);

    let list = expect_json(
        app.get("/v1/workspaces", &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "the replay created nothing"
    );

    for bad in ["", &"k".repeat(256), "has space"] {
        let response = create("Acme", bad, &ada.access).await.unwrap();
        expect_problem(response, StatusCode::BAD_REQUEST, "invalid_idempotency_key").await;
    }
}

#[actix_web::test]
async fn a_failed_create_does_not_burn_its_key() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let path = format!("/v1/workspaces/{ws}/invitations");
    let invite = |email: &str| {
        app.post(
            &path,
            &ada.access,
            &json!({"email": email, "role": "analyst"}),
        )
        .header("idempotency-key", "invite-1")
        .send()
    };
    // Ada is already a member: 409, and the key is released...
    expect_problem(
        invite("ada@example.com").await.unwrap(),
        StatusCode::CONFLICT,
        "already_member",
    )
    .await;
    // ...so the same key may carry the corrected request.
    let ok = invite("grace@example.com").await.unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
}

#[actix_web::test]
async fn api_tokens_cannot_create_workspaces() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let (_, token) = app.api_token(&ada, &ws, &["workspace:read"]).await;
    let response = app
        .post("/v1/workspaces", &token, &json!({"name": "Sneaky"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::FORBIDDEN, "user_token_required").await;
}
