//! Publishing throughput and latency through real `plaza` processes: a
//! batch of posts, each for one `template` channel (the template plugin
//! against the local fake platform: one `POST /api/posts` per post), all due
//! at the same instant. The latency of a post is its target's `published_at`
//! minus the post's `scheduled_at`, as the API reports them; the rate is
//! posts published per second from the first to the last.
//!
//! `cargo bench -p plaza-tests --bench publishing`; figures in
//! docs/benchmarks.md. SQLite with one process always; PostgreSQL with one
//! and with three processes (one `serve`, two `worker`) when
//! `BENCH_DATABASE_URL` (or `TEST_DATABASE_URL`) names a server.
//! `BENCH_POSTS` sets the batch (default 1,000). The processes run with the
//! default worker settings (8 jobs at once, 1 s idle poll, 60 s lease);
//! `BENCH_PLAZA_*` variables set `PLAZA_*` for them
//! (`BENCH_PLAZA_WORKER_CONCURRENCY=32`).
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark stops on setup failure and prints its findings"
)]

use std::time::{Duration, Instant};

use chrono::Utc;
use plaza_tests::client::{PlazaClient, PublishTimes};
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::process::Deployment;
use serde_json::json;

const PLAZA: &str = env!("CARGO_BIN_EXE_plaza-under-test");

/// One measured configuration.
struct Measured {
    database: &'static str,
    processes: usize,
    posts: usize,
    times: PublishTimes,
}

fn main() {
    actix_web::rt::System::new().block_on(run());
}

async fn run() {
    let posts = std::env::var("BENCH_POSTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let postgres = ["BENCH_DATABASE_URL", "TEST_DATABASE_URL"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"));
    let mut rows = vec![measure("SQLite", None, 1, posts).await];
    match postgres {
        Some(url) => {
            rows.push(measure("PostgreSQL", Some(url.clone()), 1, posts).await);
            rows.push(measure("PostgreSQL", Some(url), 3, posts).await);
        }
        None => println!("PostgreSQL skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL"),
    }
    println!();
    println!("| database | processes | posts | posts/s | first | p50 | p95 | max (all out) |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for row in rows {
        let t = row.times;
        println!(
            "| {} | {} | {} | **{:.0}** | {:.2} s | {:.2} s | {:.2} s | {:.2} s |",
            row.database,
            row.processes,
            row.posts,
            t.per_second(),
            t.first.as_secs_f64(),
            t.p50.as_secs_f64(),
            t.p95.as_secs_f64(),
            t.max.as_secs_f64(),
        );
    }
}

async fn measure(
    database: &'static str,
    admin_url: Option<String>,
    processes: usize,
    posts: usize,
) -> Measured {
    let mut deployment = Deployment::on(PLAZA, admin_url)
        .with_var("PLAZA_WORKER_POLL_MS", "1000")
        .with_var("PLAZA_JOB_LEASE_SECS", "60")
        .with_var("RUST_LOG", "warn");
    for (name, value) in std::env::vars() {
        if let Some(setting) = name.strip_prefix("BENCH_PLAZA_") {
            deployment = deployment.with_var(&format!("PLAZA_{setting}"), &value);
        }
    }
    let platform = FakePlatform::start("t0ken");
    let api = deployment.serve(&[]).await;
    let mut workers = Vec::new();
    for _ in 1..processes {
        workers.push(deployment.worker(&[]).await);
    }
    let owner = PlazaClient::sign_up(api.url(), "bench@example.com").await;
    let ws = owner.create_workspace("Bench").await;
    let channel = owner.connect_channel(&ws, &platform.url, "t0ken").await;
    let batch: Vec<_> = (0..posts)
        .map(|n| json!({"body": format!("Post {n}"), "variants": [{"channel_id": channel}]}))
        .collect();
    let setup = Instant::now();
    owner
        .schedule_posts(&ws, &batch, Utc::now() + chrono::Duration::hours(1))
        .await;
    println!(
        "{database}, {processes} process(es): {posts} posts drafted and scheduled in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    assert_eq!(deployment.make_due(plaza_api::db::now()).await, posts);
    if let Err(left) = owner
        .wait_until_published(&ws, Duration::from_secs(600))
        .await
    {
        panic!("{left}\n{}", api.log_tail(40));
    }
    let targets = owner.targets(&ws).await;
    let published = targets.iter().filter(|t| t.status == "published").count();
    assert_eq!(published, posts, "every post published");
    let sent = platform.state.lock().expect("fake state").posts.len();
    assert_eq!(sent, posts, "each post sent once");
    let times = PublishTimes::of(&targets).expect("published targets");
    println!(
        "{database}, {processes} process(es): {:.0} posts/s, first {:.2} s, p50 {:.2} s, \
         p95 {:.2} s, max {:.2} s",
        times.per_second(),
        times.first.as_secs_f64(),
        times.p50.as_secs_f64(),
        times.p95.as_secs_f64(),
        times.max.as_secs_f64()
    );
    drop(workers);
    Measured {
        database,
        processes,
        posts,
        times,
    }
}
