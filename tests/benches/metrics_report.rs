//! Metric reports over ten million points: latency of `GET
//! …/metrics/report` through the real server (HTTP on loopback, its pool,
//! JSON), on PostgreSQL when `BENCH_DATABASE_URL` (or `TEST_DATABASE_URL`)
//! names a server, else on SQLite.
//!
//! The dataset: 10 channels, 400 posts in 8 campaigns with 10 tags, 5 post
//! metrics per post (2,000 series) plus followers and posts per account,
//! each series with one hourly roll-up for each of `BENCH_HOURS` hours
//! (default 5,000, about 208 days: 10.1 million hourly points) and the
//! daily, weekly and monthly roll-ups made from them, and those per campaign
//! and tag. Each report runs `BENCH_RUNS` times (default 100) after 5
//! warm-ups, one request at a time.
//!
//! `cargo bench -p plaza-tests --bench metrics_report`; figures in
//! docs/benchmarks.md.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark stops on setup failure and prints its findings"
)]

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::RunQueryDsl;
use plaza_api::db::DbConn;
use plaza_api::db::metrics::{ACCOUNT, Reading, record};
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::{PASSWORD, PLUGINS_DIR, TestApp, TestDatabase, expect_json};
use reqwest::{Method, StatusCode};
use serde_json::json;

