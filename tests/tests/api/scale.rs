//! Three `plaza` processes on one PostgreSQL database share the publishing
//! of a thousand posts that all fall due at the same instant, and each post
//! goes out exactly once. SQLite is one process by design, so on SQLite the
//! test says so and passes.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use plaza_tests::client::{PlazaClient, PublishTimes};
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::process::Deployment;
use serde_json::json;

const PLAZA: &str = env!("CARGO_BIN_EXE_plaza-under-test");

const POSTS: usize = 1_000;

#[actix_web::test]
async fn three_processes_on_one_postgres_publish_each_of_a_thousand_posts_once() {
    if !plaza_tests::on_postgres() {
        println!(
            "skipped: several processes on one database need PostgreSQL \
             (set TEST_DATABASE_URL); SQLite is one process by design"
        );
        return;
    }
    // Arrange: one `serve` (API and publisher) and two `worker` processes.
    let deployment = Deployment::new(PLAZA);
    let platform = FakePlatform::start("t0ken");
    let api = deployment.serve(&[]).await;
    let workers = [deployment.worker(&[]).await, deployment.worker(&[]).await];
    let owner = PlazaClient::sign_up(api.url(), "owner@example.com").await;
    let ws = owner.create_workspace("Acme").await;
    let channel = owner.connect_channel(&ws, &platform.url, "t0ken").await;
    let posts: Vec<_> = (0..POSTS)
        .map(|n| json!({"body": format!("Post {n}"), "variants": [{"channel_id": channel}]}))
        .collect();
    owner
        .schedule_posts(&ws, &posts, Utc::now() + chrono::Duration::hours(1))
        .await;

    // Act: all of them fall due at once.
    assert_eq!(deployment.make_due(plaza_api::db::now()).await, POSTS);
    if let Err(left) = owner
        .wait_until_published(&ws, Duration::from_secs(180))
        .await
    {
        let logs: Vec<String> = workers.iter().map(|w| w.log_tail(20)).collect();
        panic!("{left}\n{}\n{}", api.log_tail(20), logs.join("\n"));
    }

    // Assert: 1,000 distinct keys reached the platform, each once, and every
    // target records the post its key made.
    let targets = owner.targets(&ws).await;
    assert_eq!(targets.len(), POSTS);
    let state = platform.state.lock().unwrap();
    assert_eq!(state.received.len(), POSTS, "one idempotency key per post");
    let twice: Vec<_> = state.received.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "keys sent more than once: {twice:?}");
    assert_eq!(state.posts.len(), POSTS, "the platform made one post each");
    let made: HashSet<&str> = state
        .by_key
        .values()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let mut recorded = HashSet::new();
    for target in &targets {
        assert_eq!(target.status, "published", "{target:?}");
        let remote = target.remote_id.as_deref().unwrap();
        assert!(
            made.contains(remote),
            "{target:?} names no post of the platform"
        );
        assert!(recorded.insert(remote), "two targets name post {remote}");
    }
    let times = PublishTimes::of(&targets).unwrap();
    println!(
        "{POSTS} posts due at once, 3 processes on PostgreSQL: all published {:.1} s after \
         the due time ({:.0}/s from the first to the last); latency first {:.2} s, \
         p50 {:.2} s, p95 {:.2} s, max {:.2} s",
        times.max.as_secs_f64(),
        times.per_second(),
        times.first.as_secs_f64(),
        times.p50.as_secs_f64(),
        times.p95.as_secs_f64(),
        times.max.as_secs_f64(),
    );
}
