use plaza_api::config::SignupPolicy;
use plaza_tests::{PASSWORD, TestApp, expect_json, expect_problem};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[actix_web::test]
async fn signup_signs_in_and_me_answers() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::POST, "/v1/auth/signup")
        .json(&json!({"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens = expect_json(response, StatusCode::CREATED).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(
        tokens["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("plzr_")
    );

    let me = app
        .get("/v1/me", tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let me = expect_json(me, StatusCode::OK).await;
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["name"], "Ada");
    assert_eq!(me["instance_admin"], false);
    assert!(me.get("password_hash").is_none());
}

#[actix_web::test]
async fn passwords_are_stored_as_argon2id_at_the_owasp_minimum() {
    let app = TestApp::spawn().await;
    app.signup("ada@example.com").await;
    let stored = app
        .state
        .db
        .read(|conn| {
            plaza_api::db::users::UserRow::find_by_email(conn, "ada@example.com")
                .map_err(plaza_api::error::ApiError::from)
        })
        .await
        .unwrap()
        .unwrap();
    let hash = stored.password_hash.unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

#[actix_web::test]
async fn signup_is_closed_by_default() {
    let app = TestApp::spawn_with(|c| c.signup = SignupPolicy::Closed).await;
    let response = app
        .request(Method::POST, "/v1/auth/signup")
        .json(&json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::FORBIDDEN, "signup_closed").await;
}

#[actix_web::test]
async fn signup_names_every_invalid_field() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::POST, "/v1/auth/signup")
        .json(&json!({"email": "not-an-email", "password": "short", "name": "  "}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        response,
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
    assert_eq!(fields, ["email", "password", "name"]);
}

#[actix_web::test]
async fn one_email_one_account_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.signup("ada@example.com").await;
    let response = app
        .request(Method::POST, "/v1/auth/signup")
        .json(&json!({"email": "ADA@example.com", "password": PASSWORD, "name": "Ada"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::CONFLICT, "email_taken").await;
}

#[actix_web::test]
async fn login_succeeds_only_with_the_right_password() {
    let app = TestApp::spawn().await;
    app.signup("ada@example.com").await;
    let login = |email: &str, password: &str| {
        app.request(Method::POST, "/v1/auth/login")
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let ok = expect_json(
        login("ada@example.com", PASSWORD).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(ok["access_token"].is_string());
    for (email, password) in [
        ("ada@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ] {
        let response = login(email, password).await.unwrap();
        expect_problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::POST, "/v1/auth/refresh")
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let session = app.signup("ada@example.com").await;

    let first = expect_json(refresh(&app, &session.refresh).await, StatusCode::OK).await;
    let second_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, session.refresh);
    let me = app
        .get("/v1/me", first["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // The original token was spent: presenting it again is reuse.
    expect_problem(
        refresh(&app, &session.refresh).await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_reused",
    )
    .await;
    // ...and the legitimate successor dies with its family.
    expect_problem(
        refresh(&app, &second_refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
}

#[actix_web::test]
async fn other_sign_ins_survive_a_revoked_family() {
    let app = TestApp::spawn().await;
    let laptop = app.signup("ada@example.com").await;
    let phone = expect_json(
        app.request(Method::POST, "/v1/auth/login")
            .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    expect_json(refresh(&app, &laptop.refresh).await, StatusCode::OK).await;
    expect_problem(
        refresh(&app, &laptop.refresh).await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_reused",
    )
    .await;
    let phone_refresh = phone["refresh_token"].as_str().unwrap();
    expect_json(refresh(&app, phone_refresh).await, StatusCode::OK).await;
}

#[actix_web::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let session = app.signup("ada@example.com").await;
    let response = app
        .request(Method::POST, "/v1/auth/logout")
        .json(&json!({"refresh_token": session.refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    expect_problem(
        refresh(&app, &session.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    // Unknown tokens log out quietly too: no oracle.
    let response = app
        .request(Method::POST, "/v1/auth/logout")
        .json(&json!({"refresh_token": "plzr_unknown"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn unknown_refresh_tokens_are_refused() {
    let app = TestApp::spawn().await;
    expect_problem(
        refresh(&app, "plzr_made_up").await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
}

#[actix_web::test]
async fn calls_without_credentials_are_told_how_to_authenticate() {
    let app = TestApp::spawn().await;
    let response = app.request(Method::GET, "/v1/me").send().await.unwrap();
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"plaza\""
    );
    expect_problem(response, StatusCode::UNAUTHORIZED, "missing_credentials").await;
    let response = app
        .request(Method::GET, "/v1/me")
        .header("authorization", "Basic YWRhOnB3")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[actix_web::test]
async fn jwks_publishes_the_verification_key() {
    let app = TestApp::spawn().await;
    let jwks = expect_json(
        app.request(Method::GET, "/v1/auth/jwks")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["kid"], app.state.keys.active_signing().kid);
    assert!(key.get("d").is_none(), "private key material published");
}