const CHANNELS: usize = 10;
const POSTS: usize = 400;
const POST_METRICS: [&str; 5] = ["likes", "reposts", "replies", "impressions", "saves"];
const START: &str = "2026-01-01 00:00:00";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn start() -> NaiveDateTime {
    NaiveDateTime::parse_from_str(START, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// Fills the hourly roll-ups of every series, then the daily, weekly and
/// monthly ones from them, in the database itself (a recursive series of
/// hour numbers on either engine), and leaves the tables vacuumed and
/// analysed, as autovacuum leaves an insert-mostly table on PostgreSQL.
fn fill(conn: &mut DbConn, hours: usize) -> usize {
    let last = hours - 1;
    let (bucket, gain, coarser, tidy) = match conn {
        DbConn::Postgres(_) => (
            format!("TIMESTAMP '{START}' + h.n * INTERVAL '1 hour'"),
            "((h.n * 37 + length(s.id) * 13 + ascii(substr(s.id, 36, 1))) % 11)::float8",
            [
                ("day", "date_trunc('day', bucket)"),
                ("week", "date_trunc('week', bucket)"),
                ("month", "date_trunc('month', bucket)"),
            ],
            "VACUUM ANALYZE",
        ),
        DbConn::Sqlite(_) => (
            format!("datetime('{START}', '+' || h.n || ' hours')"),
            "CAST((h.n * 37 + length(s.id) * 13 + unicode(substr(s.id, 36, 1))) % 11 AS REAL)",
            [
                ("day", "datetime(bucket, 'start of day')"),
                (
                    "week",
                    "datetime(bucket, 'start of day', '-' || ((CAST(strftime('%w', bucket) AS INTEGER) + 6) % 7) || ' days')",
                ),
                ("month", "datetime(bucket, 'start of month')"),
            ],
            "ANALYZE",
        ),
    };
    let mut statements = vec![format!(
        "WITH RECURSIVE h(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM h WHERE n < {last}) \
         INSERT INTO metric_rollups (series_id, period, bucket, workspace_id, channel_id, post_id, metric, gain, last_value, samples) \
         SELECT s.id, 'hour', {bucket}, s.workspace_id, s.channel_id, s.post_id, s.metric, {gain}, 0, 1 \
         FROM metric_series s CROSS JOIN h"
    )];
    for (period, truncated) in coarser {
        statements.push(format!(
            "INSERT INTO metric_rollups (series_id, period, bucket, workspace_id, channel_id, post_id, metric, gain, last_value, samples) \
             SELECT series_id, '{period}', {truncated}, workspace_id, channel_id, post_id, metric, SUM(gain), 0, COUNT(*) \
             FROM metric_rollups WHERE period = 'hour' \
             GROUP BY series_id, {truncated}, workspace_id, channel_id, post_id, metric"
        ));
    }
    // The roll-ups per campaign and tag, made from these as the migration
    // that brought them in made them from what was stored before.
    statements.extend(group_backfill(conn));
    statements.push(
        "UPDATE metric_series SET last_value = (SELECT SUM(gain) FROM metric_rollups r \
         WHERE r.series_id = metric_series.id AND r.period = 'day')"
            .to_owned(),
    );
    let mut rows = 0;
    for statement in &statements {
        rows += run(conn, statement);
    }
    run(conn, tidy);
    rows
}

/// The INSERT statements of the migration that made the roll-ups per
/// campaign and tag.
fn group_backfill(conn: &DbConn) -> Vec<String> {
    let up = match conn {
        DbConn::Postgres(_) => {
            include_str!("../../migrations/postgres/2026-11-25-000016_metric_group_rollups/up.sql")
        }
        DbConn::Sqlite(_) => {
            include_str!("../../migrations/sqlite/2026-11-25-000016_metric_group_rollups/up.sql")
        }
    };
    up.split(';')
        .map(|statement| {
            statement
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|statement| statement.trim_start().starts_with("INSERT"))
        .collect()
}

fn run(conn: &mut DbConn, statement: &str) -> usize {
    match conn {
        DbConn::Postgres(c) => diesel::sql_query(statement).execute(c),
        DbConn::Sqlite(c) => diesel::sql_query(statement).execute(c),
    }
    .unwrap_or_else(|err| panic!("{statement}: {err}"))
}

struct Latency {
    p50: Duration,
    p95: Duration,
    p99: Duration,
    max: Duration,
}

fn latency(mut samples: Vec<Duration>) -> Latency {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Latency {
        p50: at(0.5),
        p95: at(0.95),
        p99: at(0.99),
        max: *samples.last().unwrap(),
    }
}

#[actix_web::main]
async fn main() {
    let hours = env_or("BENCH_HOURS", 5_000);
    let runs = env_or("BENCH_RUNS", 100);
    let url = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .or_else(|| std::env::var("TEST_DATABASE_URL").ok());
    let engine = if url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let dir = std::env::temp_dir().join(format!(
        "plaza-bench-metrics-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let database = TestDatabase::create_on(url, &dir);
    let db_url = database.url().to_owned();
    let app = TestApp::spawn_with(move |c| {
        c.database_url = Some(db_url);
        c.database_pool_size = 8;
        c.plugins_dir = Some(PLUGINS_DIR.into());
        c.plugin_insecure_hosts = vec!["127.0.0.1".to_owned()];
    })
    .await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Bench").await;

    let setup = Instant::now();
    let mut channels = Vec::new();
    let mut platforms = Vec::new();
    for c in 0..CHANNELS {
        let platform =
            FakePlatform::start("t0ken").with_account(&format!("{c}"), &format!("acct{c}"));
        let channel = app
            .connect_channel(&owner, &ws, &platform.url, "t0ken")
            .await;
        channels.push(channel["id"].as_str().unwrap().to_owned());
        platforms.push(platform);
    }
    let mut campaigns = Vec::new();
    for k in 0..8 {
        let campaign = app
            .call(
                app.post(
                    &format!("/v1/workspaces/{ws}/campaigns"),
                    &owner.access,
                    &json!({"name": format!("Campaign {k}"), "starts_on": "2026-01-01", "ends_on": "2026-12-31"}),
                ),
                StatusCode::CREATED,
            )
            .await;
        campaigns.push(campaign["id"].as_str().unwrap().to_owned());
    }
    let mut posts = Vec::new();
    for p in 0..POSTS {
        let post = app
            .call(
                app.post(
                    &format!("/v1/workspaces/{ws}/posts"),
                    &owner.access,
                    &json!({
                        "body": format!("Post number {p}"),
                        "tags": [format!("tag{}", p % 10), format!("tag{}", (p / 10) % 10)],
                        "campaign_id": campaigns[p % 8],
                        "variants": [{"channel_id": channels[p % CHANNELS]}]
                    }),
                ),
                StatusCode::CREATED,
            )
            .await;
        posts.push(post["id"].as_str().unwrap().to_owned());
    }
    // One reading per series makes the series; the roll-ups come after.
    for (c, channel) in channels.iter().enumerate() {
        let mut readings: Vec<Reading> = ["followers", "posts"]
            .iter()
            .map(|m| Reading {
                subject: ACCOUNT.to_owned(),
                post_id: None,
                metric: (*m).to_owned(),
                value: 0.0,
            })
            .collect();
        for (p, post) in posts.iter().enumerate().filter(|(p, _)| p % CHANNELS == c) {
            for metric in POST_METRICS {
                readings.push(Reading {
                    subject: format!("target-{p}"),
                    post_id: Some(post.clone()),
                    metric: metric.to_owned(),
                    value: 0.0,
                });
            }
        }
        let (ws, channel) = (ws.clone(), channel.clone());
        app.state
            .db
            .write(move |conn| {
                record(conn, &ws, &channel, &readings, start())?;
                run(conn, "DELETE FROM metric_rollups");
                run(conn, "DELETE FROM metric_group_rollups");
                run(conn, "DELETE FROM metric_samples");
                Ok::<_, plaza_api::error::ApiError>(())
            })
            .await
            .unwrap();
    }
    let filled = Instant::now();
    // Outside a transaction: VACUUM cannot run in one. Nothing else uses
    // the database meanwhile, so blocking here is fine.
    let rows = fill(&mut app.state.db.write_conn().unwrap(), hours);
    println!(
        "{engine}: {rows} roll-up rows ({} hourly points) written in {:.1} s (setup {:.1} s)",
        (POSTS * POST_METRICS.len() + CHANNELS * 2) * hours,
        filled.elapsed().as_secs_f64(),
        setup.elapsed().as_secs_f64()
    );

    // The fill outlasts an access token (15 minutes at most): sign in again.
    let tokens = expect_json(
        app.request(Method::POST, "/v1/auth/login")
            .json(&json!({"email": owner.email, "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let owner = app.session_from(&tokens, &owner.email).await;

    let day = |offset: usize| {
        (start() + chrono::Duration::hours(i64::try_from(hours).unwrap())
            - chrono::Duration::days(i64::try_from(offset).unwrap()))
        .format("%Y-%m-%dT00:00:00Z")
        .to_string()
    };
    let end = day(0);
    let reports = [
        (
            "likes by channel, daily, 30 days",
            format!("metric=likes&group_by=channel&from={}&to={end}", day(30)),
        ),
        (
            "engagements by post, weekly, 6 months, top 50",
            format!(
                "metric=engagements&group_by=post&granularity=week&limit=50&from={}&to={end}",
                day(182)
            ),
        ),
        (
            "impressions, hourly, 7 days",
            format!(
                "metric=impressions&granularity=hour&from={}&to={end}",
                day(7)
            ),
        ),
        (
            "likes total by campaign, monthly, 6 months",
            format!(
                "metric=likes&measure=total&group_by=campaign&granularity=month&from={}&to={end}",
                day(182)
            ),
        ),
        (
            "engagements by tag, daily, 90 days",
            format!("metric=engagements&group_by=tag&from={}&to={end}", day(90)),
        ),
        (
            "followers total, daily, 6 months",
            format!("metric=followers&measure=total&from={}&to={end}", day(182)),
        ),
    ];
    println!("| report | p50 | p95 | p99 | max |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, query) in reports {
        let path = format!("/v1/workspaces/{ws}/metrics/report?{query}");
        let mut samples = Vec::with_capacity(runs);
        for i in 0..runs + 5 {
            let began = Instant::now();
            let response = app.get(&path, &owner.access).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            let body = response.bytes().await.unwrap();
            if i >= 5 {
                samples.push(began.elapsed());
            }
            assert!(!body.is_empty());
        }
        let l = latency(samples);
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
            l.p50.as_secs_f64() * 1e3,
            l.p95.as_secs_f64() * 1e3,
            l.p99.as_secs_f64() * 1e3,
            l.max.as_secs_f64() * 1e3
        );
    }
    drop(platforms);
}
