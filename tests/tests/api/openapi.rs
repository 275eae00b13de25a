//! The spec is generated from the code, committed, served, and true.

use std::collections::BTreeSet;

use plaza_tests::{TestApp, expect_json, expect_problem};
use reqwest::{Method, StatusCode};
use serde_json::Value;

fn generated() -> Value {
    serde_json::from_str(&plaza_api::openapi::spec_json().unwrap()).unwrap()
}

#[test]
fn the_committed_spec_is_the_generated_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let fresh = plaza_api::openapi::spec_json().unwrap();
    assert!(
        committed == fresh,
        "openapi.json is stale: run `cargo run --bin plaza -- openapi > openapi.json` and commit it"
    );
}

#[test]
fn every_operation_is_named_tagged_and_documents_its_errors() {
    let spec = generated();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut ids = BTreeSet::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, op) in operations.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{id} is not snake_case"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has no tag"
            );
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
            let public = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|r| r.as_object().is_some_and(serde_json::Map::is_empty))
            });
            let responses = op["responses"].as_object().unwrap();
            if !public {
                assert!(responses.contains_key("401"), "{id} does not document 401");
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let problem =
                        &response["content"]["application/problem+json"]["schema"]["$ref"];
                    let is_probe = path == "/readyz";
                    assert!(
                        is_probe || problem == "#/components/schemas/Problem",
                        "{id} {status} is not a problem+json response"
                    );
                }
            }
            if path.starts_with("/v1/") {
                assert!(responses.contains_key("500"), "{id} does not document 500");
            }
        }
    }
}

#[actix_web::test]
async fn the_server_serves_the_spec_and_offline_docs() {
    let app = TestApp::spawn().await;
    let served = expect_json(
        app.request(Method::GET, "/openapi.json")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(served, generated());

    let docs = app.request(Method::GET, "/docs/").send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the docs page loads nothing from the internet"
    );
    let redirect = app.request(Method::GET, "/docs").send().await.unwrap();
    assert_eq!(redirect.headers()["location"], "/docs/");
}

fn concrete(template: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let mut path = String::new();
    for segment in template.split('/') {
        if segment.starts_with('{') {
            path.push_str(&id);
        } else {
            path.push_str(segment);
        }
        path.push('/');
    }
    path.pop();
    path
}

#[actix_web::test]
async fn the_spec_and_the_routes_agree() {
    let app = TestApp::spawn().await;
    let spec = generated();
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    for (template, operations) in spec["paths"].as_object().unwrap() {
        let path = concrete(template);
        for method in &methods {
            let documented = operations
                .get(method.as_str().to_lowercase().as_str())
                .is_some();
            let response = app.request(method.clone(), &path).send().await.unwrap();
            if documented {
                let text = response.text().await.unwrap();
                assert!(
                    !text.contains("route_not_found"),
                    "{method} {template} is in the spec but not served"
                );
            } else {
                // A method the spec does not list must not be served either.
                expect_problem(response, StatusCode::NOT_FOUND, "route_not_found").await;
            }
        }
    }
}
