//! Campaigns: dates, budgets in minor units, UTM defaults, computed status.

use chrono::{Duration, Utc};
use plaza_tests::{Session, TestApp, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn campaigns(ws: &str) -> String {
    format!("/v1/workspaces/{ws}/campaigns")
}

fn day(offset: i64) -> String {
    (Utc::now().date_naive() + Duration::days(offset)).to_string()
}

async fn create(app: &TestApp, who: &Session, ws: &str, body: Value) -> Value {
    let response = app
        .post(&campaigns(ws), &who.access, &body)
        .send()
        .await
        .unwrap();
    expect_json(response, StatusCode::CREATED).await
}

fn fields(problem: &Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    fields
}

#[actix_web::test]
async fn create_read_update_delete() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;

    let response = app
        .post(
            &campaigns(&ws),
            &ada.access,
            &json!({
                "name": "  Spring Launch 2027! ",
                "objective": "1,000 trial sign-ups",
                "starts_on": day(30),
                "ends_on": day(60),
                "budget": {"amount_minor": 250_000, "currency": "eur"},
                "utm": {"source": "newsletter", "medium": "email"}
            }),
        )
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let created = expect_json(response, StatusCode::CREATED).await;
    assert_eq!(
        location,
        format!("{}/{}", campaigns(&ws), created["id"].as_str().unwrap())
    );
    assert_eq!(created["name"], "Spring Launch 2027!");
    assert_eq!(created["status"], "planned");
    assert_eq!(created["starts_on"], day(30));
    assert_eq!(
        created["budget"],
        json!({"amount_minor": 250_000, "currency": "EUR"})
    );
    assert_eq!(
        created["utm"],
        json!({"source": "newsletter", "medium": "email", "campaign": "spring-launch-2027", "term": null, "content": null})
    );
    assert_eq!(created["event_count"], 0);
    assert_eq!(created["created_by"], ada.user_id.as_str());
    assert!(created["archived_at"].is_null());

    let read = app.get(&location, &ada.access).send().await.unwrap();
    assert_eq!(read.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(expect_json(read, StatusCode::OK).await, created);

    let updated = app
        .patch(
            &location,
            &ada.access,
            &json!({
                "name": "Spring Launch",
                "starts_on": day(-1),
                "budget": null,
                "objective": null,
                "utm": {"source": "linkedin", "content": "hero-video"}
            }),
        )
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    let new_etag = updated.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let updated = expect_json(updated, StatusCode::OK).await;
    assert_eq!(updated["name"], "Spring Launch");
    assert_eq!(updated["status"], "active");
    assert!(updated["budget"].is_null());
    assert!(updated["objective"].is_null());
    assert_eq!(
        updated["utm"],
        json!({"source": "linkedin", "medium": null, "campaign": "spring-launch", "term": null, "content": "hero-video"}),
        "utm is replaced as a whole; campaign defaults to the slug of the new name"
    );

    // The old ETag is stale: the lost update is refused and nothing changes.
    let stale = app
        .patch(&location, &ada.access, &json!({"archived": true}))
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

    let archived = app
        .patch(&location, &ada.access, &json!({"archived": true}))
        .header("if-match", &new_etag)
        .send()
        .await
        .unwrap();
    let archived_etag = archived.headers()["etag"].to_str().unwrap().to_owned();
    let archived = expect_json(archived, StatusCode::OK).await;
    assert_eq!(archived["status"], "archived");
    assert!(archived["archived_at"].is_string());

    // A change that changes nothing keeps the version.
    let same = app
        .patch(&location, &ada.access, &json!({"name": "Spring Launch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.headers()["etag"].to_str().unwrap(), archived_etag);

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
        .header("if-match", &archived_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.get(&location, &ada.access).send().await.unwrap();
    expect_problem(gone, StatusCode::NOT_FOUND, "not_found").await;
}

#[actix_web::test]
async fn invalid_fields_are_each_named() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;

    let response = app
        .post(
            &campaigns(&ws),
            &ada.access,
            &json!({
                "name": "",
                "starts_on": "2027-03-31",
                "ends_on": "2027-03-01",
                "budget": {"amount_minor": -5, "currency": "XYZ"},
                "utm": {"medium": "two\nlines"}
            }),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        fields(&problem),
        [
            "budget.amount_minor",
            "budget.currency",
            "ends_on",
            "name",
            "utm.medium"
        ]
    );

    for (body, field) in [
        (
            json!({"name": "x", "starts_on": "2027-02-30", "ends_on": "2027-03-01"}),
            "starts_on",
        ),
        (
            json!({"name": "x", "starts_on": "2027-03-01", "ends_on": "2027-03-02", "budget": {"amount_minor": 1.5, "currency": "EUR"}}),
            "budget.amount_minor",
        ),
        (
            json!({"name": "x", "starts_on": "2027-03-01", "ends_on": "2027-03-02", "budget": {"amount_minor": 100, "currency": "euro"}}),
            "budget.currency",
        ),
        (
            json!({"name": "x", "starts_on": "2027-03-01", "ends_on": "2027-03-02", "status": "active"}),
            "status",
        ),
    ] {
        let response = app
            .post(&campaigns(&ws), &ada.access, &body)
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

    // An update is checked against the campaign it would produce.
    let created = create(
        &app,
        &ada,
        &ws,
        json!({"name": "Launch", "starts_on": "2027-03-01", "ends_on": "2027-03-31"}),
    )
    .await;
    let location = format!("{}/{}", campaigns(&ws), created["id"].as_str().unwrap());
    let response = app
        .patch(&location, &ada.access, &json!({"ends_on": "2027-02-01"}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&problem), ["ends_on"]);
    let list = expect_json(
        app.get(&campaigns(&ws), &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["ends_on"], "2027-03-31");
}

#[actix_web::test]
async fn lists_filter_by_day_and_status_and_page_by_start() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let mut ids = std::collections::HashMap::new();
    for (name, start, end) in [
        ("future", 10, 20),
        ("past", -20, -10),
        ("now", -2, 2),
        ("shelved", -5, 5),
        ("today only", 0, 0),
    ] {
        let created = create(
            &app,
            &ada,
            &ws,
            json!({"name": name, "starts_on": day(start), "ends_on": day(end)}),
        )
        .await;
        ids.insert(name, created["id"].as_str().unwrap().to_owned());
    }
    let shelved = format!("{}/{}", campaigns(&ws), ids["shelved"]);
    let response = app
        .patch(&shelved, &ada.access, &json!({"archived": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let names = |query: String| {
        let app = &app;
        let token = ada.access.clone();
        let path = format!("{}?{query}", campaigns(&ws));
        async move {
            let page =
                expect_json(app.get(&path, &token).send().await.unwrap(), StatusCode::OK).await;
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names(String::new()).await,
        ["past", "shelved", "now", "today only", "future"],
        "by start day"
    );
    assert_eq!(
        names(format!("active_on={}", day(1))).await,
        ["shelved", "now"]
    );
    assert_eq!(
        names("status=active".to_owned()).await,
        ["now", "today only"]
    );
    assert_eq!(names("status=planned".to_owned()).await, ["future"]);
    assert_eq!(names("status=completed".to_owned()).await, ["past"]);
    assert_eq!(names("status=archived".to_owned()).await, ["shelved"]);
    assert_eq!(
        names(format!("status=active&active_on={}", day(-2))).await,
        ["now"]
    );

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{}?limit=2&cursor={c}", campaigns(&ws)),
            None => format!("{}?limit=2", campaigns(&ws)),
        };
        let page = expect_json(
            app.get(&path, &ada.access).send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["past", "shelved", "now", "today only", "future"]);

    for (query, field) in [
        ("active_on=2027-13-01", "active_on"),
        ("active_on=tomorrow", "active_on"),
        ("status=running", "status"),
        ("cursor=bm9wZQ", "cursor"),
    ] {
        let response = app
            .get(&format!("{}?{query}", campaigns(&ws)), &ada.access)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    let unknown = app
        .get(&format!("{}?colour=red", campaigns(&ws)), &ada.access)
        .send()
        .await
        .unwrap();
    expect_problem(unknown, StatusCode::BAD_REQUEST, "invalid_query").await;
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_create() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let body = json!({"name": "Launch", "starts_on": "2027-03-01", "ends_on": "2027-03-31"});
    let send = |body: Value| {
        app.post(&campaigns(&ws), &ada.access, &body)
            .header("idempotency-key", "campaign-1")
            .send()
    };
    let first = send(body.clone()).await.unwrap();
    let first_location = first.headers()["location"].to_str().unwrap().to_owned();
    let first = expect_json(first, StatusCode::CREATED).await;
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.headers()["location"].to_str().unwrap(),
        first_location
    );
    assert_eq!(expect_json(again, StatusCode::CREATED).await, first);

    let other = send(json!({"name": "Other", "starts_on": "2027-03-01", "ends_on": "2027-03-31"}))
        .await
        .unwrap();
    expect_problem(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    let list = expect_json(
        app.get(&campaigns(&ws), &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn analysts_read_and_moderators_cannot_write() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let analyst = app
        .add_member(&ada, &ws, "ana@example.com", "analyst")
        .await;
    let moderator = app
        .add_member(&ada, &ws, "mo@example.com", "moderator")
        .await;
    let manager = app
        .add_member(&ada, &ws, "cm@example.com", "community_manager")
        .await;
    let body = json!({"name": "Launch", "starts_on": "2027-03-01", "ends_on": "2027-03-31"});
    let created = create(&app, &manager, &ws, body.clone()).await;
    let location = format!("{}/{}", campaigns(&ws), created["id"].as_str().unwrap());

    for reader in [&analyst, &moderator] {
        let list = app
            .get(&campaigns(&ws), &reader.access)
            .send()
            .await
            .unwrap();
        assert_eq!(list.status(), StatusCode::OK);
        let one = app.get(&location, &reader.access).send().await.unwrap();
        assert_eq!(one.status(), StatusCode::OK);
        let refused = [
            app.post(&campaigns(&ws), &reader.access, &body),
            app.patch(&location, &reader.access, &json!({"name": "Mine"})),
            app.delete(&location, &reader.access),
        ];
        for request in refused {
            let response = request.send().await.unwrap();
            expect_problem(response, StatusCode::FORBIDDEN, "permission_denied").await;
        }
    }
    let unchanged = expect_json(
        app.get(&location, &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(unchanged["name"], "Launch");
}

#[actix_web::test]
async fn deleting_a_campaign_keeps_its_events() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let campaign = create(
        &app,
        &ada,
        &ws,
        json!({"name": "Launch", "starts_on": "2027-03-01", "ends_on": "2027-03-31"}),
    )
    .await;
    let campaign_id = campaign["id"].as_str().unwrap();
    let event = expect_json(
        app.post(
            &format!("/v1/workspaces/{ws}/community-events"),
            &ada.access,
            &json!({
                "title": "Launch party",
                "starts_at": "2027-03-10T18:00:00Z",
                "ends_at": "2027-03-10T21:00:00Z",
                "time_zone": "Europe/Paris",
                "place": "Rooftop",
                "campaign_id": campaign_id
            }),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let location = format!("{}/{campaign_id}", campaigns(&ws));
    let read = expect_json(
        app.get(&location, &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["event_count"], 1);
    let listed = expect_json(
        app.get(&campaigns(&ws), &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["data"][0]["event_count"], 1);

    let deleted = app.delete(&location, &ada.access).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let event = expect_json(
        app.get(
            &format!(
                "/v1/workspaces/{ws}/community-events/{}",
                event["id"].as_str().unwrap()
            ),
            &ada.access,
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(event["campaign_id"].is_null());
}
