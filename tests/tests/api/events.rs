//! Events and their registrations: time zones, places, capacity under
//! concurrency, the waitlist, CSV exports.

use plaza_tests::{Session, TestApp, expect_json, expect_problem};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

fn events(ws: &str) -> String {
    format!("/v1/workspaces/{ws}/community-events")
}

fn meetup() -> Value {
    json!({
        "title": "Community meetup",
        "description": "Talks and coffee.",
        "starts_at": "2030-12-01T18:00:00Z",
        "ends_at": "2030-12-01T20:30:00Z",
        "time_zone": "Europe/Paris",
        "place": "Le Comptoir, Paris"
    })
}

fn with(mut body: Value, changes: Value) -> Value {
    let Value::Object(changes) = changes else {
        panic!("changes must be a JSON object")
    };
    for (key, value) in changes {
        body[key] = value;
    }
    body
}

async fn create_event(app: &TestApp, who: &Session, ws: &str, body: Value) -> Value {
    let response = app
        .post(&events(ws), &who.access, &body)
        .send()
        .await
        .unwrap();
    expect_json(response, StatusCode::CREATED).await
}

fn registrations(ws: &str, event: &Value) -> String {
    format!(
        "{}/{}/registrations",
        events(ws),
        event["id"].as_str().unwrap()
    )
}

async fn register(app: &TestApp, who: &Session, ws: &str, event: &Value, email: &str) -> Response {
    app.post(
        &registrations(ws, event),
        &who.access,
        &json!({"name": email.split('@').next(), "email": email}),
    )
    .send()
    .await
    .unwrap()
}

async fn read(app: &TestApp, who: &Session, path: &str) -> Value {
    expect_json(
        app.get(path, &who.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await
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
            &events(&ws),
            &ada.access,
            &with(
                meetup(),
                json!({
                    "starts_at": "2030-12-01T19:00:00+01:00",
                    "online_url": "https://meet.example.com/winter",
                    "capacity": 40,
                    "waitlist": true
                }),
            ),
        )
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let created = expect_json(response, StatusCode::CREATED).await;
    assert_eq!(
        location,
        format!("{}/{}", events(&ws), created["id"].as_str().unwrap())
    );
    assert_eq!(created["title"], "Community meetup");
    assert_eq!(created["starts_at"], "2030-12-01T18:00:00Z");
    assert_eq!(created["local_starts_at"], "2030-12-01T19:00:00+01:00");
    assert_eq!(created["local_ends_at"], "2030-12-01T21:30:00+01:00");
    assert_eq!(created["online_url"], "https://meet.example.com/winter");
    assert_eq!(created["capacity"], 40);
    assert_eq!(created["waitlist"], true);
    assert_eq!(created["seats_left"], 40);
    assert_eq!(
        created["registrations"],
        json!({"registered": 0, "waitlisted": 0, "cancelled": 0, "attended": 0, "no_show": 0})
    );
    assert!(created["campaign_id"].is_null());

    let got = app.get(&location, &ada.access).send().await.unwrap();
    assert_eq!(got.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(expect_json(got, StatusCode::OK).await, created);

    let updated = app
        .patch(
            &location,
            &ada.access,
            &json!({
                "time_zone": "America/New_York",
                "place": null,
                "capacity": null,
                "description": null
            }),
        )
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    let new_etag = updated.headers()["etag"].to_str().unwrap().to_owned();
    let updated = expect_json(updated, StatusCode::OK).await;
    assert_eq!(updated["local_starts_at"], "2030-12-01T13:00:00-05:00");
    assert!(updated["place"].is_null());
    assert!(updated["capacity"].is_null() && updated["seats_left"].is_null());
    assert!(updated["description"].is_null());

    // Without a place, the online URL is the last way to attend.
    let response = app
        .patch(&location, &ada.access, &json!({"online_url": null}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&problem), ["place"]);

    let stale = app
        .patch(&location, &ada.access, &json!({"title": "Lost update"}))
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
    assert_eq!(
        read(&app, &ada, &location).await["title"],
        "Community meetup"
    );

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
async fn invalid_fields_are_each_named() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;

    let response = app
        .post(
            &events(&ws),
            &ada.access,
            &with(
                meetup(),
                json!({
                    "title": "",
                    "ends_at": "2030-12-01T17:00:00Z",
                    "time_zone": "Europe/Atlantis",
                    "online_url": "javascript:alert(1)",
                    "capacity": 0
                }),
            ),
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
        ["capacity", "ends_at", "online_url", "time_zone", "title"]
    );

    for (changes, field) in [
        (json!({"place": null}), "place"),
        (
            json!({"online_url": "ftp://files.example.com/x"}),
            "online_url",
        ),
        (
            json!({"online_url": "https://user:secret@example.com/"}),
            "online_url",
        ),
        (json!({"starts_at": "2030-12-01 18:00"}), "starts_at"),
        (json!({"ends_at": "2030-12-01T18:00:00Z"}), "ends_at"),
        (json!({"time_zone": "CET+1"}), "time_zone"),
        (json!({"capacity": -4}), "capacity"),
        (json!({"capacity": 1.5}), "capacity"),
        (json!({"campaign_id": "not-an-id"}), "campaign_id"),
        (json!({"waitlist": "yes"}), "waitlist"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let response = app
            .post(&events(&ws), &ada.access, &with(meetup(), changes.clone()))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&problem), [field], "{changes}");
    }
    let list = read(&app, &ada, &events(&ws)).await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );
}

