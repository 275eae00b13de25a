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

/// Objects made by the owner before the roles meet the operations.
struct Fixtures {
    campaign: String,
    event: String,
    registration: String,
}

fn operations(ws: &str, owner_id: &str, n: usize, made: &Fixtures) -> Vec<Operation> {
    let nobody = uuid::Uuid::now_v7();
    let all: &[&str] = &ROLES;
    let owners: &[&str] = &["owner"];
    let leads: &[&str] = &["owner", "strategist"];
    let writers: &[&str] = &["owner", "strategist", "community_manager"];
    let planners = writers;
    let Fixtures {
        campaign,
        event,
        registration,
    } = made;
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
        // Allowed writes below stop at 404 (no such object) or 422 (no such
        // channel or plugin), so nothing changes.
        op(
            "list_channels",
            Method::GET,
            format!("/v1/workspaces/{ws}/channels"),
            None,
            false,
            all,
        ),
        op(
            "create_channel",
            Method::POST,
            format!("/v1/workspaces/{ws}/channels"),
            Some(json!({"plugin_id": "nope", "config": {}})),
            false,
            writers,
        ),
        op(
            "start_channel_oauth",
            Method::POST,
            format!("/v1/workspaces/{ws}/channels/oauth/start"),
            Some(json!({"plugin_id": "nope", "config": {}, "redirect_uri": "https://a.example"})),
            false,
            writers,
        ),
        op(
            "pause_channel",
            Method::POST,
            format!("/v1/workspaces/{ws}/channels/{nobody}/pause"),
            None,
            false,
            writers,
        ),
        op(
            "list_posts",
            Method::GET,
            format!("/v1/workspaces/{ws}/posts"),
            None,
            false,
            all,
        ),
        op(
            "create_post",
            Method::POST,
            format!("/v1/workspaces/{ws}/posts"),
            Some(json!({"body": "x", "variants": [{"channel_id": nobody}]})),
            false,
            writers,
        ),
        op(
            "import_posts",
            Method::POST,
            format!("/v1/workspaces/{ws}/post-imports"),
            Some(json!({"posts": []})),
            false,
            writers,
        ),
        op(
            "update_post",
            Method::PATCH,
            format!("/v1/workspaces/{ws}/posts/{nobody}"),
            Some(json!({"body": "x"})),
            false,
            writers,
        ),
        op(
            "approve_post",
            Method::POST,
            format!("/v1/workspaces/{ws}/posts/{nobody}/approve"),
            Some(json!({})),
            false,
            leads,
        ),
        op(
            "schedule_post",
            Method::POST,
            format!("/v1/workspaces/{ws}/posts/{nobody}/schedule"),
            Some(json!({"scheduled_at": "2999-01-01T00:00:00Z"})),
            false,
            writers,
        ),
        op(
            "create_post_comment",
            Method::POST,
            format!("/v1/workspaces/{ws}/posts/{nobody}/comments"),
            Some(json!({"body": "x"})),
            false,
            all,
        ),
        op(
            "get_calendar",
            Method::GET,
            format!(
                "/v1/workspaces/{ws}/calendar?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z"
            ),
            None,
            false,
            all,
        ),
        op(
            "create_webhook",
            Method::POST,
            format!("/v1/workspaces/{ws}/webhooks"),
            Some(json!({
                "url": format!("https://93.184.215.14/hook/{n}"),
                "event_types": ["post.published"],
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYqr"
            })),
            false,
            leads,
        ),
        op(
            "get_metric_report",
            Method::GET,
            format!(
                "/v1/workspaces/{ws}/metrics/report?metric=likes&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z"
            ),
            None,
            false,
            all,
        ),
        op(
            "export_metric_report",
            Method::GET,
            format!(
                "/v1/workspaces/{ws}/metrics/report.csv?metric=likes&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z"
            ),
            None,
            false,
            &["owner", "strategist", "community_manager", "analyst"],
        ),
        op(
            "list_metric_collections",
            Method::GET,
            format!("/v1/workspaces/{ws}/metrics/collection"),
            None,
            false,
            all,
        ),
        op(
            "get_post_metrics",
            Method::GET,
            format!("/v1/workspaces/{ws}/posts/{nobody}/metrics"),
            None,
            false,
            all,
        ),
        op(
            "collect_channel_metrics",
            Method::POST,
            format!("/v1/workspaces/{ws}/channels/{nobody}/metrics/collect"),
            None,
            false,
            writers,
        ),
        op(
            "list_objectives",
            Method::GET,
            format!("/v1/workspaces/{ws}/objectives"),
            None,
            false,
            all,
        ),
        op(
            "create_objective",
            Method::POST,
            format!("/v1/workspaces/{ws}/objectives"),
            Some(
                json!({"name": format!("Goal {n}"), "kpi": "metric:likes", "target": 10,
                        "starts_on": "2030-01-01", "ends_on": "2030-01-31"}),
            ),
            false,
            leads,
        ),
        op(
            "get_objective",
            Method::GET,
            format!("/v1/workspaces/{ws}/objectives/{nobody}"),
            None,
            false,
            all,
        ),
        op(
            "update_objective",
            Method::PATCH,
            format!("/v1/workspaces/{ws}/objectives/{nobody}"),
            Some(json!({"target": 5})),
            true,
            leads,
        ),
        op(
            "delete_objective",
            Method::DELETE,
            format!("/v1/workspaces/{ws}/objectives/{nobody}"),
            None,
            true,
            leads,
        ),
        op(
            "list_webhooks",
            Method::GET,
            format!("/v1/workspaces/{ws}/webhooks"),
            None,
            false,
            leads,
        ),
        op(
            "get_webhook",
            Method::GET,
            format!("/v1/workspaces/{ws}/webhooks/{nobody}"),
            None,
            false,
            leads,
        ),
        op(
            "list_webhook_deliveries",
            Method::GET,
            format!("/v1/workspaces/{ws}/webhooks/{nobody}/deliveries"),
            None,
            false,
            leads,
        ),
        op(
            "delete_webhook",
            Method::DELETE,
            format!("/v1/workspaces/{ws}/webhooks/{nobody}"),
            None,
            false,
            leads,
        ),
        op(
            "create_campaign",
            Method::POST,
            format!("/v1/workspaces/{ws}/campaigns"),
            Some(
                json!({"name": format!("Campaign {n}"), "starts_on": "2030-01-01", "ends_on": "2030-01-31"}),
            ),
            false,
            planners,
        ),
        op(
            "list_campaigns",
            Method::GET,
            format!("/v1/workspaces/{ws}/campaigns"),
            None,
            false,
            all,
        ),
        op(
            "get_campaign",
            Method::GET,
            format!("/v1/workspaces/{ws}/campaigns/{campaign}"),
            None,
            false,
            all,
        ),
        op(
            "update_campaign",
            Method::PATCH,
            format!("/v1/workspaces/{ws}/campaigns/{campaign}"),
            Some(json!({"name": "X"})),
            true,
            planners,
        ),
        op(
            "delete_campaign",
            Method::DELETE,
            format!("/v1/workspaces/{ws}/campaigns/{campaign}"),
            None,
            true,
            planners,
        ),
        op(
            "create_event",
            Method::POST,
            format!("/v1/workspaces/{ws}/community-events"),
            Some(json!({
                "title": format!("Event {n}"),
                "starts_at": "2030-01-10T18:00:00Z",
                "ends_at": "2030-01-10T20:00:00Z",
                "time_zone": "UTC",
                "online_url": "https://meet.example.com/x"
            })),
            false,
            planners,
        ),
        op(
            "list_events",
            Method::GET,
            format!("/v1/workspaces/{ws}/community-events"),
            None,
            false,
            all,
        ),
        op(
            "get_event",
            Method::GET,
            format!("/v1/workspaces/{ws}/community-events/{event}"),
            None,
            false,
            all,
        ),
        op(
            "update_event",
            Method::PATCH,
            format!("/v1/workspaces/{ws}/community-events/{event}"),
            Some(json!({"title": "X"})),
            true,
            planners,
        ),
        op(
            "delete_event",
            Method::DELETE,
            format!("/v1/workspaces/{ws}/community-events/{event}"),
            None,
            true,
            planners,
        ),
        op(
            "create_registration",
            Method::POST,
            format!("/v1/workspaces/{ws}/community-events/{event}/registrations"),
            Some(json!({"name": "Guest", "email": format!("guest{n}@example.com")})),
            false,
            planners,
        ),
        op(
            "list_registrations",
            Method::GET,
            format!("/v1/workspaces/{ws}/community-events/{event}/registrations"),
            None,
            false,
            planners,
        ),
        op(
            "export_registrations",
            Method::GET,
            format!("/v1/workspaces/{ws}/community-events/{event}/registrations/export"),
            None,
            false,
            planners,
        ),
        op(
            "get_registration",
            Method::GET,
            format!("/v1/workspaces/{ws}/community-events/{event}/registrations/{registration}"),
            None,
            false,
            planners,
        ),
        // Allowed roles reach the lookup and find nothing (404); the others stop at 403.
        op(
            "update_registration",
            Method::PATCH,
            format!("/v1/workspaces/{ws}/community-events/{event}/registrations/{nobody}"),
            Some(json!({"status": "cancelled"})),
            false,
            planners,
        ),
        op(
            "delete_registration",
            Method::DELETE,
            format!("/v1/workspaces/{ws}/community-events/{event}/registrations/{nobody}"),
            None,
            false,
            planners,
        ),
        // JSON instead of a form: allowed roles stop at 415, creating nothing.
        op(
            "upload_media",
            Method::POST,
            format!("/v1/workspaces/{ws}/media"),
            Some(json!({"file": "iVBORw0KGgo="})),
            false,
            writers,
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
            writers,
        ),
        op(
            "delete_media",
            Method::DELETE,
            format!("/v1/workspaces/{ws}/media/{nobody}"),
            None,
            true,
            writers,
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

/// Makes a campaign, an event in it and a registration, as `owner`.
async fn fixtures(app: &TestApp, owner: &Session, ws: &str) -> Fixtures {
    let created = |path: String, body: Value| {
        let request = app.post(&path, &owner.access, &body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
            let body: Value = response.json().await.unwrap();
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
            "campaign_id": campaign
        }),
    )
    .await;
    let registration = created(
        format!("/v1/workspaces/{ws}/community-events/{event}/registrations"),
        json!({"name": "Lin", "email": "lin@example.com"}),
    )
    .await;
    Fixtures {
        campaign,
        event,
        registration,
    }
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

    let made = fixtures(&app, &ada, &ws).await;

    let mut mismatches = Vec::new();
    for (n, (role, member)) in members.iter().enumerate() {
        for op in operations(&ws, &ada.user_id, n, &made) {
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
    for path in [
        format!("/v1/workspaces/{ws}/campaigns/{}", made.campaign),
        format!("/v1/workspaces/{ws}/community-events/{}", made.event),
    ] {
        let response = app.get(&path, &ada.access).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}
