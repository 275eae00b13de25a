//! Metrics end to end: a post published through the real `template` plugin
//! to a local fake platform, its counts and the account's followers read
//! back through the plugin on the collection schedule, and reports over
//! the stored series (JSON, CSV, SVG) by channel, post, campaign and tag.

use chrono::{Duration, NaiveDateTime, Utc};
use plaza_api::db::metrics::{ACCOUNT, Reading, record};
use plaza_api::worker::run_due;
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::{PLUGINS_DIR, Session, TestApp, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

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

    async fn draft(&self, body: Value) -> String {
        let post = self
            .app
            .call(
                self.app
                    .post(&self.path("posts"), &self.owner.access, &body),
                StatusCode::CREATED,
            )
            .await;
        post["id"].as_str().unwrap().to_owned()
    }

    /// A "Spring launch" campaign with post `a` in it (tagged launch and
    /// coffee) and post `b` out of it (tagged coffee): their ids.
    async fn spring_launch(&self) -> (String, String, String) {
        let campaign = self
            .app
            .call(
                self.app.post(
                    &self.path("campaigns"),
                    &self.owner.access,
                    &json!({
                        "name": "Spring launch",
                        "starts_on": today().to_string(),
                        "ends_on": (today() + Duration::days(30)).to_string(),
                    }),
                ),
                StatusCode::CREATED,
            )
            .await;
        let campaign = campaign["id"].as_str().unwrap().to_owned();
        let a = self
            .draft(json!({
                "body": "Spring is here",
                "tags": ["launch", "coffee"],
                "campaign_id": campaign,
                "variants": [{"channel_id": self.channel}]
            }))
            .await;
        let b = self
            .draft(json!({"body": "Beans of the week", "tags": ["coffee"], "variants": [{"channel_id": self.channel}]}))
            .await;
        (campaign, a, b)
    }

    /// Drafts, submits, schedules and publishes a post; answers Plaza's id
    /// and the platform's.
    async fn publish(&self, text: &str) -> (String, String) {
        let post = self
            .draft(json!({"body": text, "variants": [{"channel_id": self.channel}]}))
            .await;
        let posts = self.path("posts");
        self.app
            .call(
                self.app.post(
                    &format!("{posts}/{post}/submit"),
                    &self.owner.access,
                    &json!({}),
                ),
                StatusCode::OK,
            )
            .await;
        let at = Utc::now() + Duration::minutes(5);
        self.app
            .call(
                self.app.post(
                    &format!("{posts}/{post}/schedule"),
                    &self.owner.access,
                    &json!({"scheduled_at": at.to_rfc3339()}),
                ),
                StatusCode::OK,
            )
            .await;
        let later = (at + Duration::minutes(1)).naive_utc();
        assert_eq!(run_due(&self.app.state, "w1", later).await.unwrap(), 1);
        let remote = {
            let state = self.platform.state.lock().unwrap();
            state
                .by_key
                .values()
                .find(|created| created["text"] == text)
                .and_then(|created| created["id"].as_str())
                .expect("published on the platform")
                .to_owned()
        };
        (post, remote)
    }

    async fn collect(&self) -> Value {
        self.app
            .call(
                self.app.post(
                    &self.path(&format!("channels/{}/metrics/collect", self.channel)),
                    &self.owner.access,
                    &json!({}),
                ),
                StatusCode::OK,
            )
            .await
    }

    async fn post_numbers(&self, post: &str) -> Value {
        self.app
            .call(
                self.app.get(
                    &self.path(&format!("posts/{post}/metrics")),
                    &self.owner.access,
                ),
                StatusCode::OK,
            )
            .await
    }

    async fn collections(&self) -> Value {
        self.app
            .call(
                self.app
                    .get(&self.path("metrics/collection"), &self.owner.access),
                StatusCode::OK,
            )
            .await
    }

    async fn report(&self, query: &str) -> Value {
        self.app
            .call(
                self.app.get(
                    &self.path(&format!("metrics/report?{query}")),
                    &self.owner.access,
                ),
                StatusCode::OK,
            )
            .await
    }

    /// Stores readings as if collected at `at`.
    async fn record(&self, at: &str, readings: Vec<Reading>) {
        let at = NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M").unwrap();
        let (ws, channel) = (self.ws.clone(), self.channel.clone());
        self.app
            .state
            .db
            .write(move |conn| {
                record(conn, &ws, &channel, &readings, at).map_err(plaza_api::error::ApiError::from)
            })
            .await
            .unwrap();
    }
}

fn likes(subject: &str, post: &str, value: f64) -> Reading {
    reading(subject, Some(post), "likes", value)
}

fn reading(subject: &str, post: Option<&str>, metric: &str, value: f64) -> Reading {
    Reading {
        subject: subject.to_owned(),
        post_id: post.map(str::to_owned),
        metric: metric.to_owned(),
        value,
    }
}

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

