//! Inbox ingestion throughput: items per second through the whole pipeline
//! (language, sentiment, de-duplication, contacts, 100 rules with 5,000
//! watched words, SLA, storage with the moderation log and one event per
//! item), on SQLite and on PostgreSQL.
//!
//! `cargo bench -p plaza-tests --bench ingest`; figures in
//! docs/benchmarks.md. `BENCH_ITEMS` sets the number of items (default
//! 100,000), `BENCH_BATCH` the batch size (default 500, a poll's pages or a
//! burst of webhooks), `BENCH_WRITERS` how many channels take batches in at
//! once (default 2). PostgreSQL runs when `BENCH_DATABASE_URL` (or
//! `TEST_DATABASE_URL`) names a server.
//!
//! What runs is the code a poll runs (`plaza_api::inbox::ingest::take_in`)
//! in the server's own process and database pool; only the plugin call is
//! left out, since its cost is the platform's (measured in `plugin_call`).
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark stops on setup failure and prints its findings"
)]

use std::time::{Duration, Instant};

use plaza_api::domain::inbox::ItemKind;
use plaza_api::inbox::ingest::{IncomingAuthor, IncomingItem, Source, take_in};
use plaza_tests::TestDatabase;
use plaza_tests::fake_platform::FakePlatform;
use plaza_tests::{PLUGINS_DIR, TestApp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};

const EN: [&str; 8] = [
    "Loving the new spring roast, great coffee as always",
    "My order never arrived and support is not answering, terrible",
    "Does the shop open on Sunday? Asking for a friend",
    "Worst customer service ever, I want a refund now",
    "Thanks for the quick reply, really appreciate it",
    "The app keeps crashing when I try to pay",
    "Just tried the oat latte and it is amazing",
    "Is there a discount code for students this month",
];
const ES: [&str; 8] = [
    "Me encanta el nuevo tostado, buenísimo como siempre",
    "Mi pedido nunca llegó y nadie contesta, qué mal servicio",
    "¿Abrís el domingo? Es para un amigo",
    "El peor servicio que he visto, quiero un reembolso ya",
    "Gracias por la respuesta tan rápida, de verdad",
    "La aplicación se cierra cuando intento pagar",
    "Probé el latte de avena y está increíble",
    "¿Hay código de descuento para estudiantes este mes?",
];

fn word(i: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ter", "sa", "vu", "ne", "po", "ri", "gal", "do", "fe", "zu", "bra",
        "qui", "len",
    ];
    let mut w = String::new();
    let mut n = i + 17;
    for _ in 0..3 {
        w.push_str(SYLLABLES[n % 16]);
        n /= 16;
    }
    format!("{w}{}", i % 97)
}

/// 100 rules: 50 watched-word lists of 100 words (5,000 words), 20
/// regexes, 20 on sentiment and kind, 10 on the author's audience.
fn rules() -> Vec<Value> {
    let mut rules = Vec::new();
    for r in 0..50 {
        let words: Vec<String> = (0..100).map(|i| word(r * 100 + i)).collect();
        rules.push(json!({"when": {"type": "contains_words", "words": words},
                          "actions": [{"type": "tag", "tag": format!("watch-{r}")}]}));
    }
    for r in 0..20 {
        rules.push(json!({"when": {"type": "matches_regex", "pattern": format!("order #?\\d{{{}}}", 3 + r % 5)},
                          "actions": [{"type": "tag", "tag": "order"}]}));
    }
    for r in 0..20 {
        rules.push(json!({"when": {"type": "all", "conditions": [
                              {"type": "sentiment_below", "score": -0.2 - f64::from(r) / 100.0},
                              {"type": "kind", "kinds": ["mention", "comment"]}]},
                          "actions": [{"type": "set_priority", "priority": "high"}]}));
    }
    for r in 0..10 {
        rules.push(
            json!({"when": {"type": "author_followers", "at_least": 10_000 * (r + 1)},
                          "actions": [{"type": "tag", "tag": "influencer"}]}),
        );
    }
    rules
}

