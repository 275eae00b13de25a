//! A `plaza` process killed (SIGKILL) in the middle of publishing loses no
//! post and sends none twice: a new process on the same database and data
//! folder takes the dead one's jobs back once their lease runs out, asks the
//! platform about every call that was under way (by its idempotency key),
//! and finishes the rest.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use plaza_api::db::DbError;
use plaza_api::db::schema::publish_targets;
use plaza_tests::client::PlazaClient;
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::process::Deployment;
use serde_json::json;

const PLAZA: &str = env!("CARGO_BIN_EXE_plaza-under-test");

/// Posts in the batch; each goes to both channels.
const POSTS: usize = 20;

#[actix_web::test]
async fn killed_before_the_platform_call_nothing_is_lost_or_sent_twice() {
    crash_mid_publish("publish.before_call").await;
}

#[actix_web::test]
async fn killed_after_the_platform_call_nothing_is_lost_or_sent_twice() {
    crash_mid_publish("publish.after_call").await;
}

/// A stored publish target: (post, channel) → (status, idempotency key).
type StoredTargets = HashMap<(String, String), (String, String)>;

async fn stored_targets(deployment: &Deployment) -> StoredTargets {
    let rows = deployment
        .db()
        .read(|conn| {
            publish_targets::table
                .select((
                    publish_targets::post_id,
                    publish_targets::channel_id,
                    publish_targets::status,
                    publish_targets::idempotency_key,
                ))
                .load::<(String, String, String, String)>(conn)
                .map_err(DbError::from)
        })
        .await
        .expect("read the publish targets");
    rows.into_iter()
        .map(|(post, channel, status, key)| ((post, channel), (status, key)))
        .collect()
}

async fn crash_mid_publish(point: &str) {
    // Arrange: two channels, each on a platform of its own, and a batch of
    // posts for both, scheduled while the process that will die runs.
    let deployment = Deployment::new(PLAZA);
    let platforms = [
        FakePlatform::start("token-a"),
        FakePlatform::start("token-b").with_account("4343", "acme_b"),
    ];
    let mut doomed = deployment.serve(&[("PLAZA_TEST_PAUSE_AT", point)]).await;
    let owner = PlazaClient::sign_up(doomed.url(), "owner@example.com").await;
    let ws = owner.create_workspace("Acme").await;
    let channels = [
        owner
            .connect_channel(&ws, &platforms[0].url, "token-a")
            .await,
        owner
            .connect_channel(&ws, &platforms[1].url, "token-b")
            .await,
    ];
    let posts: Vec<_> = (0..POSTS)
        .map(|n| {
            json!({
                "body": format!("Post {n} of the batch"),
                "variants": [{"channel_id": channels[0]}, {"channel_id": channels[1]}],
            })
        })
        .collect();
    let ahead = Utc::now() + chrono::Duration::hours(1);
    owner.schedule_posts(&ws, &posts, ahead).await;

    // Act: the whole batch falls due at once; the worker stops dead at the
    // fault point and the process is killed there.
    assert_eq!(deployment.make_due(plaza_api::db::now()).await, POSTS);
    let paused = doomed
        .wait_for_line("plaza: paused at", Duration::from_secs(60))
        .await;
    doomed.kill();
    assert_eq!(
        paused,
        Some(format!("plaza: paused at {point}")),
        "the worker never reached the fault point\n{}",
        doomed.log_tail(40)
    );

    // The kill left targets between their intent and their outcome.
    let at_kill = stored_targets(&deployment).await;
    let interrupted: Vec<&String> = at_kill
        .values()
        .filter(|(status, _)| status == "sending")
        .map(|(_, key)| key)
        .collect();
    assert!(
        !interrupted.is_empty(),
        "no target was mid-publish when the process died: {at_kill:?}"
    );
    let received_at_kill = |key: &str| {
        platforms
            .iter()
            .map(|p| p.state.lock().unwrap().received(key))
            .sum::<u32>()
    };
    if point == "publish.before_call" {
        let sent: usize = platforms
            .iter()
            .map(|p| p.state.lock().unwrap().received.len())
            .sum();
        assert_eq!(sent, 0, "every job stops before its first platform call");
    } else {
        assert!(
            interrupted.iter().any(|key| received_at_kill(key) == 1),
            "at least one interrupted call reached the platform before the kill"
        );
    }
    let interrupted: HashSet<String> = interrupted.into_iter().cloned().collect();

    // A process without the fault point, on the same database and folder,
    // finishes the batch.
    let survivor = deployment.serve(&[]).await;
    let owner = owner.at(survivor.url());
    if let Err(left) = owner
        .wait_until_published(&ws, Duration::from_secs(90))
        .await
    {
        panic!("{left}\n{}", survivor.log_tail(60));
    }

    // Assert: every target went out exactly once (or waits for a person),
    // the interrupted ones included, and nothing else reached the platforms.
    let targets = owner.targets(&ws).await;
    let stored = stored_targets(&deployment).await;
    assert_eq!(targets.len(), 2 * POSTS, "one target per post and channel");
    let mut expected_keys: [HashSet<String>; 2] = Default::default();
    for target in &targets {
        let side = usize::from(target.channel_id == channels[1]);
        let state = platforms[side].state.lock().unwrap();
        let (_, key) = &stored[&(target.post_id.clone(), target.channel_id.clone())];
        expected_keys[side].insert(key.clone());
        match target.status.as_str() {
            "published" => {
                assert_eq!(
                    state.received(key),
                    1,
                    "{key} was sent {} times",
                    state.received(key)
                );
                let created = &state.by_key[key];
                assert_eq!(
                    target.remote_id.as_deref(),
                    created["id"].as_str(),
                    "the target records the post the platform made for {key}"
                );
                assert_eq!(created["text"], target.body.as_str());
            }
            "needs_review" => {
                assert!(
                    !interrupted.contains(key),
                    "the platform answers lookups, so {key} should have been settled: {:?}",
                    target.error
                );
                assert!(state.received(key) <= 1, "{key} was sent twice");
            }
            other => panic!("{key} ended {other}: {:?}", target.error),
        }
    }
    for (side, platform) in platforms.iter().enumerate() {
        let state = platform.state.lock().unwrap();
        let received: HashSet<String> = state.received.keys().cloned().collect();
        assert!(
            received.is_subset(&expected_keys[side]),
            "the platform got posts no target accounts for: {:?}",
            received.difference(&expected_keys[side])
        );
        let published = targets
            .iter()
            .filter(|t| t.status == "published" && t.channel_id == channels[side])
            .count();
        assert_eq!(
            state.posts.len(),
            published,
            "one post per published target"
        );
    }
    let posts = owner.posts(&ws).await;
    assert_eq!(posts.len(), POSTS);
    for post in &posts {
        let reviewed = post["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["status"] == "needs_review");
        if !reviewed {
            assert_eq!(post["status"], "published", "{post}");
        }
    }
}