fn range(from_days: i64, to_days: i64) -> String {
    let day = |offset: i64| (today() + Duration::days(offset)).to_string();
    format!(
        "from={}T00:00:00Z&to={}T00:00:00Z",
        day(from_days),
        day(to_days)
    )
}

fn values(group: &Value) -> Vec<f64> {
    group["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_published_post_and_the_account_are_read_through_the_plugin_and_reported() {
    let s = setup().await;
    let (post, remote) = s.publish("Spring roast is in").await;
    s.platform.set_stats(
        &remote,
        json!({"likes": 5, "shares": 1, "comments": 2, "views": 100}),
    );
    s.platform.set_followers(1250);

    let read = s.collect().await;
    assert_eq!(read["account_read"], true, "{read}");
    assert_eq!(read["posts_read"], 1, "{read}");
    assert_eq!(
        read["values_stored"], 5,
        "four post counts and followers: {read}"
    );
    assert_eq!(read["values_dropped"], 0);
    assert!(read["error"].is_null());

    let numbers = s.post_numbers(&post).await;
    assert_eq!(
        numbers["totals"],
        json!({"likes": 5.0, "reposts": 1.0, "replies": 2.0, "impressions": 100.0})
    );
    assert_eq!(numbers["channels"][0]["channel_id"], s.channel.as_str());

    // Three more likes: the next read stores the new count and its gain.
    s.platform.set_stats(
        &remote,
        json!({"likes": 8, "shares": 1, "comments": 2, "views": 160}),
    );
    let again = s.collect().await;
    assert_eq!(again["values_stored"], 5, "{again}");
    let numbers = s.post_numbers(&post).await;
    assert_eq!(numbers["totals"]["likes"], 8.0);

    let week = range(-6, 1);
    let change = s.report(&format!("metric=likes&{week}")).await;
    assert_eq!(change["buckets"].as_array().unwrap().len(), 7);
    assert_eq!(change["overall"]["total"], 8.0, "{change}");
    assert_eq!(values(&change["overall"])[6], 8.0, "all of it today");
    assert_eq!(change["overall"]["previous_total"], 0.0);
    assert!(change["overall"]["change"].is_null(), "nothing before");

    let total = s
        .report(&format!("metric=followers&measure=total&{week}"))
        .await;
    assert_eq!(total["overall"]["total"], 1250.0, "{total}");

    let engagements = s
        .report(&format!("metric=engagements&group_by=post&{week}"))
        .await;
    assert_eq!(
        engagements["overall"]["total"], 11.0,
        "likes + reposts + replies: {engagements}"
    );
    assert_eq!(engagements["groups"][0]["key"], post.as_str());
    assert_eq!(engagements["groups"][0]["label"], "Spring roast is in");

    let by_channel = s
        .report(&format!("metric=impressions&group_by=channel&{week}"))
        .await;
    assert_eq!(by_channel["groups"][0]["key"], s.channel.as_str());
    assert_eq!(by_channel["groups"][0]["total"], 160.0);

    let collections = s.collections().await;
    assert_eq!(collections[0]["channel_id"], s.channel.as_str());
    assert_eq!(collections[0]["health"], "ok");
    assert_eq!(collections[0]["failures"], 0);
    assert!(collections[0]["account_collected_at"].is_string());
}

#[actix_web::test]
async fn the_worker_collects_on_the_decaying_schedule() {
    let s = setup().await;
    let (post, remote) = s.publish("Open mic tonight").await;
    s.platform.set_stats(&remote, json!({"likes": 2}));
    let now = plaza_api::db::now();
    let enqueue = |at: NaiveDateTime| {
        let db = s.app.state.db.clone();
        async move {
            db.write(move |conn| {
                plaza_api::metrics::collection::enqueue_due(conn, at, 600)
                    .map_err(plaza_api::error::ApiError::from)
            })
            .await
            .unwrap();
        }
    };
    enqueue(now).await;
    assert_eq!(run_due(&s.app.state, "w1", now).await.unwrap(), 1);
    let numbers = s.post_numbers(&post).await;
    assert_eq!(numbers["totals"]["likes"], 2.0, "{numbers}");
    assert_eq!(numbers["totals"]["reposts"], 0.0);

    // Looked at a minute ago: no new job yet.
    enqueue(now + Duration::minutes(1)).await;
    assert_eq!(
        run_due(&s.app.state, "w1", now + Duration::minutes(1))
            .await
            .unwrap(),
        0
    );
    // Eleven minutes on, the channel is looked at again, but the post (read
    // less than half an hour ago) and the account (read today) are not due:
    // nothing new is stored.
    s.platform.set_stats(&remote, json!({"likes": 9}));
    let later = now + Duration::minutes(11);
    enqueue(later).await;
    assert_eq!(run_due(&s.app.state, "w1", later).await.unwrap(), 1);
    let numbers = s.post_numbers(&post).await;
    assert_eq!(numbers["totals"]["likes"], 2.0, "not due yet: {numbers}");
}

#[actix_web::test]
async fn a_failing_collection_is_visible_on_its_channel_and_keeps_what_was_read() {
    let s = setup().await;
    let (post, remote) = s.publish("Doors at eight").await;
    s.platform.set_stats(&remote, json!({"likes": 3}));
    s.collect().await;

    s.platform.state.lock().unwrap().stats_answers = vec![500];
    s.platform.set_stats(&remote, json!({"likes": 4}));
    let failed = s.collect().await;
    assert!(
        failed["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{failed}"
    );
    assert_eq!(failed["posts_read"], 0);
    let collections = s.collections().await;
    assert_eq!(collections[0]["health"], "failing", "{collections}");
    assert_eq!(collections[0]["failures"], 1);
    assert!(
        collections[0]["succeeded_at"].is_string(),
        "the first read worked"
    );
    let numbers = s.post_numbers(&post).await;
    assert_eq!(numbers["totals"]["likes"], 3.0, "kept: {numbers}");

    let recovered = s.collect().await;
    assert!(recovered["error"].is_null(), "{recovered}");
    let collections = s.collections().await;
    assert_eq!(collections[0]["health"], "ok");
    assert_eq!(collections[0]["failures"], 0);
}

#[actix_web::test]
async fn gains_add_up_to_changes_and_totals_at_every_granularity() {
    let s = setup().await;
    let post = s
        .draft(json!({"body": "Latte art class", "variants": [{"channel_id": s.channel}]}))
        .await;
    let day = |offset: i64| (today() + Duration::days(offset)).to_string();
    // Likes over three days: 5, then 8 the same afternoon, one taken back
    // the next morning (7), then 12; followers 100 → 90 → 120.
    s.record(
        &format!("{} 10:00", day(-3)),
        vec![
            likes("t1", &post, 5.0),
            reading(ACCOUNT, None, "followers", 100.0),
        ],
    )
    .await;
    s.record(&format!("{} 15:30", day(-3)), vec![likes("t1", &post, 8.0)])
        .await;
    s.record(
        &format!("{} 09:00", day(-2)),
        vec![
            likes("t1", &post, 7.0),
            reading(ACCOUNT, None, "followers", 90.0),
        ],
    )
    .await;
    s.record(
        &format!("{} 12:00", day(-1)),
        vec![
            likes("t1", &post, 12.0),
            reading(ACCOUNT, None, "followers", 120.0),
        ],
    )
    .await;
    // A reading no newer than the last is dropped, not counted twice.
    s.record(
        &format!("{} 12:00", day(-1)),
        vec![likes("t1", &post, 50.0)],
    )
    .await;

    let days = range(-3, 0);
    let change = s.report(&format!("metric=likes&{days}")).await;
    assert_eq!(values(&change["overall"]), [8.0, -1.0, 5.0], "{change}");
    assert_eq!(change["overall"]["total"], 12.0);
    let total = s
        .report(&format!("metric=likes&measure=total&{days}"))
        .await;
    assert_eq!(values(&total["overall"]), [8.0, 7.0, 12.0], "{total}");
    assert_eq!(total["overall"]["total"], 12.0);
    assert_eq!(total["overall"]["previous_total"], 0.0);

    // From the second day on: the total starts from what was there.
    let later = s
        .report(&format!("metric=followers&measure=total&{}", range(-2, 0)))
        .await;
    assert_eq!(values(&later["overall"]), [90.0, 120.0], "{later}");
    assert_eq!(later["overall"]["previous_total"], 100.0);
    assert_eq!(later["overall"]["change"], 0.2);
    let gained = s
        .report(&format!("metric=followers&{}", range(-2, 0)))
        .await;
    assert_eq!(values(&gained["overall"]), [-10.0, 30.0], "{gained}");
    assert_eq!(gained["overall"]["previous_total"], 100.0, "the day before");

    // Hours of the first day: 5 at ten, 3 more at half past three.
    let hours = s
        .report(&format!(
            "metric=likes&granularity=hour&from={}T09:00:00Z&to={}T17:00:00Z",
            day(-3),
            day(-3)
        ))
        .await;
    let by_hour = values(&hours["overall"]);
    assert_eq!(by_hour.len(), 8);
    assert_eq!(by_hour[1], 5.0, "{hours}");
    assert_eq!(by_hour[6], 3.0, "{hours}");
    assert_eq!(by_hour.iter().sum::<f64>(), 8.0);

    let months = s
        .report(&format!("metric=likes&granularity=month&{}", range(-3, 0)))
        .await;
    assert_eq!(months["overall"]["total"], 12.0, "{months}");
    assert_eq!(
        values(&months["overall"]).iter().sum::<f64>(),
        12.0,
        "months hold every day"
    );
    // Weeks and months are read from their own roll-ups: the weeks'
    // changes add up to the same (the three days may span two weeks), and
    // the last week ends at the total.
    let weeks = s
        .report(&format!("metric=likes&granularity=week&{}", range(-20, 0)))
        .await;
    assert!(weeks["buckets"].as_array().unwrap().len() >= 3, "{weeks}");
    assert_eq!(values(&weeks["overall"]).iter().sum::<f64>(), 12.0);
    let weekly_totals = s
        .report(&format!(
            "metric=likes&measure=total&granularity=week&{}",
            range(-20, 0)
        ))
        .await;
    assert_eq!(
        values(&weekly_totals["overall"]).last(),
        Some(&12.0),
        "{weekly_totals}"
    );
    // A period that ends before the last readings: its total is what there
    // was then, not the latest value.
    let first_day = s
        .report(&format!("metric=followers&measure=total&{}", range(-3, -2)))
        .await;
    assert_eq!(values(&first_day["overall"]), [100.0], "{first_day}");
    assert_eq!(first_day["overall"]["total"], 100.0);

    let csv = s
        .app
        .get(
            &s.path(&format!("metrics/report.csv?metric=likes&{days}")),
            &s.owner.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "bucket,group_key,group_label,value");
    assert_eq!(lines[1], format!("{}T00:00:00Z,,All,8", day(-3)));
    assert_eq!(lines[2], format!("{}T00:00:00Z,,All,-1", day(-2)));
    assert_eq!(lines.len(), 4);

    for chart in ["line", "bar"] {
        let svg = s
            .app
            .get(
                &s.path(&format!(
                    "metrics/report.svg?metric=likes&chart={chart}&group_by=post&{days}"
                )),
                &s.owner.access,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(svg.status(), StatusCode::OK);
        assert_eq!(svg.headers()["content-type"], "image/svg+xml");
        let svg = svg.text().await.unwrap();
        assert!(svg.starts_with("<svg"), "{chart}: {svg}");
        assert!(svg.contains("Latte art class"), "{chart}: the post's label");
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}

#[actix_web::test]
async fn reports_split_by_campaign_and_tag_and_narrow_to_them() {
    let s = setup().await;
    let (campaign, a, b) = s.spring_launch().await;
    let c = s
        .draft(json!({"body": "Plain", "variants": [{"channel_id": s.channel}]}))
        .await;
    let yesterday = (today() - Duration::days(1)).to_string();
    s.record(
        &format!("{yesterday} 10:00"),
        vec![
            likes("ta", &a, 10.0),
            likes("tb", &b, 4.0),
            likes("tc", &c, 1.0),
            reading(ACCOUNT, None, "likes", 100.0),
        ],
    )
    .await;
    let days = range(-1, 0);

    let by_tag = s.report(&format!("metric=likes&group_by=tag&{days}")).await;
    let tags: Vec<(String, f64)> = by_tag["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["label"].as_str().unwrap().to_owned(),
                g["total"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tags,
        [
            ("Untagged".to_owned(), 101.0),
            ("coffee".to_owned(), 14.0),
            ("launch".to_owned(), 10.0)
        ],
        "{by_tag}"
    );
    assert_eq!(
        by_tag["overall"]["total"], 115.0,
        "a post with two tags counts once in the whole"
    );

    let by_campaign = s
        .report(&format!("metric=likes&group_by=campaign&{days}"))
        .await;
    assert_eq!(by_campaign["groups"][0]["label"], "No campaign");
    assert_eq!(by_campaign["groups"][0]["total"], 105.0);
    assert_eq!(by_campaign["groups"][1]["key"], campaign.as_str());
    assert_eq!(by_campaign["groups"][1]["label"], "Spring launch");
    assert_eq!(by_campaign["groups"][1]["total"], 10.0);

    for (filter, expected) in [
        ("tag=coffee".to_owned(), 14.0),
        ("tag=launch".to_owned(), 10.0),
        ("tag=nothing".to_owned(), 0.0),
        (format!("campaign_id={campaign}"), 10.0),
        (format!("post_id={b}"), 4.0),
        (format!("channel_ids={}", s.channel), 115.0),
        (
            "channel_ids=019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f".to_owned(),
            0.0,
        ),
    ] {
        let narrowed = s.report(&format!("metric=likes&{filter}&{days}")).await;
        assert_eq!(
            narrowed["overall"]["total"], expected,
            "{filter}: {narrowed}"
        );
    }

    let top = s
        .report(&format!("metric=likes&group_by=post&limit=2&{days}"))
        .await;
    assert_eq!(top["groups"].as_array().unwrap().len(), 2);
    assert_eq!(top["omitted_groups"], 2);
    assert_eq!(top["groups"][0]["label"], "The accounts themselves");
    assert_eq!(top["groups"][1]["key"], a.as_str());
}

/// Each group's total in a report, by label, largest first.
fn totals(report: &Value) -> Vec<(String, f64)> {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["label"].as_str().unwrap().to_owned(),
                g["total"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, f64)]) -> Vec<(String, f64)> {
    expected.iter().map(|&(l, t)| (l.to_owned(), t)).collect()
}

#[actix_web::test]
async fn reports_by_campaign_and_tag_follow_posts_that_are_retagged_or_deleted() {
    let s = setup().await;
    let (campaign, a, b) = s.spring_launch().await;
    let day = |offset: i64| (today() + Duration::days(offset)).to_string();
    s.record(
        &format!("{} 10:00", day(-3)),
        vec![likes("ta", &a, 10.0), likes("tb", &b, 4.0)],
    )
    .await;
    s.record(
        &format!("{} 09:00", day(-1)),
        vec![likes("ta", &a, 12.0), likes("tb", &b, 7.0)],
    )
    .await;
    let days = range(-3, 0);
    let by = |group: &str, measure: &str| {
        format!("metric=likes&group_by={group}&measure={measure}&granularity=day&{days}")
    };
    let check = async |group: &str, expected: &[(&str, f64)], whole: f64| {
        // Every post is read before the period ends: the change over the
        // period is also the total at its end.
        for measure in ["change", "total"] {
            let report = s.report(&by(group, measure)).await;
            assert_eq!(
                totals(&report),
                pairs(expected),
                "{group} {measure}: {report}"
            );
            assert_eq!(report["overall"]["total"], whole, "{report}");
        }
        // Narrowed to one group, the report reads the posts one by one:
        // the same numbers either way.
        for (label, total) in expected {
            let filter = match (group, *label) {
                ("tag", "Untagged") | ("campaign", "No campaign") => continue,
                ("tag", tag) => format!("tag={tag}"),
                (_, _) => format!("campaign_id={campaign}"),
            };
            let narrowed = s.report(&format!("{}&{filter}", by(group, "change"))).await;
            let narrowed = totals(&narrowed);
            let found = narrowed.iter().find(|(l, _)| l == label);
            assert_eq!(found.map(|g| g.1), Some(*total), "{filter}: {narrowed:?}");
        }
    };
    check("tag", &[("coffee", 19.0), ("launch", 12.0)], 19.0).await;
    check(
        "campaign",
        &[("Spring launch", 12.0), ("No campaign", 7.0)],
        19.0,
    )
    .await;

    // b moves to the campaign and from coffee to tea: its history with it.
    s.app
        .call(
            s.app.patch(
                &s.path(&format!("posts/{b}")),
                &s.owner.access,
                &json!({"tags": ["tea"], "campaign_id": campaign}),
            ),
            StatusCode::OK,
        )
        .await;
    check(
        "tag",
        &[("coffee", 12.0), ("launch", 12.0), ("tea", 7.0)],
        19.0,
    )
    .await;
    check("campaign", &[("Spring launch", 19.0)], 19.0).await;

    // The campaign goes: its posts have none now.
    let deleted = s
        .app
        .delete(&s.path(&format!("campaigns/{campaign}")), &s.owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    check("campaign", &[("No campaign", 19.0)], 19.0).await;

    // a goes: its numbers stay, untagged.
    let deleted = s
        .app
        .delete(&s.path(&format!("posts/{a}")), &s.owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    check("tag", &[("Untagged", 12.0), ("tea", 7.0)], 19.0).await;

    // New samples land in the groups the posts are in now.
    s.record(&format!("{} 20:00", day(-1)), vec![likes("tb", &b, 9.0)])
        .await;
    check("tag", &[("Untagged", 12.0), ("tea", 9.0)], 21.0).await;
}

#[actix_web::test]
async fn bad_questions_get_problems_and_roles_and_workspaces_are_respected() {
    let s = setup().await;
    let days = range(-1, 0);
    for (query, status, code) in [
        (
            days.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            format!("metric=fans&{days}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            format!("metric=likes&from={}T00:00:00Z", today()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            format!("metric=likes&{}", range(0, -1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            format!("metric=likes&granularity=hour&{}", range(-400, 0)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            format!("metric=likes&limit=0&{days}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            format!("metric=likes&channel_ids=nope&{days}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            format!("metric=likes&granularity=fortnight&{days}"),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            format!("metric=likes&colour=red&{days}"),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "metric=likes&from=yesterday&to=today".to_owned(),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
    ] {
        let response = s
            .app
            .get(&s.path(&format!("metrics/report?{query}")), &s.owner.access)
            .send()
            .await
            .unwrap();
        expect_problem(response, status, code).await;
    }

    let analyst = s
        .app
        .add_member(&s.owner, &s.ws, "ana@example.com", "analyst")
        .await;
    let moderator = s
        .app
        .add_member(&s.owner, &s.ws, "mo@example.com", "moderator")
        .await;
    let report = format!("metrics/report?metric=likes&{days}");
    let csv = format!("metrics/report.csv?metric=likes&{days}");
    for (who, path, status) in [
        (&analyst, report.clone(), StatusCode::OK),
        (&analyst, csv.clone(), StatusCode::OK),
        (&moderator, report.clone(), StatusCode::OK),
        (&moderator, csv.clone(), StatusCode::FORBIDDEN),
    ] {
        let response = s.app.get(&s.path(&path), &who.access).send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
    }
    let collect = s.path(&format!("channels/{}/metrics/collect", s.channel));
    let response = s
        .app
        .post(&collect, &analyst.access, &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Another workspace's owner sees none of it.
    let other = s.app.signup("other@example.com").await;
    let theirs = s.app.create_workspace(&other, "Other").await;
    let post = s
        .draft(json!({"body": "Ours", "variants": [{"channel_id": s.channel}]}))
        .await;
    for path in [
        format!("/v1/workspaces/{theirs}/posts/{post}/metrics"),
        format!(
            "/v1/workspaces/{theirs}/channels/{}/metrics/collect",
            s.channel
        ),
        format!("/v1/workspaces/{}/metrics/collection", s.ws),
    ] {
        let response = if path.ends_with("/collect") {
            s.app.post(&path, &other.access, &json!({}))
        } else {
            s.app.get(&path, &other.access)
        };
        let status = response.send().await.unwrap().status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[actix_web::test]
async fn the_inbox_report_times_answers_and_reads_the_mood() {
    let s = setup().await;
    s.platform.mention(
        "ana",
        "@acme my order arrived broken, awful and terrible service",
    );
    s.platform
        .mention("ben", "@acme love the new spring roast!");
    s.platform.mention("cy", "@acme what time do you open?");
    s.app
        .call(
            s.app.post(
                &s.path(&format!("channels/{}/inbox/poll", s.channel)),
                &s.owner.access,
                &json!({}),
            ),
            StatusCode::OK,
        )
        .await;
    let items = s
        .app
        .call(
            s.app.get(&s.path("inbox/items?q=broken"), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    let ana = items["data"][0]["id"].as_str().unwrap().to_owned();
    s.app
        .call(
            s.app.post(
                &s.path(&format!("inbox/items/{ana}/replies")),
                &s.owner.access,
                &json!({"text": "So sorry, we are on it."}),
            ),
            StatusCode::ACCEPTED,
        )
        .await;
    run_due(&s.app.state, "w1", Utc::now().naive_utc())
        .await
        .unwrap();

    let report = s
        .app
        .call(
            s.app.get(
                &s.path(&format!("reports/inbox?group_by=kind&{}", range(0, 1))),
                &s.owner.access,
            ),
            StatusCode::OK,
        )
        .await;
    let all = &report["overall"];
    assert_eq!(all["received"], 3, "{report}");
    assert_eq!(all["answered"], 1, "{report}");
    assert!(all["first_response_median_minutes"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        all["first_response_sla_rate"], 1.0,
        "answered in time; the others are not due yet: {report}"
    );
    assert_eq!(all["sentiment"]["negative"], 1, "{report}");
    assert_eq!(all["sentiment"]["positive"], 1, "{report}");
    assert_eq!(report["groups"][0]["key"], "mention");
    assert_eq!(report["groups"][0]["received"], 3);
    assert_eq!(report["trend"].as_array().unwrap().len(), 1);
    assert_eq!(report["trend"][0]["received"], 3);

    let earlier = s
        .app
        .call(
            s.app.get(
                &s.path(&format!("reports/inbox?{}", range(-7, -1))),
                &s.owner.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(earlier["overall"]["received"], 0);
    assert!(earlier["overall"]["first_response_median_minutes"].is_null());
}

#[actix_web::test]
async fn the_best_time_to_post_comes_from_the_workspaces_own_results() {
    let s = setup().await;
    let (_, first) = s.publish("Morning brew").await;
    let (_, second) = s.publish("Evening brew").await;
    s.platform
        .set_stats(&first, json!({"likes": 10, "shares": 2}));
    s.platform.set_stats(&second, json!({"likes": 4}));
    s.collect().await;

    let report = s
        .app
        .call(
            s.app
                .get(&s.path("reports/best-time?min_posts=1"), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    assert_eq!(report["metric"], "engagements");
    assert_eq!(report["posts"], 2, "{report}");
    assert_eq!(report["time_zone"], "UTC");
    let slots = report["slots"].as_array().unwrap();
    let posts: u64 = slots.iter().map(|s| s["posts"].as_u64().unwrap()).sum();
    assert_eq!(posts, 2);
    let total: f64 = slots
        .iter()
        .map(|s| s["average"].as_f64().unwrap() * s["posts"].as_f64().unwrap())
        .sum();
    assert_eq!(total, 16.0, "12 and 4 engagements: {report}");
    assert!(!report["best"].as_array().unwrap().is_empty());

    let svg = s
        .app
        .get(&s.path("reports/best-time.svg"), &s.owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(svg.status(), StatusCode::OK);
    let svg = svg.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Mon"), "{svg}");

    let bad = s
        .app
        .get(&s.path("reports/best-time?metric=fans"), &s.owner.access)
        .send()
        .await
        .unwrap();
    expect_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[actix_web::test]
async fn share_of_voice_weighs_the_brand_against_its_competitors() {
    use plaza_api::db::inbox_rules::ListeningQueryRow;
    use plaza_api::domain::inbox::ItemKind;
    use plaza_api::inbox::ingest::{IncomingAuthor, IncomingItem, Source, take_in};

    let s = setup().await;
    let now = plaza_api::db::now();
    let queries = [("us", "brand"), ("them", "competitor"), ("beans", "topic")];
    for (name, subject) in queries {
        let row = ListeningQueryRow {
            id: uuid::Uuid::now_v7().to_string(),
            workspace_id: s.ws.clone(),
            channel_id: s.channel.clone(),
            name: name.to_owned(),
            query: name.to_owned(),
            subject: subject.to_owned(),
            enabled: true,
            created_by: s.owner.user_id.clone(),
            created_at: now,
            updated_at: now,
        };
        s.app
            .state
            .db
            .write(move |conn| row.insert(conn).map_err(plaza_api::error::ApiError::from))
            .await
            .unwrap();
    }
    let (ws, channel_id) = (s.ws.clone(), s.channel.clone());
    let (channel, ids) = s
        .app
        .state
        .db
        .read(move |conn| {
            let channel =
                plaza_api::db::channels::ChannelRow::find(conn, &ws, &channel_id)?.unwrap();
            let ids: Vec<(String, String)> = ListeningQueryRow::all(conn, &ws)?
                .into_iter()
                .map(|q| (q.name, q.id))
                .collect();
            Ok::<_, plaza_api::error::ApiError>((channel, ids))
        })
        .await
        .unwrap();
    let id_of = |name: &str| ids.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let hit = |n: usize, query: &str, text: &str| IncomingItem {
        remote_id: format!("hit-{n}"),
        kind: ItemKind::ListeningHit,
        thread_id: None,
        parent_id: None,
        post_id: None,
        author: IncomingAuthor {
            remote_id: format!("u{n}"),
            handle: format!("user{n}"),
            display_name: None,
            followers: None,
        },
        text: text.to_owned(),
        lang: Some("en".to_owned()),
        created_at: now,
        url: None,
        listening_query_id: Some(id_of(query)),
    };
    let items = vec![
        hit(1, "us", "Acme coffee is wonderful"),
        hit(2, "us", "Acme latte was great"),
        hit(3, "us", "Acme shop opens at nine"),
        hit(4, "them", "Rival roasters are awful"),
        hit(5, "beans", "Beans prices went up"),
    ];
    take_in(&s.app.state, &channel, Source::Poll, items, None)
        .await
        .unwrap();

    let report = s
        .app
        .call(
            s.app.get(
                &s.path(&format!("reports/share-of-voice?{}", range(0, 1))),
                &s.owner.access,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(report["share"], 0.75, "{report}");
    assert_eq!(report["queries"][0]["name"], "us");
    assert_eq!(report["queries"][0]["hits"], 3);
    assert_eq!(report["queries"][0]["sentiment"]["positive"], 2, "{report}");
    let topic = report["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["subject"] == "topic")
        .unwrap();
    assert!(topic["share"].is_null());
    assert_eq!(report["trend"][0]["brand"], 3);
    assert_eq!(report["trend"][0]["competitor"], 1);
}

#[actix_web::test]
async fn objectives_measure_their_kpi_and_judge_the_projection() {
    let s = setup().await;
    let post = s
        .draft(json!({"body": "Autumn menu", "variants": [{"channel_id": s.channel}]}))
        .await;
    // 300 likes over the first ten days of a thirty-day objective that
    // started ten days ago, 100 followers won on the 1,000 there were.
    let day = |offset: i64| (today() + Duration::days(offset)).to_string();
    s.record(
        &format!("{} 09:00", day(-11)),
        vec![
            likes("t1", &post, 0.0),
            reading(ACCOUNT, None, "followers", 1000.0),
            reading("t1", Some(&post), "impressions", 0.0),
        ],
    )
    .await;
    s.record(
        &format!("{} 09:00", day(-1)),
        vec![
            likes("t1", &post, 300.0),
            reading(ACCOUNT, None, "followers", 1100.0),
            reading("t1", Some(&post), "impressions", 6000.0),
        ],
    )
    .await;
    let objectives = s.path("objectives");
    let create = |body: Value| {
        let request = s.app.post(&objectives, &s.owner.access, &body);
        async move { request.send().await.unwrap() }
    };
    let period = json!({"starts_on": day(-10), "ends_on": day(19)});
    let with = |extra: Value| {
        let mut body = period.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };

    let response = create(with(
        json!({"name": "1,100 likes", "kpi": "metric:likes", "target": 1100}),
    ))
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().contains_key("etag"));
    let likes_goal: Value = response.json().await.unwrap();
    let progress = &likes_goal["progress"];
    assert_eq!(progress["current"], 300.0, "{likes_goal}");
    let elapsed = progress["elapsed"].as_f64().unwrap();
    assert!((0.33..0.37).contains(&elapsed), "{progress}");
    let projected = progress["projected"].as_f64().unwrap();
    assert!((800.0..910.0).contains(&projected), "{progress}");
    assert_eq!(progress["status"], "off_track", "{progress}");
    assert_eq!(likes_goal["direction"], "at_least");

    let easy = create(with(
        json!({"name": "500 likes", "kpi": "metric:likes", "target": 500}),
    ))
    .await;
    let easy: Value = easy.json().await.unwrap();
    assert_eq!(easy["progress"]["status"], "on_track", "{easy}");

    let growth = create(with(
        json!({"name": "Grow 10 %", "kpi": "follower_growth", "target": 0.1}),
    ))
    .await;
    let growth: Value = growth.json().await.unwrap();
    assert_eq!(growth["progress"]["current"], 0.1, "{growth}");
    assert_eq!(growth["progress"]["status"], "on_track");

    let rate = create(with(json!({
        "name": "Engagement 5 %", "kpi": "engagement_rate", "target": 0.05,
        "scope": "channel", "scope_id": s.channel
    })))
    .await;
    let rate: Value = rate.json().await.unwrap();
    assert_eq!(rate["progress"]["current"], 0.05, "300 ÷ 6,000: {rate}");
    assert_eq!(rate["progress"]["status"], "on_track");

    let answers = create(with(
        json!({"name": "Answer fast", "kpi": "response_time", "target": 30}),
    ))
    .await;
    let answers: Value = answers.json().await.unwrap();
    assert_eq!(answers["direction"], "at_most");
    assert_eq!(answers["progress"]["status"], "no_data", "{answers}");

    let later = json!({"name": "Next month", "kpi": "posts_published", "target": 20,
                       "starts_on": day(20), "ends_on": day(50)});
    let later: Value = create(later).await.json().await.unwrap();
    assert_eq!(later["progress"]["status"], "not_started");

    for (body, field) in [
        (with(json!({"name": "x", "kpi": "roi", "target": 1})), "kpi"),
        (
            with(json!({"name": "", "kpi": "metric:likes", "target": 1})),
            "name",
        ),
        (
            json!({"name": "x", "kpi": "metric:likes", "target": 1, "starts_on": day(5), "ends_on": day(1)}),
            "ends_on",
        ),
        (
            with(
                json!({"name": "x", "kpi": "share_of_voice", "target": 0.5, "scope": "channel", "scope_id": s.channel}),
            ),
            "scope",
        ),
        (
            with(
                json!({"name": "x", "kpi": "metric:likes", "target": 1, "scope": "campaign", "scope_id": s.channel}),
            ),
            "scope_id",
        ),
        (with(json!({"name": "x", "kpi": "metric:likes"})), "target"),
    ] {
        let problem = expect_problem(
            create(body.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{body}: {problem}"
        );
    }

    // Read, change with If-Match, refuse a stale one, list, delete.
    let id = likes_goal["id"].as_str().unwrap();
    let one = s
        .app
        .get(&format!("{objectives}/{id}"), &s.owner.access)
        .send()
        .await
        .unwrap();
    let tag = one.headers()["etag"].to_str().unwrap().to_owned();
    let changed = s
        .app
        .patch(
            &format!("{objectives}/{id}"),
            &s.owner.access,
            &json!({"target": 800}),
        )
        .header("if-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["target"], 800.0);
    assert_eq!(changed["progress"]["status"], "on_track", "{changed}");
    let stale = s
        .app
        .patch(
            &format!("{objectives}/{id}"),
            &s.owner.access,
            &json!({"target": 1}),
        )
        .header("if-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let list = s
        .app
        .call(s.app.get(&objectives, &s.owner.access), StatusCode::OK)
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 6, "{list}");
    let gone = s
        .app
        .delete(&format!("{objectives}/{id}"), &s.owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);

    // An analyst reads objectives but does not set them.
    let analyst = s
        .app
        .add_member(&s.owner, &s.ws, "ana@example.com", "analyst")
        .await;
    assert_eq!(
        s.app
            .get(&objectives, &analyst.access)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let refused = s
        .app
        .post(
            &objectives,
            &analyst.access,
            &with(json!({"name": "x", "kpi": "metric:likes", "target": 1})),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