#[actix_web::test]
async fn campaigns_must_be_the_workspaces_own() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let other = app.create_workspace(&ada, "Other brand").await;
    let campaign = |ws: String| {
        let app = &app;
        let token = ada.access.clone();
        async move {
            let response = app
                .post(
                    &format!("/v1/workspaces/{ws}/campaigns"),
                    &token,
                    &json!({"name": "Launch", "starts_on": "2030-11-01", "ends_on": "2030-12-31"}),
                )
                .send()
                .await
                .unwrap();
            expect_json(response, StatusCode::CREATED).await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let ours = campaign(ws.clone()).await;
    let theirs = campaign(other.clone()).await;

    let response = app
        .post(
            &events(&ws),
            &ada.access,
            &with(meetup(), json!({"campaign_id": theirs, "capacity": 0})),
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
    assert_eq!(fields(&problem), ["campaign_id", "capacity"]);

    let event = create_event(
        &app,
        &ada,
        &ws,
        with(meetup(), json!({"campaign_id": ours})),
    )
    .await;
    assert_eq!(event["campaign_id"], ours.as_str());
    let location = format!("{}/{}", events(&ws), event["id"].as_str().unwrap());
    let response = app
        .patch(&location, &ada.access, &json!({"campaign_id": theirs}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&problem), ["campaign_id"]);
    assert_eq!(
        read(&app, &ada, &location).await["campaign_id"],
        ours.as_str()
    );

    let detached = app
        .patch(&location, &ada.access, &json!({"campaign_id": null}))
        .send()
        .await
        .unwrap();
    assert!(expect_json(detached, StatusCode::OK).await["campaign_id"].is_null());
}

#[actix_web::test]
async fn lists_filter_by_overlap_and_campaign_and_page_by_start() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let campaign = expect_json(
        app.post(
            &format!("/v1/workspaces/{ws}/campaigns"),
            &ada.access,
            &json!({"name": "Launch", "starts_on": "2030-11-01", "ends_on": "2030-12-31"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let campaign_id = campaign["id"].as_str().unwrap();
    for (title, starts, ends, in_campaign) in [
        ("late", "2030-12-03T10:00:00Z", "2030-12-03T12:00:00Z", true),
        (
            "early",
            "2030-12-01T10:00:00Z",
            "2030-12-01T12:00:00Z",
            false,
        ),
        (
            "overnight",
            "2030-12-01T22:00:00Z",
            "2030-12-02T02:00:00Z",
            true,
        ),
        (
            "middle",
            "2030-12-02T10:00:00Z",
            "2030-12-02T12:00:00Z",
            false,
        ),
    ] {
        let mut body = with(
            meetup(),
            json!({"title": title, "starts_at": starts, "ends_at": ends}),
        );
        if in_campaign {
            body["campaign_id"] = json!(campaign_id);
        }
        create_event(&app, &ada, &ws, body).await;
    }
    let titles = |query: &str| {
        let path = format!("{}?{query}", events(&ws));
        let (app, ada) = (&app, &ada);
        async move {
            read(app, ada, &path).await["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["title"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(titles("").await, ["early", "overnight", "middle", "late"]);
    assert_eq!(
        titles("from=2030-12-02T00:00:00Z&to=2030-12-03T00:00:00Z").await,
        ["overnight", "middle"],
        "everything overlapping the day, including what started the night before"
    );
    assert_eq!(
        titles("from=2030-12-02T12:00:00Z").await,
        ["late"],
        "an event ending exactly at `from` is over"
    );
    assert_eq!(titles("to=2030-12-01T22:00:00Z").await, ["early"]);
    assert_eq!(
        titles("from=2030-12-02T01:00:00%2B01:00&to=2030-12-02T11:00:00Z").await,
        ["overnight", "middle"]
    );
    assert_eq!(
        titles(&format!("campaign_id={campaign_id}")).await,
        ["overnight", "late"]
    );
    let page = read(&app, &ada, &format!("{}?limit=3", events(&ws))).await;
    let next = page["next_cursor"].as_str().unwrap();
    let rest = read(
        &app,
        &ada,
        &format!("{}?limit=3&cursor={next}", events(&ws)),
    )
    .await;
    assert_eq!(rest["data"][0]["title"], "late");
    assert!(rest["next_cursor"].is_null());

    for (query, field) in [
        ("from=yesterday", "from"),
        ("to=2030-12-02", "to"),
        ("from=2030-12-03T00:00:00Z&to=2030-12-02T00:00:00Z", "to"),
        ("campaign_id=42", "campaign_id"),
        ("cursor=bm9wZQ", "cursor"),
    ] {
        let response = app
            .get(&format!("{}?{query}", events(&ws)), &ada.access)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&problem), [field], "{query}");
    }
}

#[actix_web::test]
async fn capacity_is_enforced_and_cancelling_promotes_the_waitlist() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let event = create_event(
        &app,
        &ada,
        &ws,
        with(meetup(), json!({"capacity": 2, "waitlist": true})),
    )
    .await;
    let mut statuses = Vec::new();
    let mut ids = Vec::new();
    for email in ["a@x.com", "b@x.com", "c@x.com", "d@x.com"] {
        let response = register(&app, &ada, &ws, &event, email).await;
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let body = expect_json(response, StatusCode::CREATED).await;
        assert_eq!(
            location,
            format!(
                "{}/{}",
                registrations(&ws, &event),
                body["id"].as_str().unwrap()
            )
        );
        assert_eq!(read(&app, &ada, &location).await, body);
        statuses.push(body["status"].as_str().unwrap().to_owned());
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        statuses,
        ["registered", "registered", "waitlisted", "waitlisted"]
    );

    let again = register(&app, &ada, &ws, &event, "  A@X.com ").await;
    expect_problem(again, StatusCode::CONFLICT, "already_registered").await;

    let location = format!("{}/{}", events(&ws), event["id"].as_str().unwrap());
    let view = read(&app, &ada, &location).await;
    assert_eq!(view["registrations"]["registered"], 2);
    assert_eq!(view["registrations"]["waitlisted"], 2);
    assert_eq!(view["seats_left"], 0);

    // Cancelling a seat gives it to whoever has waited longest.
    let cancelled = app
        .patch(
            &format!("{}/{}", registrations(&ws, &event), ids[0]),
            &ada.access,
            &json!({"status": "cancelled"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(cancelled, StatusCode::OK).await["status"],
        "cancelled"
    );
    let third = read(
        &app,
        &ada,
        &format!("{}/{}", registrations(&ws, &event), ids[2]),
    )
    .await;
    assert_eq!(third["status"], "registered");
    let fourth = read(
        &app,
        &ada,
        &format!("{}/{}", registrations(&ws, &event), ids[3]),
    )
    .await;
    assert_eq!(fourth["status"], "waitlisted");

    // Capacity cannot drop below the seats taken; raising it serves the queue.
    let response = app
        .patch(&location, &ada.access, &json!({"capacity": 1}))
        .send()
        .await
        .unwrap();
    expect_problem(
        response,
        StatusCode::CONFLICT,
        "capacity_below_registrations",
    )
    .await;
    let raised = app
        .patch(&location, &ada.access, &json!({"capacity": 3}))
        .send()
        .await
        .unwrap();
    let raised = expect_json(raised, StatusCode::OK).await;
    assert_eq!(raised["registrations"]["registered"], 3);
    assert_eq!(raised["registrations"]["waitlisted"], 0);
    assert_eq!(raised["registrations"]["cancelled"], 1);
    assert_eq!(raised["seats_left"], 0);

    // Deleting a seat holder frees the seat for the next in line.
    let late = register(&app, &ada, &ws, &event, "e@x.com").await;
    let late = expect_json(late, StatusCode::CREATED).await;
    assert_eq!(late["status"], "waitlisted");
    let deleted = app
        .delete(
            &format!("{}/{}", registrations(&ws, &event), ids[1]),
            &ada.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let late = read(
        &app,
        &ada,
        &format!(
            "{}/{}",
            registrations(&ws, &event),
            late["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(late["status"], "registered");

    // Without a waitlist, a full event refuses.
    let strict = create_event(&app, &ada, &ws, with(meetup(), json!({"capacity": 1}))).await;
    let first = register(&app, &ada, &ws, &strict, "a@x.com").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let second = register(&app, &ada, &ws, &strict, "b@x.com").await;
    expect_problem(second, StatusCode::CONFLICT, "event_full").await;

    let waiting = read(
        &app,
        &ada,
        &format!("{}?status=registered", registrations(&ws, &event)),
    )
    .await;
    assert_eq!(waiting["data"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn concurrent_registrations_never_overbook() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let event = create_event(&app, &ada, &ws, with(meetup(), json!({"capacity": 3}))).await;
    let emails: Vec<String> = (0..12).map(|i| format!("guest{i}@example.com")).collect();
    let responses = futures_util::future::join_all(
        emails
            .iter()
            .map(|email| register(&app, &ada, &ws, &event, email)),
    )
    .await;
    let mut created = 0;
    for response in responses {
        if response.status() == StatusCode::CREATED {
            created += 1;
        } else {
            expect_problem(response, StatusCode::CONFLICT, "event_full").await;
        }
    }
    assert_eq!(created, 3);
    let view = read(
        &app,
        &ada,
        &format!("{}/{}", events(&ws), event["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(view["registrations"]["registered"], 3);
    assert_eq!(view["seats_left"], 0);
}

#[actix_web::test]
async fn registration_statuses_follow_their_transitions() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let event = create_event(
        &app,
        &ada,
        &ws,
        with(meetup(), json!({"capacity": 1, "waitlist": true})),
    )
    .await;
    let seated = expect_json(
        register(&app, &ada, &ws, &event, "a@x.com").await,
        StatusCode::CREATED,
    )
    .await;
    let queued = expect_json(
        register(&app, &ada, &ws, &event, "b@x.com").await,
        StatusCode::CREATED,
    )
    .await;
    let path = |r: &Value| {
        format!(
            "{}/{}",
            registrations(&ws, &event),
            r["id"].as_str().unwrap()
        )
    };
    let set = |r: &Value, status: &str| {
        app.patch(&path(r), &ada.access, &json!({"status": status}))
            .send()
    };

    for (registration, status, outcome) in [
        (&queued, "attended", Err("invalid_transition")),
        (&queued, "no_show", Err("invalid_transition")),
        (&seated, "waitlisted", Err("invalid_transition")),
        (&seated, "attended", Ok("attended")),
        (&seated, "attended", Ok("attended")),
        (&seated, "no_show", Ok("no_show")),
        (&seated, "attended", Ok("attended")),
        (&seated, "cancelled", Err("invalid_transition")),
        (&queued, "cancelled", Ok("cancelled")),
        (&queued, "registered", Err("invalid_transition")),
    ] {
        let response = set(registration, status).await.unwrap();
        match outcome {
            Ok(expected) => {
                assert_eq!(
                    expect_json(response, StatusCode::OK).await["status"],
                    expected
                );
            }
            Err(code) => {
                expect_problem(response, StatusCode::CONFLICT, code).await;
            }
        }
    }
    let response = set(&seated, "confirmed").await.unwrap();
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&problem), ["status"]);

    for (body, field) in [
        (json!({"name": "A", "email": "not-an-email"}), "email"),
        (json!({"name": "", "email": "c@x.com"}), "name"),
        (
            json!({"name": "A", "email": "c@x.com", "note": "x".repeat(1001)}),
            "note",
        ),
    ] {
        let response = app
            .post(&registrations(&ws, &event), &ada.access, &body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&problem), [field]);
    }
    let unknown_filter = app
        .get(
            &format!("{}?status=maybe", registrations(&ws, &event)),
            &ada.access,
        )
        .send()
        .await
        .unwrap();
    expect_problem(
        unknown_filter,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[actix_web::test]
async fn exports_are_csv_that_spreadsheets_cannot_run() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let analyst = app
        .add_member(&ada, &ws, "ana@example.com", "analyst")
        .await;
    let event = create_event(&app, &ada, &ws, meetup()).await;
    for (name, email, note) in [
        (
            "Ada Lovelace",
            "ada@example.com",
            Some("Vegetarian, no nuts\nArrives late"),
        ),
        (
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            "eve@example.com",
            None,
        ),
        ("+cmd", "-minus@example.com", Some("@SUM(A1:A9)")),
    ] {
        let response = app
            .post(
                &registrations(&ws, &event),
                &ada.access,
                &json!({"name": name, "email": email, "note": note}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    // Registrants' names and emails are personal data: analysts do not export them.
    let refused = app
        .get(
            &format!("{}/export", registrations(&ws, &event)),
            &analyst.access,
        )
        .send()
        .await
        .unwrap();
    expect_problem(refused, StatusCode::FORBIDDEN, "permission_denied").await;
    let response = app
        .get(
            &format!("{}/export", registrations(&ws, &event)),
            &ada.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let disposition = response.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"registrations-"),
        "{disposition}"
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "id,name,email,status,note,registered_at,updated_at"
    );
    assert!(
        lines[1].contains(
            ",Ada Lovelace,ada@example.com,registered,\"Vegetarian, no nuts\nArrives late\","
        ),
        "{csv}"
    );
    assert!(
        lines[2].contains(
            ",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",eve@example.com,registered,,"
        ),
        "{csv}"
    );
    assert!(
        lines[3].contains(",'+cmd,'-minus@example.com,registered,'@SUM(A1:A9),"),
        "{csv}"
    );
    assert_eq!(lines.len(), 5, "three rows and a final line break: {csv}");
    assert_eq!(lines[4], "");

    let empty = create_event(&app, &ada, &ws, meetup()).await;
    let response = app
        .get(
            &format!("{}/export", registrations(&ws, &empty)),
            &ada.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.text().await.unwrap(),
        "id,name,email,status,note,registered_at,updated_at\r\n"
    );
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
    let event = create_event(&app, &manager, &ws, meetup()).await;
    let seat = expect_json(
        register(&app, &manager, &ws, &event, "guest@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let location = format!("{}/{}", events(&ws), event["id"].as_str().unwrap());
    let seat_path = format!(
        "{}/{}",
        registrations(&ws, &event),
        seat["id"].as_str().unwrap()
    );

    for reader in [&analyst, &moderator] {
        for path in [events(&ws), location.clone()] {
            let response = app.get(&path, &reader.access).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
        }
        let refused = [
            app.get(&registrations(&ws, &event), &reader.access),
            app.get(&seat_path, &reader.access),
            app.get(
                &format!("{}/export", registrations(&ws, &event)),
                &reader.access,
            ),
            app.post(&events(&ws), &reader.access, &meetup()),
            app.patch(&location, &reader.access, &json!({"title": "Mine"})),
            app.delete(&location, &reader.access),
            app.post(
                &registrations(&ws, &event),
                &reader.access,
                &json!({"name": "X", "email": "x@example.com"}),
            ),
            app.patch(&seat_path, &reader.access, &json!({"status": "cancelled"})),
            app.delete(&seat_path, &reader.access),
        ];
        for request in refused {
            let response = request.send().await.unwrap();
            expect_problem(response, StatusCode::FORBIDDEN, "permission_denied").await;
        }
    }
    let view = read(&app, &ada, &location).await;
    assert_eq!(view["title"], "Community meetup");
    assert_eq!(view["registrations"]["registered"], 1);
}

#[actix_web::test]
async fn an_idempotency_key_replays_creates() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let send = |path: String, body: Value, key: &'static str| {
        app.post(&path, &ada.access, &body)
            .header("idempotency-key", key)
            .send()
    };
    let first = send(events(&ws), meetup(), "event-1").await.unwrap();
    let first = expect_json(first, StatusCode::CREATED).await;
    let again = send(events(&ws), meetup(), "event-1").await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(expect_json(again, StatusCode::CREATED).await, first);

    let guest = json!({"name": "Guest", "email": "guest@example.com"});
    let seat = send(registrations(&ws, &first), guest.clone(), "seat-1")
        .await
        .unwrap();
    let seat = expect_json(seat, StatusCode::CREATED).await;
    // A plain retry would be a duplicate (409); with the key it is the same answer.
    let again = send(registrations(&ws, &first), guest.clone(), "seat-1")
        .await
        .unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(expect_json(again, StatusCode::CREATED).await, seat);
    let other = send(
        registrations(&ws, &first),
        json!({"name": "Other", "email": "other@example.com"}),
        "seat-1",
    )
    .await
    .unwrap();
    expect_problem(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;

    let list = read(&app, &ada, &events(&ws)).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["registrations"]["registered"], 1);
}

#[actix_web::test]
async fn another_workspaces_ids_answer_404_through_your_own_workspace() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let event = create_event(&app, &ada, &ws, meetup()).await;
    let seat = expect_json(
        register(&app, &ada, &ws, &event, "guest@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let campaign = expect_json(
        app.post(
            &format!("/v1/workspaces/{ws}/campaigns"),
            &ada.access,
            &json!({"name": "Launch", "starts_on": "2030-11-01", "ends_on": "2030-12-31"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;

    let mallory = app.signup("mallory@example.com").await;
    let hers = app.create_workspace(&mallory, "Mallory's").await;
    let (event_id, seat_id, campaign_id) = (
        event["id"].as_str().unwrap(),
        seat["id"].as_str().unwrap(),
        campaign["id"].as_str().unwrap(),
    );
    let base = format!("/v1/workspaces/{hers}");
    let seat_path = format!("{base}/community-events/{event_id}/registrations/{seat_id}");
    let requests = [
        app.get(
            &format!("{base}/community-events/{event_id}"),
            &mallory.access,
        ),
        app.patch(
            &format!("{base}/community-events/{event_id}"),
            &mallory.access,
            &json!({"title": "Mine"}),
        ),
        app.delete(
            &format!("{base}/community-events/{event_id}"),
            &mallory.access,
        ),
        app.get(
            &format!("{base}/community-events/{event_id}/registrations"),
            &mallory.access,
        ),
        app.get(
            &format!("{base}/community-events/{event_id}/registrations/export"),
            &mallory.access,
        ),
        app.post(
            &format!("{base}/community-events/{event_id}/registrations"),
            &mallory.access,
            &json!({"name": "M", "email": "m@example.com"}),
        ),
        app.get(&seat_path, &mallory.access),
        app.patch(&seat_path, &mallory.access, &json!({"status": "cancelled"})),
        app.delete(&seat_path, &mallory.access),
        app.get(&format!("{base}/campaigns/{campaign_id}"), &mallory.access),
        app.patch(
            &format!("{base}/campaigns/{campaign_id}"),
            &mallory.access,
            &json!({"name": "Mine"}),
        ),
        app.delete(&format!("{base}/campaigns/{campaign_id}"), &mallory.access),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        expect_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Nor can she attach her event to Ada's campaign.
    let response = app
        .post(
            &format!("{base}/community-events"),
            &mallory.access,
            &with(meetup(), json!({"campaign_id": campaign_id})),
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
    assert_eq!(fields(&problem), ["campaign_id"]);
    let filtered = read(
        &app,
        &mallory,
        &format!("{base}/community-events?campaign_id={campaign_id}"),
    )
    .await;
    assert_eq!(filtered["data"].as_array().unwrap().len(), 0);

    let seat = read(
        &app,
        &ada,
        &format!("{}/{seat_id}", registrations(&ws, &event)),
    )
    .await;
    assert_eq!(seat["status"], "registered");
    assert_eq!(
        read(
            &app,
            &ada,
            &format!("/v1/workspaces/{ws}/campaigns/{campaign_id}")
        )
        .await["name"],
        "Launch"
    );
}
