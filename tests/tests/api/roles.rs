//! The role × operation table, end to end: each role meets each operation
//! and is refused (403) exactly where the permission table says.

use plaza_tests::{Session, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ROLES: [&str; 5] = [
    "owner",
    "strategist",
    "community_manager",
    "moderator",
    "analyst",
];

struct Operation {
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    if_match: bool,
    allowed: &'static [&'static str],
}

fn operations(ws: &str, owner_id: &str, n: usize) -> Vec<Operation> {
    let nobody = uuid::Uuid::now_v7();
    let all: &[&str] = &ROLES;
    let owners: &[&str] = &["owner"];
    let leads: &[&str] = &["owner", "strategist"];
    let media_writers: &[&str] = &["owner", "strategist", "community_manager"];
    let op = |name, method, path: String, body, if_match, allowed| Operation {
        name,
        method,
        path,
        body,
        if_match,
        allowed,
    };
    vec![
        op(
            "get_workspace",
            Method::GET,
            format!("/v1/workspaces/{ws}"),
            None,
            false,
            all,
        ),
        // A stale If-Match makes allowed writes stop at 412 instead of changing anything.
        op(
            "update_workspace",
            Method::PATCH,
            format!("/v1/workspaces/{ws}"),
            Some(json!({"name": "X"})),
            true,
            leads,
        ),
        op(
            "delete_workspace",
            Method::DELETE,
            format!("/v1/workspaces/{ws}"),
            None,
            true,
            owners,
        ),
        op(
            "list_members",
            Method::GET,
            format!("/v1/workspaces/{ws}/members"),
            None,
            false,
            all,
        ),
        op(
            "get_member",
            Method::GET,
            format!("/v1/workspaces/{ws}/members/{owner_id}"),
            None,
            false,
            all,
        ),
        op(
            "update_member",
            Method::PATCH,
            format!("/v1/workspaces/{ws}/members/{owner_id}"),
            Some(json!({"role": "analyst"})),
            true,
            owners,
        ),
        op(
            "delete_member",
            Method::DELETE,
            format!("/v1/workspaces/{ws}/members/{nobody}"),
            None,
            false,
            owners,
        ),
        op(
            "create_invitation",
            Method::POST,
            format!("/v1/workspaces/{ws}/invitations"),
            Some(json!({"email": format!("new{n}@example.com"), "role": "analyst"})),
            false,
            leads,
        ),
        op(
            "list_invitations",
            Method::GET,
            format!("/v1/workspaces/{ws}/invitations"),
            None,
            false,
            leads,
        ),
        op(
            "delete_invitation",
            Method::DELETE,
            format!("/v1/workspaces/{ws}/invitations/{nobody}"),
            None,
            false,
            leads,
        ),
        op(
            "create_api_token",
            Method::POST,
            format!("/v1/workspaces/{ws}/api-tokens"),
            Some(json!({"name": "x", "permissions": ["workspace:read"]})),
            false,
            leads,
        ),
        op(
            "list_api_tokens",
            Method::GET,
            format!("/v1/workspaces/{ws}/api-tokens"),
            None,
            false,
            leads,
        ),
        op(
            "delete_api_token",
            Method::DELETE,
            format!("/v1/workspaces/{ws}/api-tokens/{nobody}"),
            None,
            false,
            leads,
        ),
        // JSON instead of a form: allowed roles stop at 415, creating nothing.
        op(
            "upload_media",
            Method::POST,
            format!("/v1/workspaces/{ws}/media"),
            Some(json!({"file": "iVBORw0KGgo="})),
            false,
            media_writers,
        ),
        op(
            "list_media",
            Method::GET,
            format!("/v1/workspaces/{ws}/media"),
            None,
            false,
            all,
        ),
        op(
            "get_media",
            Method::GET,
            format!("/v1/workspaces/{ws}/media/{nobody}"),
            None,
            false,
            all,
        ),
        op(
            "update_media",
            Method::PATCH,
            format!("/v1/workspaces/{ws}/media/{nobody}"),
            Some(json!({"alt_text": "X"})),
            true,
            media_writers,
        ),
        op(
            "delete_media",
            Method::DELETE,
            format!("/v1/workspaces/{ws}/media/{nobody}"),
            None,
            true,
            media_writers,
        ),
        op(
            "get_media_content",
            Method::GET,
            format!("/v1/workspaces/{ws}/media/{nobody}/content"),
            None,
            false,
            all,
        ),
    ]
}

#[actix_web::test]
async fn every_role_meets_every_operation() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let mut members: Vec<(&str, Session)> = Vec::new();
    for role in ROLES {
        members.push((
            role,
            app.add_member(&ada, &ws, &format!("{role}@example.com"), role)
                .await,
        ));
    }

    let mut mismatches = Vec::new();
    for (n, (role, member)) in members.iter().enumerate() {
        for op in operations(&ws, &ada.user_id, n) {
            let mut request = app
                .request(op.method.clone(), &op.path)
                .bearer_auth(&member.access);
            if let Some(body) = &op.body {
                request = request.json(body);
            }
            if op.if_match {
                request = request.header("if-match", "\"stale\"");
            }
            let status = request.send().await.unwrap().status();
            let allowed = op.allowed.contains(role);
            let refused = status == StatusCode::FORBIDDEN;
            if allowed == refused || status.is_server_error() {
                mismatches.push(format!(
                    "{role} × {}: {status} (allowed: {allowed})",
                    op.name
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "role table disagrees:\n{}",
        mismatches.join("\n")
    );

    // Nothing was changed along the way: the writes stopped at 412 or 404.
    let workspace = app
        .get(&format!("/v1/workspaces/{ws}"), &ada.access)
        .send()
        .await
        .unwrap();
    assert_eq!(workspace.status(), StatusCode::OK);
}