fn item(rng: &mut StdRng, n: usize) -> IncomingItem {
    let base = if rng.gen_bool(0.5) {
        EN[rng.gen_range(0..8)]
    } else {
        ES[rng.gen_range(0..8)]
    };
    let mut text = base.to_owned();
    if rng.gen_bool(0.1) {
        text.push(' ');
        text.push_str(&word(rng.gen_range(0..5_000)));
    }
    if rng.gen_bool(0.05) {
        text.push_str(&format!(" order #{}", rng.gen_range(1000..99999)));
    }
    let author = rng.gen_range(0..5_000_u32);
    IncomingItem {
        remote_id: format!("m{n}"),
        kind: if n.is_multiple_of(3) {
            ItemKind::Comment
        } else {
            ItemKind::Mention
        },
        thread_id: None,
        parent_id: None,
        post_id: None,
        author: IncomingAuthor {
            remote_id: format!("u{author}"),
            handle: format!("user{author}"),
            display_name: Some(format!("User {author}")),
            followers: Some(u64::from(author) * 37),
        },
        text,
        lang: None,
        created_at: chrono::Utc::now().naive_utc(),
        url: None,
        listening_query_id: None,
    }
}

async fn measure(name: &str, url: Option<String>, items: usize, batch: usize, writers: usize) {
    let dir = std::env::temp_dir().join(format!(
        "plaza-bench-ingest-{}",
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
    let mut channels = Vec::new();
    for w in 0..writers {
        let platform =
            FakePlatform::start("t0ken").with_account(&format!("{w}"), &format!("acct{w}"));
        let channel = app
            .connect_channel(&owner, &ws, &platform.url, "t0ken")
            .await;
        channels.push((platform, channel["id"].as_str().unwrap().to_owned()));
    }
    let setup = Instant::now();
    for (i, definition) in rules().into_iter().enumerate() {
        app.call(
            app.post(
                &format!("/v1/workspaces/{ws}/inbox/rules"),
                &owner.access,
                &json!({"name": format!("rule {i}"), "definition": definition}),
            ),
            StatusCode::CREATED,
        )
        .await;
    }
    println!(
        "{name}: 100 rules created in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let mut rng = StdRng::seed_from_u64(7);
    let mut batches: Vec<Vec<IncomingItem>> = Vec::new();
    let mut n = 0;
    while n < items {
        let mut chunk: Vec<IncomingItem> = (0..batch.min(items - n))
            .map(|i| item(&mut rng, n + i))
            .collect();
        // One in ten comes again (polling and a webhook both saw it): a
        // repeat from the tail of the batch its channel took before (the
        // head of each batch is itself made of repeats).
        if n >= batch * writers {
            for k in 0..chunk.len() / 10 {
                chunk[k].remote_id = format!("m{}", n - batch * (writers - 1) - 1 - k);
            }
        }
        n += chunk.len();
        batches.push(chunk);
    }
    let rows = {
        let ids: Vec<String> = channels.iter().map(|(_, id)| id.clone()).collect();
        let ws = ws.clone();
        app.state
            .db
            .read(move |conn| {
                let mut rows = Vec::new();
                for id in ids {
                    rows.push(plaza_api::db::channels::ChannelRow::find(conn, &ws, &id)?.unwrap());
                }
                Ok::<_, plaza_api::db::DbError>(rows)
            })
            .await
            .unwrap()
    };
    let started = Instant::now();
    let mut lanes: Vec<Vec<Vec<IncomingItem>>> = (0..writers).map(|_| Vec::new()).collect();
    for (i, chunk) in batches.into_iter().enumerate() {
        lanes[i % writers].push(chunk);
    }
    let state = app.state.clone();
    let tasks = lanes.into_iter().zip(rows).map(|(lane, channel)| {
        let state = state.clone();
        async move {
            let mut created = 0;
            for chunk in lane {
                created += take_in(&state, &channel, Source::Poll, chunk, None)
                    .await
                    .expect("ingest")
                    .created
                    .len();
            }
            created
        }
    });
    let created: usize = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .sum();
    let elapsed = started.elapsed();
    let per_second = items as f64 / elapsed.as_secs_f64();
    println!(
        "| {name} | {items} | {batch} | {writers} | {created} | {:.1} s | **{per_second:.0}** |",
        elapsed.as_secs_f64()
    );
    app.stop().await;
    drop(channels);
    drop(database);
    let _ = std::fs::remove_dir_all(&dir);
    std::thread::sleep(Duration::from_millis(100));
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let env = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let (items, batch, writers) = (
            env("BENCH_ITEMS", 100_000),
            env("BENCH_BATCH", 500),
            env("BENCH_WRITERS", 2),
        );
        let postgres = ["BENCH_DATABASE_URL", "TEST_DATABASE_URL"]
            .into_iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"));
        println!("| database | items | batch | writers | stored | time | items/s |");
        println!("| --- | --- | --- | --- | --- | --- | --- |");
        measure("SQLite", None, items, batch, writers).await;
        match postgres {
            Some(url) => measure("PostgreSQL", Some(url), items, batch, writers).await,
            None => println!("PostgreSQL skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL"),
        }
    });
}
