//! Posts: variants checked against each platform, the approval workflow,
//! revisions, comments, bulk import, the queue and the calendar.

use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::{Session, TestApp, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Desk {
    app: TestApp,
    owner: Session,
    cm: Session,
    ws: String,
    channel: String,
    _platform: FakePlatform,
}

async fn desk() -> Desk {
    let app = TestApp::spawn_with_plugins().await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let cm = app
        .add_member(&owner, &ws, "cm@example.com", "community_manager")
        .await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    Desk {
        channel: channel["id"].as_str().unwrap().to_owned(),
        app,
        owner,
        cm,
        ws,
        _platform: platform,
    }
}

impl Desk {
    fn posts(&self) -> String {
        format!("/v1/workspaces/{}/posts", self.ws)
    }

    async fn draft(&self, who: &Session, body: Value) -> Value {
        self.app
            .call(
                self.app.post(&self.posts(), &who.access, &body),
                StatusCode::CREATED,
            )
            .await
    }

    async fn act(
        &self,
        who: &Session,
        post: &Value,
        action: &str,
        body: Value,
        status: StatusCode,
    ) -> Value {
        let path = format!("{}/{}/{action}", self.posts(), post["id"].as_str().unwrap());
        self.app
            .call(self.app.post(&path, &who.access, &body), status)
            .await
    }
}

fn simple(channel: &str, text: &str) -> Value {
    json!({"body": text, "tags": ["launch"], "variants": [{"channel_id": channel}]})
}

#[actix_web::test]
async fn variants_are_checked_against_their_platform() {
    let d = desk().await;
    let ok = d
        .draft(
            &d.cm,
            json!({
                "body": "Spring roast ☕ https://acme.example/spring",
                "tags": ["launch", " launch ", "spring"],
                "utm": {"campaign": "spring"},
                "variants": [{
                    "channel_id": d.channel,
                    "options": {"visibility": "unlisted", "content_warning": "coffee"},
                    "follow_ups": [{"text": "Tasting notes: cherry, cocoa."}]
                }]
            }),
        )
        .await;
    assert_eq!(ok["status"], "draft");
    assert_eq!(ok["tags"], json!(["launch", "spring"]));
    assert_eq!(ok["variants"][0]["options"]["visibility"], "unlisted");

    // The preview shows what goes out: links tagged per channel.
    let preview = d
        .app
        .call(
            d.app.get(
                &format!("{}/{}/preview", d.posts(), ok["id"].as_str().unwrap()),
                &d.cm.access,
            ),
            StatusCode::OK,
        )
        .await;
    let text = preview["variants"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("utm_source=template&utm_medium=social&utm_campaign=spring"),
        "{text}"
    );
    assert_eq!(preview["problems"], json!([]));

    let nobody = uuid::Uuid::now_v7();
    let cases = [
        (simple(&nobody.to_string(), "hi"), "variants[0].channel_id"),
        (simple(&d.channel, &"x".repeat(501)), "variants[0].text"),
        (
            json!({"body": "hi", "variants": [{"channel_id": d.channel, "options": {"visibility": "secret"}}]}),
            "variants[0].options.visibility",
        ),
        (
            json!({"body": "hi", "variants": [{"channel_id": d.channel}, {"channel_id": d.channel}]}),
            "variants[1].channel_id",
        ),
        (json!({"body": "hi", "variants": []}), "variants"),
        (
            json!({"body": "hi", "media_ids": ["nope"], "variants": [{"channel_id": d.channel}]}),
            "media_ids[0]",
        ),
        (
            json!({"body": "hi", "campaign_id": nobody.to_string(), "variants": [{"channel_id": d.channel}]}),
            "campaign_id",
        ),
    ];
    for (body, field) in cases {
        let response = d
            .app
            .post(&d.posts(), &d.cm.access, &body)
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
        assert!(fields.contains(&field), "{field} not in {fields:?}");
    }
    let text_error = d
        .app
        .post(
            &d.posts(),
            &d.cm.access,
            &simple(&d.channel, &"x".repeat(501)),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        text_error,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        problem["errors"][0]["message"],
        "is 501 characters; Template takes at most 500"
    );
}

#[actix_web::test]
async fn the_workflow_runs_from_draft_to_scheduled_with_every_step_on_record() {
    let d = desk().await;
    let strategist = d
        .app
        .add_member(&d.owner, &d.ws, "sam@example.com", "strategist")
        .await;
    let post = d.draft(&d.cm, simple(&d.channel, "Hello")).await;

    // Scheduling a draft is refused; so is approving one.
    let future = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    d.act(
        &d.owner,
        &post,
        "schedule",
        json!({"scheduled_at": future}),
        StatusCode::CONFLICT,
    )
    .await;

    let submitted = d
        .act(&d.cm, &post, "submit", json!(null), StatusCode::OK)
        .await;
    assert_eq!(submitted["status"], "in_review");
    assert_eq!(submitted["approvals"]["required"], 1);

    // A post in review is not edited; its author does not approve it.
    let path = format!("{}/{}", d.posts(), post["id"].as_str().unwrap());
    let edit = d
        .app
        .patch(&path, &d.cm.access, &json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    expect_problem(edit, StatusCode::CONFLICT, "post_in_review").await;
    let changes = d
        .act(
            &strategist,
            &post,
            "request-changes",
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(changes["errors"][0]["field"], "reason");
    let back = d
        .act(
            &strategist,
            &post,
            "request-changes",
            json!({"reason": "Add the link"}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(back["status"], "changes_requested");
    let edited = d
        .app
        .call(
            d.app.patch(
                &path,
                &d.cm.access,
                &json!({"body": "Hello https://acme.example"}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(edited["status"], "draft");
    d.act(&d.cm, &post, "submit", json!(null), StatusCode::OK)
        .await;
    let approved = d
        .act(&strategist, &post, "approve", json!({}), StatusCode::OK)
        .await;
    assert_eq!(approved["status"], "approved");

    // Past times are refused; a future one schedules it.
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let refused = d
        .act(
            &d.cm,
            &post,
            "schedule",
            json!({"scheduled_at": past}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(refused["errors"][0]["field"], "scheduled_at");
    let scheduled = d
        .act(
            &d.cm,
            &post,
            "schedule",
            json!({"scheduled_at": future}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(scheduled["status"], "scheduled");
    assert!(scheduled["scheduled_at"].is_string());

    // Editing scheduled content sends it back to review.
    let reedited = d
        .app
        .call(
            d.app
                .patch(&path, &d.cm.access, &json!({"body": "Hello again"})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(reedited["status"], "in_review");
    assert!(reedited["scheduled_at"].is_null());
    d.act(&strategist, &post, "approve", json!({}), StatusCode::OK)
        .await;
    d.act(
        &d.cm,
        &post,
        "schedule",
        json!({"scheduled_at": future}),
        StatusCode::OK,
    )
    .await;
    let cancelled = d
        .act(
            &d.cm,
            &post,
            "cancel",
            json!({"reason": "event moved"}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(cancelled["status"], "cancelled");

    let history = d
        .app
        .call(
            d.app.get(&format!("{path}/history"), &d.cm.access),
            StatusCode::OK,
        )
        .await;
    let steps: Vec<(String, String, String)> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["action"].as_str().unwrap().to_owned(),
                s["from_status"].as_str().unwrap().to_owned(),
                s["to_status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("submit", "draft", "in_review"),
        ("request_changes", "in_review", "changes_requested"),
        ("edit", "changes_requested", "draft"),
        ("submit", "draft", "in_review"),
        ("approve", "in_review", "approved"),
        ("schedule", "approved", "scheduled"),
        ("edit", "scheduled", "in_review"),
        ("approve", "in_review", "approved"),
        ("schedule", "approved", "scheduled"),
        ("cancel", "scheduled", "cancelled"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, f, t)| ((*a).to_owned(), (*f).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(steps, expected);
    assert_eq!(history["data"][1]["reason"], "Add the link");
    assert_eq!(history["data"][1]["actor_id"], strategist.user_id);
}

#[actix_web::test]
async fn the_workspace_decides_who_needs_approval_and_how_many() {
    let d = desk().await;
    let sam = d
        .app
        .add_member(&d.owner, &d.ws, "sam@example.com", "strategist")
        .await;
    let kim = d
        .app
        .add_member(&d.owner, &d.ws, "kim@example.com", "strategist")
        .await;
    d.app
        .call(
            d.app.patch(
                &format!("/v1/workspaces/{}", d.ws),
                &d.owner.access,
                &json!({"approval_policy": {"roles": ["community_manager"], "approvals_required": 2}}),
            ),
            StatusCode::OK,
        )
        .await;

    // The owner needs no approval.
    let own = d
        .draft(&d.owner, simple(&d.channel, "From the owner"))
        .await;
    let auto = d
        .act(&d.owner, &own, "submit", json!(null), StatusCode::OK)
        .await;
    assert_eq!(auto["status"], "approved");

    // A community manager's post needs two distinct approvals.
    let post = d.draft(&d.cm, simple(&d.channel, "From the CM")).await;
    d.act(&d.cm, &post, "submit", json!(null), StatusCode::OK)
        .await;
    let one = d
        .act(&sam, &post, "approve", json!({}), StatusCode::OK)
        .await;
    assert_eq!(one["status"], "in_review");
    let twice = d
        .act(&sam, &post, "approve", json!({}), StatusCode::OK)
        .await;
    assert_eq!(twice["status"], "in_review", "the same person counts once");
    let two = d
        .act(&kim, &post, "approve", json!({}), StatusCode::OK)
        .await;
    assert_eq!(two["status"], "approved");
    assert_eq!(two["approvals"]["given"].as_array().unwrap().len(), 2);

    // Strategists' own posts: nobody approves their own.
    d.app
        .call(
            d.app.patch(
                &format!("/v1/workspaces/{}", d.ws),
                &d.owner.access,
                &json!({"approval_policy": {"roles": ["strategist", "community_manager"], "approvals_required": 1}}),
            ),
            StatusCode::OK,
        )
        .await;
    let sams = d.draft(&sam, simple(&d.channel, "From Sam")).await;
    d.act(&sam, &sams, "submit", json!(null), StatusCode::OK)
        .await;
    let me = d
        .act(&sam, &sams, "approve", json!({}), StatusCode::FORBIDDEN)
        .await;
    assert_eq!(me["code"], "self_approval");
    let bad = d
        .app
        .patch(
            &format!("/v1/workspaces/{}", d.ws),
            &d.owner.access,
            &json!({"approval_policy": {"roles": [], "approvals_required": 9}, "time_zone": "Mars/Base"}),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(
        problem["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("time_zone")
    );
}

#[actix_web::test]
async fn roles_decide_who_writes_approves_and_schedules() {
    let d = desk().await;
    let moderator = d
        .app
        .add_member(&d.owner, &d.ws, "mod@example.com", "moderator")
        .await;
    let analyst = d
        .app
        .add_member(&d.owner, &d.ws, "ana@example.com", "analyst")
        .await;
    for who in [&moderator, &analyst] {
        let response = d
            .app
            .post(&d.posts(), &who.access, &simple(&d.channel, "nope"))
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::FORBIDDEN, "permission_denied").await;
    }
    let post = d.draft(&d.cm, simple(&d.channel, "Hello")).await;
    d.act(&d.cm, &post, "submit", json!(null), StatusCode::OK)
        .await;
    // A community manager does not approve; an analyst reads.
    d.act(&d.cm, &post, "approve", json!({}), StatusCode::FORBIDDEN)
        .await;
    let read = d
        .app
        .call(d.app.get(&d.posts(), &analyst.access), StatusCode::OK)
        .await;
    assert_eq!(read["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn every_edit_is_a_revision_that_can_be_restored() {
    let d = desk().await;
    let post = d.draft(&d.cm, simple(&d.channel, "First")).await;
    let path = format!("{}/{}", d.posts(), post["id"].as_str().unwrap());
    let second = d
        .app
        .patch(&path, &d.cm.access, &json!({"body": "Second", "tags": []}))
        .header("If-Match", "\"v1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(second.headers()["etag"], "\"v2\"");
    let stale = d
        .app
        .patch(&path, &d.cm.access, &json!({"body": "Lost"}))
        .header("If-Match", "\"v1\"")
        .send()
        .await
        .unwrap();
    expect_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;

    let revisions = d
        .app
        .call(
            d.app.get(&format!("{path}/revisions"), &d.cm.access),
            StatusCode::OK,
        )
        .await;
    let list = revisions["data"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["content"]["body"], "Second", "newest first");
    let first = list[1]["id"].as_str().unwrap();
    let restored = d
        .app
        .call(
            d.app.post(
                &format!("{path}/revisions/{first}/restore"),
                &d.cm.access,
                &json!({}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(restored["body"], "First");
    assert_eq!(restored["tags"], json!(["launch"]));
    assert_eq!(restored["version"], 3);
}

#[actix_web::test]
async fn comments_mention_members_by_email() {
    let d = desk().await;
    let post = d.draft(&d.cm, simple(&d.channel, "Hello")).await;
    let path = format!("{}/{}/comments", d.posts(), post["id"].as_str().unwrap());
    let comment = d
        .app
        .call(
            d.app.post(
                &path,
                &d.cm.access,
                &json!({"body": "@Owner@example.com can you check? cc @stranger@example.com"}),
            ),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(comment["mentions"], json!([d.owner.user_id]));
    let list = d
        .app
        .call(d.app.get(&path, &d.owner.access), StatusCode::OK)
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let id = comment["id"].as_str().unwrap();
    // Only the author or an owner deletes it.
    let analyst = d
        .app
        .add_member(&d.owner, &d.ws, "ana@example.com", "analyst")
        .await;
    let refused = d
        .app
        .delete(&format!("{path}/{id}"), &analyst.access)
        .send()
        .await
        .unwrap();
    expect_problem(refused, StatusCode::FORBIDDEN, "not_comment_author").await;
    let deleted = d
        .app
        .delete(&format!("{path}/{id}"), &d.owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn bulk_import_reports_each_refused_row() {
    let d = desk().await;
    let csv = format!(
        "body,channel_ids,tags\n\
         First post,{c},launch;spring\n\
         {long},{c},\n\
         Third,not-a-channel,\n\
         Fourth,{c},\n",
        c = d.channel,
        long = "x".repeat(600)
    );
    let import = |dry: bool| {
        d.app
            .request(
                reqwest::Method::POST,
                &format!("/v1/workspaces/{}/post-imports?dry_run={dry}", d.ws),
            )
            .bearer_auth(&d.cm.access)
            .header("content-type", "text/csv")
            .body(csv.clone())
    };
    let dry = d.app.call(import(true), StatusCode::OK).await;
    assert_eq!(dry["imported"].as_array().unwrap().len(), 2);
    assert!(dry["imported"][0]["post_id"].is_null());
    let report = d.app.call(import(false), StatusCode::OK).await;
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["row"], 2);
    assert_eq!(rejected[0]["errors"][0]["field"], "variants[0].text");
    assert_eq!(rejected[1]["row"], 3);
    assert_eq!(rejected[1]["errors"][0]["field"], "channel_ids");
    let posts = d
        .app
        .call(d.app.get(&d.posts(), &d.cm.access), StatusCode::OK)
        .await;
    assert_eq!(posts["data"].as_array().unwrap().len(), 2);
    assert_eq!(posts["data"][0]["tags"], json!(["launch", "spring"]));

    let json_import = d
        .app
        .call(
            d.app.post(
                &format!("/v1/workspaces/{}/post-imports", d.ws),
                &d.cm.access,
                &json!({"posts": [simple(&d.channel, "JSON one"), {"body": 3}]}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(json_import["imported"].as_array().unwrap().len(), 1);
    assert_eq!(json_import["rejected"][0]["row"], 2);
}

#[actix_web::test]
async fn the_queue_fills_the_next_free_slots_and_can_be_reordered() {
    let d = desk().await;
    let channel_path = format!("/v1/workspaces/{}/channels/{}", d.ws, d.channel);
    d.app
        .call(
            d.app.patch(
                &format!("/v1/workspaces/{}", d.ws),
                &d.owner.access,
                &json!({"time_zone": "Europe/Madrid"}),
            ),
            StatusCode::OK,
        )
        .await;
    let every_day: Vec<Value> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|day| json!({"weekday": day, "time": "10:00"}))
    .collect();
    d.app
        .call(
            d.app.patch(
                &channel_path,
                &d.owner.access,
                &json!({"posting_slots": every_day}),
            ),
            StatusCode::OK,
        )
        .await;
    let mut ids = Vec::new();
    for text in ["one", "two"] {
        let post = d.draft(&d.owner, simple(&d.channel, text)).await;
        d.act(&d.owner, &post, "submit", json!(null), StatusCode::OK)
            .await;
        let queued = d
            .act(&d.owner, &post, "queue", json!({}), StatusCode::OK)
            .await;
        assert_eq!(queued["status"], "scheduled");
        ids.push(post["id"].as_str().unwrap().to_owned());
    }
    let queue = d
        .app
        .call(
            d.app.get(&format!("{channel_path}/queue"), &d.cm.access),
            StatusCode::OK,
        )
        .await;
    assert_eq!(queue["time_zone"], "Europe/Madrid");
    let entries = queue["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["post_id"], ids[0]);
    assert!(
        entries[0]["local_scheduled_at"]
            .as_str()
            .unwrap()
            .contains("T10:00:00+01:00")
    );
    assert_ne!(entries[0]["scheduled_at"], entries[1]["scheduled_at"]);
    let first_time = entries[0]["scheduled_at"].clone();

    let reordered = d
        .app
        .call(
            d.app
                .request(reqwest::Method::PUT, &format!("{channel_path}/queue"))
                .bearer_auth(&d.cm.access)
                .json(&json!({"post_ids": [ids[1], ids[0]]})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(reordered["data"][0]["post_id"], ids[1]);
    assert_eq!(reordered["data"][0]["scheduled_at"], first_time);
    let partial = d
        .app
        .request(reqwest::Method::PUT, &format!("{channel_path}/queue"))
        .bearer_auth(&d.cm.access)
        .json(&json!({"post_ids": [ids[0]]}))
        .send()
        .await
        .unwrap();
    expect_problem(
        partial,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // The calendar shows them in the workspace's zone, filterable.
    let from = chrono::Utc::now().to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let url = |extra: &str| {
        format!(
            "/v1/workspaces/{}/calendar?from={}&to={}{extra}",
            d.ws,
            urlencode(&from),
            urlencode(&to)
        )
    };
    let calendar = d
        .app
        .call(d.app.get(&url(""), &d.cm.access), StatusCode::OK)
        .await;
    assert_eq!(calendar["time_zone"], "Europe/Madrid");
    assert_eq!(calendar["entries"].as_array().unwrap().len(), 2);
    assert_eq!(calendar["entries"][0]["kind"], "post");
    assert!(
        calendar["entries"][0]["local_starts_at"]
            .as_str()
            .unwrap()
            .ends_with("+01:00")
    );
    let tagged = d
        .app
        .call(
            d.app.get(&url("&tag=nothing"), &d.cm.access),
            StatusCode::OK,
        )
        .await;
    assert_eq!(tagged["entries"], json!([]));
    let wide = d
        .app
        .get(
            &format!(
                "/v1/workspaces/{}/calendar?from={}&to={}",
                d.ws,
                urlencode(&from),
                urlencode(&(chrono::Utc::now() + chrono::Duration::days(200)).to_rfc3339())
            ),
            &d.cm.access,
        )
        .send()
        .await
        .unwrap();
    expect_problem(wide, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[actix_web::test]
async fn campaigns_tag_links_and_events_share_the_calendar() {
    let d = desk().await;
    let campaign = d
        .app
        .call(
            d.app.post(
                &format!("/v1/workspaces/{}/campaigns", d.ws),
                &d.cm.access,
                &json!({"name": "Spring Launch", "starts_on": "2026-03-01", "ends_on": "2030-03-31"}),
            ),
            StatusCode::CREATED,
        )
        .await;
    let starts = chrono::Utc::now() + chrono::Duration::days(3);
    let event = d
        .app
        .call(
            d.app.post(
                &format!("/v1/workspaces/{}/community-events", d.ws),
                &d.cm.access,
                &json!({
                    "title": "Tasting night",
                    "starts_at": starts.to_rfc3339(),
                    "ends_at": (starts + chrono::Duration::hours(2)).to_rfc3339(),
                    "time_zone": "Europe/Madrid",
                    "place": "Acme Roastery",
                    "campaign_id": campaign["id"]
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    let post = d
        .draft(
            &d.cm,
            json!({
                "body": "Join us https://acme.example/tasting",
                "campaign_id": campaign["id"],
                "event_id": event["id"],
                "variants": [{"channel_id": d.channel, "utm": {"content": "variant-a"}}]
            }),
        )
        .await;
    let preview = d
        .app
        .call(
            d.app.get(
                &format!("{}/{}/preview", d.posts(), post["id"].as_str().unwrap()),
                &d.cm.access,
            ),
            StatusCode::OK,
        )
        .await;
    let text = preview["variants"][0]["text"].as_str().unwrap();
    assert!(text.contains("utm_campaign=spring-launch"), "{text}");
    assert!(text.contains("utm_content=variant-a"), "{text}");
    assert!(text.contains("utm_source=template"), "{text}");

    // Posts of the campaign and event are listed by either.
    let by_event = d
        .app
        .call(
            d.app.get(
                &format!("{}?event_id={}", d.posts(), event["id"].as_str().unwrap()),
                &d.cm.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(by_event["data"].as_array().unwrap().len(), 1);

    let from = chrono::Utc::now().to_rfc3339().replace('+', "%2B");
    let to = (chrono::Utc::now() + chrono::Duration::days(10))
        .to_rfc3339()
        .replace('+', "%2B");
    let calendar = d
        .app
        .call(
            d.app.get(
                &format!(
                    "/v1/workspaces/{}/calendar?from={from}&to={to}&campaign_id={}",
                    d.ws,
                    campaign["id"].as_str().unwrap()
                ),
                &d.cm.access,
            ),
            StatusCode::OK,
        )
        .await;
    let entries = calendar["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["kind"], "event");
    assert_eq!(entries[0]["title"], "Tasting night");
    assert!(entries[0]["ends_at"].is_string());
}

#[actix_web::test]
async fn attachments_come_from_the_library_within_the_platform_limits() {
    let d = desk().await;
    let mut ids = Vec::new();
    for seed in 0..5 {
        let media = d.app.upload_png(&d.cm.access, &d.ws, seed).await;
        ids.push(media["id"].as_str().unwrap().to_owned());
    }
    let ok = d
        .draft(
            &d.cm,
            json!({"body": "Photos", "media_ids": &ids[..2], "variants": [{"channel_id": d.channel}]}),
        )
        .await;
    assert_eq!(ok["media_ids"], json!(&ids[..2]));

    let too_many = d
        .app
        .post(
            &d.posts(),
            &d.cm.access,
            &json!({"body": "Photos", "variants": [{"channel_id": d.channel, "media_ids": ids}]}),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        too_many,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "variants[0].media_ids");
    assert_eq!(
        problem["errors"][0]["message"],
        "has 5 attachments; Template takes at most 4"
    );

    // Another workspace's media is not this workspace's to attach.
    let elsewhere = d.app.create_workspace(&d.owner, "Elsewhere").await;
    let foreign = d.app.upload_png(&d.owner.access, &elsewhere, 9).await;
    let response = d
        .app
        .post(
            &d.posts(),
            &d.cm.access,
            &json!({"body": "x", "media_ids": [foreign["id"]], "variants": [{"channel_id": d.channel}]}),
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
    assert_eq!(problem["errors"][0]["field"], "media_ids[0]");
}

#[actix_web::test]
async fn a_channel_leaves_drafts_but_not_scheduled_posts() {
    let d = desk().await;
    let draft = d.draft(&d.owner, simple(&d.channel, "draft")).await;
    let scheduled = d.draft(&d.owner, simple(&d.channel, "scheduled")).await;
    d.act(&d.owner, &scheduled, "submit", json!(null), StatusCode::OK)
        .await;
    let at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    d.act(
        &d.owner,
        &scheduled,
        "schedule",
        json!({"scheduled_at": at}),
        StatusCode::OK,
    )
    .await;
    let channel = format!("/v1/workspaces/{}/channels/{}", d.ws, d.channel);
    let refused = d
        .app
        .delete(&channel, &d.owner.access)
        .send()
        .await
        .unwrap();
    expect_problem(refused, StatusCode::CONFLICT, "channel_in_use").await;

    d.act(&d.owner, &scheduled, "cancel", json!({}), StatusCode::OK)
        .await;
    let gone = d
        .app
        .delete(&channel, &d.owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let after = d
        .app
        .call(
            d.app.get(
                &format!("{}/{}", d.posts(), draft["id"].as_str().unwrap()),
                &d.owner.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(after["variants"], json!([]));
}
