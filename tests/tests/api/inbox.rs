//! The inbox end to end: mentions polled through the real `template`
//! plugin from a local fake platform, de-duplicated, scored, triaged by
//! rules and people, answered through the plugin, with every action in the
//! moderation log.

use chrono::{Duration, Utc};
use plaza_api::worker::run_due;
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::{PLUGINS_DIR, Session, TestApp, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Plaza with the test plugins, a workspace and a `template` channel on a
/// fake platform.
struct Setup {
    app: TestApp,
    platform: FakePlatform,
    owner: Session,
    ws: String,
    channel: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn_with(|c| {
        c.plugins_dir = Some(PLUGINS_DIR.into());
        c.plugin_insecure_hosts = vec!["127.0.0.1".to_owned()];
    })
    .await;
    let platform = FakePlatform::start("t0ken");
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .connect_channel(&owner, &ws, &platform.url, "t0ken")
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    Setup {
        app,
        platform,
        owner,
        ws,
        channel,
    }
}

impl Setup {
    fn path(&self, rest: &str) -> String {
        format!("/v1/workspaces/{}/{rest}", self.ws)
    }

    async fn poll(&self) -> Value {
        self.app
            .call(
                self.app.post(
                    &self.path(&format!("channels/{}/inbox/poll", self.channel)),
                    &self.owner.access,
                    &json!({}),
                ),
                StatusCode::OK,
            )
            .await
    }

    async fn items(&self, query: &str) -> Vec<Value> {
        let page = self
            .app
            .call(
                self.app.get(
                    &self.path(&format!("inbox/items{query}")),
                    &self.owner.access,
                ),
                StatusCode::OK,
            )
            .await;
        page["data"].as_array().unwrap().clone()
    }

    async fn log(&self, item: &str) -> Vec<String> {
        let page = self
            .app
            .call(
                self.app.get(
                    &self.path(&format!("inbox/items/{item}/log")),
                    &self.owner.access,
                ),
                StatusCode::OK,
            )
            .await;
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn event_types(&self) -> Vec<String> {
        let ws = self.ws.clone();
        self.app
            .state
            .db
            .read(move |conn| {
                use diesel::prelude::*;
                use plaza_api::db::schema::activity_events::dsl as e;
                e::activity_events
                    .filter(e::workspace_id.eq(ws))
                    .order(e::seq.asc())
                    .select(e::event_type)
                    .load::<String>(conn)
                    .map_err(plaza_api::db::DbError::from)
            })
            .await
            .unwrap()
    }

    async fn rule(&self, body: Value) -> Value {
        self.app
            .call(
                self.app
                    .post(&self.path("inbox/rules"), &self.owner.access, &body),
                StatusCode::CREATED,
            )
            .await
    }
}

#[actix_web::test]
async fn a_mention_is_taken_in_once_scored_and_answered_on_the_platform() {
    let s = setup().await;
    s.platform.mention(
        "ana",
        "¡Qué mal servicio! Llevo dos semanas esperando mi pedido, estoy muy enfadada",
    );
    s.platform.mention(
        "ben",
        "Loving the new spring roast, great coffee as always!",
    );

    let report = s.poll().await;
    assert_eq!(report["received"], 2, "{report}");
    assert_eq!(report["created"], 2, "{report}");
    assert_eq!(report["streams"][0]["stream"], "mentions");

    // A second poll resumes after the cursor and finds nothing new; the
    // same mentions delivered again would be dropped as duplicates.
    let again = s.poll().await;
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(s.items("").await.len(), 2);

    let items = s.items("").await;
    let ana = items
        .iter()
        .find(|i| i["author"]["handle"] == "ana")
        .unwrap();
    let ben = items
        .iter()
        .find(|i| i["author"]["handle"] == "ben")
        .unwrap();
    assert_eq!(ana["kind"], "mention");
    assert_eq!(ana["status"], "open");
    assert_eq!(ana["priority"], "normal");
    assert_eq!(ana["lang"], "es", "{ana}");
    assert_eq!(ana["sentiment"]["label"], "negative", "{ana}");
    assert_eq!(ben["lang"], "en", "{ben}");
    assert_eq!(ben["sentiment"]["label"], "positive", "{ben}");
    assert!(ana["author"]["contact_id"].is_string(), "{ana}");
    assert!(ana["sla"]["first_response_due_at"].is_string(), "{ana}");
    assert_eq!(ana["sla"]["overdue"], false);

    // Filters: by sentiment, language, text and kind.
    assert_eq!(s.items("?sentiment=negative").await.len(), 1);
    assert_eq!(s.items("?lang=en").await.len(), 1);
    assert_eq!(s.items("?q=SPRING%20roast").await.len(), 1);
    assert_eq!(s.items("?kind=comment").await.len(), 0);
    assert_eq!(s.items("?status=open,pending&kind=mention").await.len(), 2);

    // Answer Ana through the plugin.
    let ana_id = ana["id"].as_str().unwrap();
    let reply = s
        .app
        .call(
            s.app.post(
                &s.path(&format!("inbox/items/{ana_id}/replies")),
                &s.owner.access,
                &json!({"text": "Hola {{author.name}}, lo sentimos mucho. Te escribimos por privado."}),
            ),
            StatusCode::ACCEPTED,
        )
        .await;
    assert_eq!(reply["status"], "queued", "{reply}");
    assert_eq!(
        reply["text"],
        "Hola ana, lo sentimos mucho. Te escribimos por privado."
    );
    run_due(&s.app.state, "w1", Utc::now().naive_utc())
        .await
        .unwrap();

    let sent = s.platform.state.lock().unwrap().posts.clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["reply_to"], ana["remote_id"]);
    assert!(sent[0]["text"].as_str().unwrap().starts_with("Hola ana"));

    let replies = s
        .app
        .call(
            s.app.get(
                &s.path(&format!("inbox/items/{ana_id}/replies")),
                &s.owner.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(replies[0]["status"], "sent", "{replies}");
    assert!(replies[0]["remote_id"].is_string());
    let item = s
        .app
        .call(
            s.app
                .get(&s.path(&format!("inbox/items/{ana_id}")), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    assert!(item["sla"]["first_response_at"].is_string(), "{item}");

    let log = s.log(ana_id).await;
    assert!(log.contains(&"reply.written".to_owned()), "{log:?}");
    assert!(log.contains(&"reply.sent".to_owned()), "{log:?}");
    let events = s.event_types().await;
    assert_eq!(
        events.iter().filter(|e| *e == "inbox.item_created").count(),
        2,
        "{events:?}"
    );
    assert!(
        events.contains(&"inbox.reply_sent".to_owned()),
        "{events:?}"
    );
}

#[actix_web::test]
async fn rules_tag_prioritise_and_share_out_new_items_and_say_so_in_the_log() {
    let s = setup().await;
    let moderator = s
        .app
        .add_member(&s.owner, &s.ws, "mod@example.com", "moderator")
        .await;
    let rule = s
        .rule(json!({
            "name": "Refunds are urgent",
            "definition": {
                "when": {"type": "any", "conditions": [
                    {"type": "contains_words", "words": ["refund", "reembolso", "mal servicio"]},
                    {"type": "matches_regex", "pattern": "order #\\d{4,}"}
                ]},
                "actions": [
                    {"type": "tag", "tag": "refund"},
                    {"type": "set_priority", "priority": "urgent"},
                    {"type": "assign_round_robin", "user_ids": [s.owner.user_id, moderator.user_id]}
                ]
            }
        }))
        .await;
    assert_eq!(rule["version"], 1);
    // A later rule that would do again what the first did takes no action.
    s.rule(json!({
        "name": "Refunds again",
        "definition": {
            "when": {"type": "contains_words", "words": ["refund for my order"]},
            "actions": [{"type": "tag", "tag": "refund"}, {"type": "set_priority", "priority": "urgent"}]
        }
    }))
    .await;
    s.rule(json!({
        "name": "Spam",
        "definition": {
            "when": {"type": "contains_words", "words": ["crypto giveaway"]},
            "actions": [{"type": "set_status", "status": "spam"}, {"type": "stop"}]
        }
    }))
    .await;

    s.platform.mention("ana", "I want a REFUND for my order");
    s.platform.mention("ben", "Qué MAL  servício, de verdad");
    s.platform.mention("cy", "Where is order #12345?");
    s.platform
        .mention("dee", "Nice refundable tickets? no: classy");
    s.platform.mention("eve", "Free CRYPTO giveaway, click now");
    s.poll().await;

    let urgent = s.items("?tag=refund").await;
    let handles: Vec<&str> = urgent
        .iter()
        .map(|i| i["author"]["handle"].as_str().unwrap())
        .collect();
    assert_eq!(
        urgent.len(),
        3,
        "whole words only, accents and case ignored: {handles:?}"
    );
    assert!(urgent.iter().all(|i| i["priority"] == "urgent"));
    let assignees: Vec<&str> = urgent
        .iter()
        .map(|i| i["assignee_id"].as_str().unwrap())
        .collect();
    assert!(
        assignees.contains(&s.owner.user_id.as_str()),
        "{assignees:?}"
    );
    assert!(
        assignees.contains(&moderator.user_id.as_str()),
        "{assignees:?}"
    );
    assert_eq!(s.items("?status=spam").await.len(), 1);
    assert_eq!(
        s.items(&format!("?assignee={}", moderator.user_id))
            .await
            .len(),
        assignees
            .iter()
            .filter(|a| **a == moderator.user_id)
            .count()
    );

    // The log names the rule and its version (Ana's item: both refund
    // rules matched it).
    let item = urgent
        .iter()
        .find(|i| i["author"]["handle"] == "ana")
        .unwrap()["id"]
        .as_str()
        .unwrap();
    let page = s
        .app
        .call(
            s.app.get(
                &s.path(&format!("inbox/log?item_id={item}")),
                &s.owner.access,
            ),
            StatusCode::OK,
        )
        .await;
    let entry = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "rule.set_priority")
        .unwrap();
    assert_eq!(entry["actor"]["kind"], "rule");
    assert_eq!(entry["actor"]["id"], rule["id"]);
    assert_eq!(entry["actor"]["rule_version"], 1);
    let actions: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["kind"] == "rule")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "rule.set_priority")
            .count(),
        1,
        "only the rule that changed something is on the record: {actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "rule.tag").count(),
        1,
        "{actions:?}"
    );

    // A dry run: on a text, and on the last items.
    let dry = s
        .app
        .call(
            s.app.post(
                &s.path("inbox/rule-dry-runs"),
                &s.owner.access,
                &json!({
                    "definition": {"when": {"type": "contains_words", "words": ["order"]},
                                   "actions": [{"type": "tag", "tag": "orders"}]},
                    "text": "my ORDER never came",
                    "last": 1000
                }),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(dry["text"]["matched"], true, "{dry}");
    assert_eq!(dry["text"]["actions"][0]["tag"], "orders");
    assert_eq!(dry["history"]["examined"], 5, "{dry}");
    assert_eq!(dry["history"]["matched"], 2, "{dry}");

    // An edit is a new version; the old one is kept.
    let rule_path = s.path(&format!("inbox/rules/{}", rule["id"].as_str().unwrap()));
    let edited = s
        .app
        .call(
            s.app
                .patch(&rule_path, &s.owner.access, &json!({"enabled": false}))
                .header("If-Match", "\"v1\""),
            StatusCode::OK,
        )
        .await;
    assert_eq!(edited["version"], 2);
    let stale = s
        .app
        .patch(&rule_path, &s.owner.access, &json!({"enabled": true}))
        .header("If-Match", "\"v1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let versions = s
        .app
        .call(
            s.app.get(&format!("{rule_path}/versions"), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    assert_eq!(versions.as_array().unwrap().len(), 2);

    // Disabled, it no longer acts.
    s.platform.mention("fay", "refund please");
    s.poll().await;
    assert_eq!(s.items("?tag=refund").await.len(), 3);
}

#[actix_web::test]
async fn bad_rules_are_refused_with_the_field_and_big_lists_compile() {
    let s = setup().await;
    let refuse = |definition: Value, field: &'static str| {
        let s = &s;
        async move {
            let problem = expect_problem(
                s.app
                    .post(
                        &s.path("inbox/rules"),
                        &s.owner.access,
                        &json!({"name": "bad", "definition": definition}),
                    )
                    .send()
                    .await
                    .unwrap(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await;
            let fields: Vec<String> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect();
            assert!(
                fields.iter().any(|f| f.starts_with(field)),
                "{field} not in {fields:?}: {problem}"
            );
        }
    };
    refuse(
        json!({"when": {"type": "matches_regex", "pattern": "(unclosed"}, "actions": [{"type": "tag", "tag": "x"}]}),
        "definition.when",
    )
    .await;
    refuse(
        json!({"when": {"type": "sentiment_below", "score": 3.0}, "actions": [{"type": "tag", "tag": "x"}]}),
        "definition.when",
    )
    .await;
    refuse(
        json!({"when": {"type": "contains_words", "words": ["x"]}, "actions": [{"type": "tag", "tag": "Not A Tag!"}]}),
        "definition.actions[0]",
    )
    .await;
    refuse(
        json!({"when": {"type": "contains_words", "words": ["x"]}, "actions": [{"type": "auto_reply", "saved_reply_id": "019a5b8e-5555-7d7a-9c1e-2f4b3a5d6e7f"}]}),
        "definition.actions[0]",
    )
    .await;
    refuse(
        json!({"when": {"type": "contains_words", "words": ["x"]}, "actions": []}),
        "definition.actions",
    )
    .await;
    // Unknown fields and types are malformed bodies.
    let unknown = s
        .app
        .post(
            &s.path("inbox/rules"),
            &s.owner.access,
            &json!({"name": "u", "definition": {"when": {"type": "telepathy"}, "actions": []}}),
        )
        .send()
        .await
        .unwrap();
    assert!(unknown.status().is_client_error(), "{}", unknown.status());

    // 10,000 watched words in one list, and a regex that would backtrack
    // for ever on a backtracking engine: both fine.
    let words: Vec<String> = (0..10_000).map(|i| format!("palabra{i}")).collect();
    s.rule(json!({
        "name": "Watched words",
        "definition": {"when": {"type": "contains_words", "words": words},
                       "actions": [{"type": "tag", "tag": "watched"}]}
    }))
    .await;
    s.rule(json!({
        "name": "Nested",
        "definition": {"when": {"type": "matches_regex", "pattern": "(a+)+$"},
                       "actions": [{"type": "tag", "tag": "nested"}]}
    }))
    .await;
    let long = format!("{}!", "a".repeat(15_000));
    s.platform.mention("ana", &long);
    s.platform.mention("ben", "sobre la palabra9999 hablamos");
    s.poll().await;
    assert_eq!(s.items("?tag=watched").await.len(), 1);
    assert_eq!(s.items("?tag=nested").await.len(), 0);
}

#[actix_web::test]
async fn people_triage_items_one_by_one_and_in_bulk() {
    let s = setup().await;
    let analyst = s
        .app
        .add_member(&s.owner, &s.ws, "analyst@example.com", "analyst")
        .await;
    for i in 0..4 {
        s.platform
            .mention(&format!("user{i}"), &format!("question number {i}"));
    }
    s.poll().await;
    let items = s.items("").await;
    let first = items[0]["id"].as_str().unwrap();
    let item_path = s.path(&format!("inbox/items/{first}"));

    let changed = s
        .app
        .call(
            s.app
                .patch(
                    &item_path,
                    &s.owner.access,
                    &json!({"status": "pending", "priority": "high", "tags": ["Shipping", "vip"], "assignee_id": s.owner.user_id, "reason": "waiting for the warehouse"}),
                )
                .header("If-Match", "\"v1\""),
            StatusCode::OK,
        )
        .await;
    assert_eq!(changed["status"], "pending");
    assert_eq!(changed["tags"], json!(["shipping", "vip"]));
    assert_eq!(changed["assignee_id"], s.owner.user_id.as_str());
    let stale = s
        .app
        .patch(&item_path, &s.owner.access, &json!({"status": "open"}))
        .header("If-Match", "\"v1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let log = s.log(first).await;
    for action in ["status.set", "priority.set", "tags.set", "assignee.set"] {
        assert!(log.contains(&action.to_owned()), "{action}: {log:?}");
    }

    // An analyst reads but does not triage; a stranger's assignee is refused.
    expect_problem(
        s.app
            .patch(&item_path, &analyst.access, &json!({"status": "resolved"}))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "missing_permission",
    )
    .await;
    let stranger = uuid_like();
    let refused = s
        .app
        .patch(
            &item_path,
            &s.owner.access,
            &json!({"assignee_id": stranger}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_filter = s
        .app
        .get(&s.path("inbox/items?status=closed"), &s.owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_filter.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown_filter = s
        .app
        .get(&s.path("inbox/items?colour=red"), &s.owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_filter.status(), StatusCode::BAD_REQUEST);

    // Overdue: unanswered past the due time, and not resolved, spam or hidden.
    let ws = s.ws.clone();
    s.app
        .state
        .db
        .write(move |conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query(format!(
                "UPDATE inbox_items SET first_response_due_at = '2026-01-01 00:00:00' WHERE workspace_id = '{ws}'"
            ))
            .execute(conn)
            .map_err(plaza_api::db::DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(s.items("?overdue=true").await.len(), 4);
    assert_eq!(s.items("").await[0]["sla"]["overdue"], true);

    // Bulk: resolve three, one id unknown.
    let ids: Vec<&str> = items
        .iter()
        .skip(1)
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let unknown = uuid_like();
    let mut with_unknown: Vec<&str> = ids.clone();
    with_unknown.push(&unknown);
    let bulk = s
        .app
        .call(
            s.app.post(
                &s.path("inbox/bulk-updates"),
                &s.owner.access,
                &json!({"item_ids": with_unknown, "status": "resolved", "add_tags": ["handled"]}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(bulk["updated"].as_array().unwrap().len(), 3, "{bulk}");
    assert_eq!(bulk["not_found"], json!([unknown]));
    let resolved = s.items("?status=resolved&tag=handled").await;
    assert_eq!(resolved.len(), 3);
    assert_eq!(
        s.items("?overdue=true").await.len(),
        1,
        "resolved items are not overdue"
    );
    assert!(resolved.iter().all(|i| i["sla"]["resolved_at"].is_string()));

    // Another workspace's ids answer 404.
    let other = s.app.signup("other@example.com").await;
    let other_ws = s.app.create_workspace(&other, "Other").await;
    let cross = s
        .app
        .get(
            &format!("/v1/workspaces/{other_ws}/inbox/items/{first}"),
            &other.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::NOT_FOUND);
    let bulk_cross = s
        .app
        .call(
            s.app.post(
                &format!("/v1/workspaces/{other_ws}/inbox/bulk-updates"),
                &other.access,
                &json!({"item_ids": [first], "status": "spam"}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(bulk_cross["updated"], json!([]));
}

fn uuid_like() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[actix_web::test]
async fn replies_wait_for_approval_when_the_workspace_asks_and_saved_replies_fill_variables() {
    let s = setup().await;
    let cm = s
        .app
        .add_member(&s.owner, &s.ws, "cm@example.com", "community_manager")
        .await;
    let settings = s
        .app
        .call(
            s.app
                .request(reqwest::Method::PUT, &s.path("inbox/settings"))
                .bearer_auth(&s.owner.access)
                .json(&json!({"reply_approval_roles": ["community_manager"]})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        settings["reply_approval_roles"],
        json!(["community_manager"])
    );
    let saved = s
        .app
        .call(
            s.app.post(
                &s.path("saved-replies"),
                &s.owner.access,
                &json!({"name": "Thanks", "text": "Thanks {{author.first_name}} for writing to {{channel.name}}!"}),
            ),
            StatusCode::CREATED,
        )
        .await;
    let refused = s
        .app
        .post(
            &s.path("saved-replies"),
            &s.owner.access,
            &json!({"name": "Bad", "text": "Hi {{author.email}}"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    s.platform.mention("Rita Reads", "love it");
    s.poll().await;
    let item = s.items("").await[0]["id"].as_str().unwrap().to_owned();
    let replies = s.path(&format!("inbox/items/{item}/replies"));
    let reply = s
        .app
        .call(
            s.app.post(
                &replies,
                &cm.access,
                &json!({"saved_reply_id": saved["id"]}),
            ),
            StatusCode::ACCEPTED,
        )
        .await;
    assert_eq!(reply["status"], "awaiting_approval");
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .starts_with("Thanks Rita for writing to"),
        "{reply}"
    );
    run_due(&s.app.state, "w1", Utc::now().naive_utc())
        .await
        .unwrap();
    assert!(
        s.platform.state.lock().unwrap().posts.is_empty(),
        "nothing goes out unapproved"
    );

    let review = format!("{replies}/{}/review", reply["id"].as_str().unwrap());
    // The author cannot approve (a community manager lacks posts:approve).
    let own = s
        .app
        .post(&review, &cm.access, &json!({"approve": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    let approved = s
        .app
        .call(
            s.app
                .post(&review, &s.owner.access, &json!({"approve": true})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(approved["status"], "queued");
    let again = s
        .app
        .post(&review, &s.owner.access, &json!({"approve": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    run_due(&s.app.state, "w1", Utc::now().naive_utc())
        .await
        .unwrap();
    assert_eq!(s.platform.state.lock().unwrap().posts.len(), 1);

    // An automatic reply from a rule goes out without approval and names
    // the rule in the log.
    s.rule(json!({
        "name": "Thank fans",
        "definition": {"when": {"type": "sentiment_above", "score": 0.5},
                       "actions": [{"type": "auto_reply", "saved_reply_id": saved["id"]}]}
    }))
    .await;
    s.platform
        .mention("Sam Fan", "This is wonderful, I love it, amazing work!");
    s.poll().await;
    run_due(&s.app.state, "w1", Utc::now().naive_utc())
        .await
        .unwrap();
    let posts = s.platform.state.lock().unwrap().posts.clone();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(
        posts[1]["text"].as_str().unwrap().starts_with("Thanks Sam"),
        "{posts:?}"
    );
}

#[actix_web::test]
async fn contacts_gather_identities_and_can_be_merged_and_split() {
    let s = setup().await;
    s.platform
        .mention_with("ana", "hello from ana", &json!({"followers_count": 5000}));
    s.platform.mention("ana_alt", "hello again, it's ana");
    s.platform.mention_with(
        "ana",
        "I love this brand, great service",
        &json!({"followers_count": 5000}),
    );
    s.poll().await;
    let contacts = s
        .app
        .call(
            s.app.get(&s.path("contacts"), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    let contacts = contacts["data"].as_array().unwrap().clone();
    assert_eq!(contacts.len(), 2, "{contacts:?}");
    let ana = contacts.iter().find(|c| c["name"] == "ana").unwrap();
    let alt = contacts.iter().find(|c| c["name"] == "ana_alt").unwrap();
    assert_eq!(ana["interactions"], 2);
    assert_eq!(ana["followers"], 5000);

    let ana_path = s.path(&format!("contacts/{}", ana["id"].as_str().unwrap()));
    let one = s
        .app
        .call(s.app.get(&ana_path, &s.owner.access), StatusCode::OK)
        .await;
    assert!(one["advocacy"]["score"].as_f64().unwrap() > 0.0, "{one}");

    let merged = s
        .app
        .call(
            s.app.post(
                &format!("{ana_path}/merge"),
                &s.owner.access,
                &json!({"contact_id": alt["id"]}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        merged["identities"].as_array().unwrap().len(),
        2,
        "{merged}"
    );
    assert_eq!(merged["interactions"], 3);
    assert_eq!(
        s.items(&format!("?contact_id={}", ana["id"].as_str().unwrap()))
            .await
            .len(),
        3
    );
    let gone = s
        .app
        .get(
            &s.path(&format!("contacts/{}", alt["id"].as_str().unwrap())),
            &s.owner.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    let alt_identity = merged["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["handle"] == "ana_alt")
        .unwrap()["id"]
        .clone();
    let split = s
        .app
        .call(
            s.app.post(
                &format!("{ana_path}/split"),
                &s.owner.access,
                &json!({"identity_id": alt_identity}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(split["interactions"], 1, "{split}");
    assert_eq!(
        s.items(&format!("?contact_id={}", ana["id"].as_str().unwrap()))
            .await
            .len(),
        2
    );

    // Advocates and lists are what rules test for.
    let marked = s
        .app
        .call(
            s.app.patch(
                &ana_path,
                &s.owner.access,
                &json!({"advocate": true, "lists": ["Ambassadors"]}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(marked["lists"], json!(["ambassadors"]));
    s.rule(json!({
        "name": "Advocates first",
        "definition": {"when": {"type": "author_is_advocate"},
                       "actions": [{"type": "tag", "tag": "advocate"}, {"type": "set_priority", "priority": "high"}]}
    }))
    .await;
    s.platform.mention("ana", "new drop looks good");
    s.poll().await;
    let tagged = s.items("?tag=advocate").await;
    assert_eq!(tagged.len(), 1);
    let ranked = s
        .app
        .call(
            s.app.get(
                &s.path("contacts?order=advocacy&advocates=true"),
                &s.owner.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(ranked["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_spike_of_negative_items_raises_one_alert_with_its_items() {
    use plaza_api::domain::ids::ChannelId;
    use plaza_api::inbox::ingest::{ChannelRef, IncomingItem, Source, analyse, settings, store};
    use plaza_api::inbox::spikes::{detect_in, hour_of};

    let s = setup().await;
    let (ws, channel) = (s.ws.clone(), s.channel.clone());
    let scorer = std::sync::Arc::clone(&s.app.state.inbox.scorer);
    let engine = std::sync::Arc::clone(&s.app.state.inbox);
    let now = Utc::now().naive_utc();
    let spike_hour = hour_of(now) - Duration::hours(1);
    let alerts = s
        .app
        .state
        .db
        .write(move |conn| {
            let channel_id: ChannelId = channel.parse().unwrap();
            let rules = engine.rules(conn, &ws)?;
            let settings = settings(conn, &ws)?;
            let mut n = 0;
            // Two days of a quiet baseline: one or two complaints an hour.
            for hours_ago in (2..50).rev() {
                let at = spike_hour - Duration::hours(hours_ago - 1);
                let count = 1 + (hours_ago % 2);
                let batch: Vec<IncomingItem> = (0..count)
                    .map(|_| {
                        n += 1;
                        complaint(n, at)
                    })
                    .collect();
                let analysed = analyse(scorer.as_ref(), batch);
                let channel = ChannelRef {
                    workspace_id: &ws,
                    id: channel_id,
                    platform: "template",
                };
                store(conn, channel, &settings, &rules, Source::Poll, analysed, at)?;
            }
            let quiet = detect_in(conn, &ws, spike_hour - Duration::hours(1))?;
            // Then forty in one hour.
            let batch: Vec<IncomingItem> = (0..40)
                .map(|_| {
                    n += 1;
                    complaint(n, spike_hour + Duration::minutes(10))
                })
                .collect();
            let analysed = analyse(scorer.as_ref(), batch);
            let channel = ChannelRef {
                workspace_id: &ws,
                id: channel_id,
                platform: "template",
            };
            store(
                conn,
                channel,
                &settings,
                &rules,
                Source::Poll,
                analysed,
                spike_hour + Duration::minutes(10),
            )?;
            let spike = detect_in(conn, &ws, spike_hour)?;
            let again = detect_in(conn, &ws, spike_hour)?;
            Ok::<_, plaza_api::db::DbError>((quiet, spike, again))
        })
        .await
        .unwrap();
    assert!(alerts.0.is_none(), "a quiet hour raises nothing");
    let spike = alerts.1.expect("a spike");
    assert_eq!(spike.observed, 40);
    assert!(alerts.2.is_none(), "one alert per hour");

    let listed = s
        .app
        .call(
            s.app.get(&s.path("inbox/alerts"), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    let alert = &listed["data"][0];
    assert_eq!(alert["observed"], 40);
    assert_eq!(alert["item_ids"].as_array().unwrap().len(), 40);
    assert!(alert["z_score"].as_f64().unwrap() > 3.0, "{alert}");
    assert!(
        s.event_types()
            .await
            .contains(&"inbox.spike_detected".to_owned())
    );
}

fn complaint(n: u32, at: chrono::NaiveDateTime) -> plaza_api::inbox::ingest::IncomingItem {
    plaza_api::inbox::ingest::IncomingItem {
        remote_id: format!("c{n}"),
        kind: plaza_api::domain::inbox::ItemKind::Mention,
        thread_id: None,
        parent_id: None,
        post_id: None,
        author: plaza_api::inbox::ingest::IncomingAuthor {
            remote_id: format!("u{}", n % 7),
            handle: format!("angry{}", n % 7),
            display_name: None,
            followers: Some(10),
        },
        text: "This is terrible, awful service, I hate it".to_owned(),
        lang: Some("en".to_owned()),
        created_at: at,
        url: None,
        listening_query_id: None,
    }
}

#[actix_web::test]
async fn an_item_repeated_in_a_batch_or_stored_meanwhile_is_kept_once() {
    use diesel::prelude::*;
    use plaza_api::db::inbox::InboxItemRow;
    use plaza_api::db::schema::inbox_items;
    use plaza_api::domain::inbox::ItemKind;
    use plaza_api::inbox::ingest::{IncomingAuthor, IncomingItem, Source, take_in};

    let s = setup().await;
    let (ws, channel_id) = (s.ws.clone(), s.channel.clone());
    let channel = s
        .app
        .state
        .db
        .read(move |conn| {
            Ok::<_, plaza_api::error::ApiError>(
                plaza_api::db::channels::ChannelRow::find(conn, &ws, &channel_id)?.unwrap(),
            )
        })
        .await
        .unwrap();
    let now = plaza_api::db::now();
    let item = |remote: &str, text: &str| IncomingItem {
        remote_id: remote.to_owned(),
        kind: ItemKind::Mention,
        thread_id: None,
        parent_id: None,
        post_id: None,
        author: IncomingAuthor {
            remote_id: "u1".to_owned(),
            handle: "ana".to_owned(),
            display_name: None,
            followers: None,
        },
        text: text.to_owned(),
        lang: None,
        created_at: now,
        url: None,
        listening_query_id: None,
    };
    let batch = vec![
        item("m1", "first"),
        item("m2", "second"),
        item("m1", "first, delivered again"),
    ];
    let outcome = take_in(&s.app.state, &channel, Source::Webhook, batch, None)
        .await
        .unwrap();
    // The repeat is dropped before anything is stored.
    assert_eq!(outcome.created.len(), 2, "{outcome:?}");
    assert_eq!(s.items("").await.len(), 2);

    // A writer that did not look first (the bulk path on PostgreSQL copies
    // the rows, which cannot skip a clash): the clashing row is skipped,
    // the others stored, and the transaction goes on.
    let stored = s
        .app
        .state
        .db
        .write(move |conn| {
            let mut clash: InboxItemRow = inbox_items::table
                .filter(inbox_items::remote_id.eq("m1"))
                .select(InboxItemRow::as_select())
                .first(conn)?;
            clash.id = uuid::Uuid::now_v7().to_string();
            let mut other = clash.clone();
            other.id = uuid::Uuid::now_v7().to_string();
            other.remote_id = "m3".to_owned();
            let stored = InboxItemRow::insert_new(conn, &[clash, other.clone()])?;
            assert_eq!(stored, vec![other.id]);
            Ok::<_, plaza_api::error::ApiError>(stored)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(s.items("").await.len(), 3);
}
