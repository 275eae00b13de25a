//! HTTP conventions every operation keeps: problem details, strict JSON,
//! body limits, request ids, unknown routes.

use plaza_tests::{TestApp, expect_problem};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[actix_web::test]
async fn malformed_json_is_a_400_naming_the_problem() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    for body in [
        &b"{"[..],
        b"{\"name\": }",
        b"{\"name\":\"a\"} x",
        b"\xff\xfe{}",
    ] {
        let response = app
            .request(Method::POST, "/v1/workspaces")
            .bearer_auth(&ada.access)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::BAD_REQUEST, "malformed_json").await;
    }
}

#[actix_web::test]
async fn unknown_and_mistyped_fields_are_refused_by_name() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    for (body, field) in [
        (json!({"name": "Acme", "owner_id": "x"}), "owner_id"),
        (json!({"name": "Acme", "status": "active"}), "status"),
        (json!({}), "name"),
        (json!({"name": ["Acme"]}), "name"),
        (json!("Acme"), "body"),
    ] {
        let response = app
            .post("/v1/workspaces", &ada.access, &body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let list = app.get("/v1/workspaces", &ada.access).send().await.unwrap();
    let list: serde_json::Value = list.json().await.unwrap();
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );
}

#[actix_web::test]
async fn bodies_over_the_limit_are_413_and_non_json_is_415() {
    let app = TestApp::spawn_with(|c| c.json_body_limit_bytes = 2048).await;
    let ada = app.signup("ada@example.com").await;
    let big = json!({"name": "x".repeat(4096)});
    let response = app
        .post("/v1/workspaces", &ada.access, &big)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    // Chunked, with no Content-Length to trust.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(b"{\"name\":\"".to_vec()),
        Ok(vec![b'x'; 4096]),
        Ok(b"\"}".to_vec()),
    ];
    let response = app
        .request(Method::POST, "/v1/workspaces")
        .bearer_auth(&ada.access)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let response = app
            .request(Method::POST, "/v1/workspaces")
            .bearer_auth(&ada.access)
            .header("content-type", content_type)
            .body("name=Acme")
            .send()
            .await
            .unwrap();
        expect_problem(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
    }
    let no_type = app
        .request(Method::POST, "/v1/workspaces")
        .bearer_auth(&ada.access)
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_problem(
        no_type,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[actix_web::test]
async fn paths_that_name_nothing_answer_404_problems() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    for path in [
        "/v1/workspaces/not-a-uuid",
        "/v1/workspaces/%FF%FE",
        "/v1/workspaces/%C0%AF",
        "/v1/workspaces/019a0000-0000-7000-8000-000000000000",
        "/v1/workspaces/019a0000-0000-7000-8000-000000000000/members/%ZZ",
    ] {
        let response = app.get(path, &ada.access).send().await.unwrap();
        expect_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    for path in ["/nope", "/v1", "/v1/workspace", "/v2/workspaces"] {
        let response = app.get(path, &ada.access).send().await.unwrap();
        expect_problem(response, StatusCode::NOT_FOUND, "route_not_found").await;
    }
    let response = app
        .request(Method::PUT, "/v1/me")
        .bearer_auth(&ada.access)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND, "route_not_found").await;
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.request(Method::GET, "/healthz").send().await.unwrap();
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    let response = app
        .request(Method::GET, "/v1/me")
        .header("x-request-id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["x-request-id"],
        "trace-abc.123",
        "errors echo the caller's id too"
    );

    let response = app
        .request(Method::GET, "/healthz")
        .header("x-request-id", "bad id/../x")
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["x-request-id"], "bad id/../x");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[actix_web::test]
async fn probes_report_the_process_and_the_database() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let response = app.request(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
}

#[actix_web::test]
async fn in_flight_requests_finish_during_a_graceful_stop() {
    let app = TestApp::spawn().await;
    // A request whose body is still arriving is in flight for certain.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let request = app
        .request(Method::POST, "/v1/auth/signup")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(body))
        .send();
    let app = &app;
    let rest = async move {
        tx.send(Ok(br#"{"email": "ada@example.com", "#.to_vec()))
            .await
            .unwrap();
        // Let the first half reach the handler, then begin the stop, then finish the body.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        let stop = app.stop();
        let finish = async {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
            let tail = format!(
                r#""password": "{}", "name": "Ada"}}"#,
                plaza_tests::PASSWORD
            );
            tx.send(Ok(tail.into_bytes())).await.unwrap();
            drop(tx);
        };
        tokio::join!(stop, finish);
    };
    let (response, ()) = tokio::join!(request, rest);
    assert_eq!(response.unwrap().status(), StatusCode::CREATED);
    assert!(
        app.request(Method::GET, "/healthz").send().await.is_err(),
        "stopped servers refuse new connections"
    );
}
