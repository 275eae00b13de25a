//! The durable job queue on a real database: transactions, unique keys,
//! concurrent claims, leases and fences, retries and dead letters. Time moves
//! on a `ManualClock`; nothing sleeps.

use std::collections::HashSet;
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use plaza_api::db::jobs::{JobRow, JobStatus};
use plaza_api::db::{Backend, Db, DbConn, run_migrations};
use plaza_api::jobs::{self, ClaimedJob, Clock, Enqueued, ManualClock, NewJob, RetriedDead, Retry};
use plaza_tests::{TempDir, TestDatabase};
use serde_json::json;

const LEASE: Duration = Duration::from_secs(60);

/// A fresh, migrated database and a clock that only moves when told.
struct Queue {
    db: Db,
    clock: ManualClock,
    // Dropped after the pool: the database outlives its connections.
    database: TestDatabase,
    _dir: TempDir,
}

impl Queue {
    fn new() -> Self {
        let dir = TempDir::new("plaza-jobs");
        let database = TestDatabase::create(&dir.0);
        let db = Db::connect(database.url(), 4).unwrap();
        run_migrations(&mut db.write_conn().unwrap()).unwrap();
        Self {
            db,
            clock: ManualClock::starting_now(),
            database,
            _dir: dir,
        }
    }

    /// Runs `work` on the writing connection, outside any transaction.
    fn with<T>(&self, work: impl FnOnce(&mut DbConn) -> T) -> T {
        let mut conn = self.db.write_conn().unwrap();
        work(&mut conn)
    }

    fn enqueue(&self, job: &NewJob) -> Enqueued {
        self.with(|conn| jobs::enqueue(conn, job, self.clock.now()).unwrap())
    }

    fn claim(&self, worker: &str, kinds: &[&str], n: usize) -> Vec<ClaimedJob> {
        self.with(|conn| jobs::claim(conn, worker, kinds, n, LEASE, self.clock.now()).unwrap())
    }

    fn claim_one(&self, worker: &str, kind: &str) -> ClaimedJob {
        let mut claimed = self.claim(worker, &[kind], 1);
        assert_eq!(claimed.len(), 1, "expected a {kind} job to claim");
        claimed.remove(0)
    }

    fn find(&self, id: &str) -> JobRow {
        self.with(|conn| JobRow::find(conn, id).unwrap())
            .unwrap_or_else(|| panic!("job {id} is gone"))
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }
}

fn publish(post: &str) -> NewJob {
    NewJob::new("publish_post", &json!({ "post_id": post }))
}

#[test]
fn jobs_enqueued_in_a_transaction_roll_back_with_it() {
    let queue = Queue::new();
    let now = queue.clock.now();
    let mut rolled_back = None;

    let outcome: Result<(), diesel::result::Error> = queue.with(|conn| {
        conn.transaction(|conn| {
            rolled_back = Some(jobs::enqueue(conn, &publish("p1"), now)?);
            Err(diesel::result::Error::RollbackTransaction)
        })
    });
    let kept = queue.with(|conn| {
        conn.transaction(|conn| jobs::enqueue(conn, &publish("p2"), now))
            .unwrap()
    });

    assert!(outcome.is_err());
    let rolled_back = rolled_back.unwrap();
    assert!(matches!(rolled_back, Enqueued::Created(_)));
    assert!(
        queue
            .with(|conn| JobRow::find(conn, rolled_back.id()).unwrap())
            .is_none()
    );
    let kept = queue.find(kept.id());
    assert_eq!(kept.status, "queued");
    assert_eq!(kept.payload, r#"{"post_id":"p2"}"#);
    assert_eq!(kept.attempts, 0);
    assert_eq!(kept.run_at, now);
}

#[test]
fn an_unfinished_job_holds_its_unique_key() {
    let queue = Queue::new();
    let now = queue.clock.now();
    let job = publish("p1").unique_key("publish:p1:c1");

    // A duplicate inside the caller's transaction answers the first job and
    // leaves the transaction usable (PostgreSQL aborts it on an error).
    let (first, second, other) = queue.with(|conn| {
        conn.transaction(|conn| {
            let first = jobs::enqueue(conn, &job, now)?;
            let second = jobs::enqueue(conn, &job, now)?;
            let other = jobs::enqueue(conn, &publish("p2").unique_key("publish:p2:c1"), now)?;
            Ok::<_, diesel::result::Error>((first, second, other))
        })
        .unwrap()
    });
    let third = queue.enqueue(&job);

    assert!(matches!(first, Enqueued::Created(_)));
    assert_eq!(second, Enqueued::Existing(first.id().to_owned()));
    assert!(matches!(other, Enqueued::Created(_)));
    assert_eq!(third, Enqueued::Existing(first.id().to_owned()));

    // Running still holds it; finished releases it.
    let claimed = queue.claim_one("w1", "publish_post");
    assert_eq!(claimed.id, first.id());
    assert_eq!(
        queue.enqueue(&job),
        Enqueued::Existing(first.id().to_owned())
    );
    assert!(queue.with(|conn| jobs::complete(conn, &claimed, now).unwrap()));
    let again = queue.enqueue(&job);
    assert!(matches!(again, Enqueued::Created(_)));
    assert_ne!(again.id(), first.id());
    assert_eq!(
        queue.find(first.id()).unique_key.as_deref(),
        Some("publish:p1:c1"),
        "a finished job keeps its key for the record"
    );
}

#[test]
fn concurrent_workers_never_claim_a_job_twice() {
    let queue = Queue::new();
    let mut enqueued = HashSet::new();
    for i in 0..100 {
        enqueued.insert(queue.enqueue(&publish(&format!("p{i}"))).id().to_owned());
    }
    let workers = match queue.db.backend() {
        Backend::Postgres => 4,
        Backend::Sqlite => 2,
    };
    let now = queue.clock.now();
    let url = queue.database.url();

    // Each worker has its own pool, hence its own connection: on SQLite two
    // writers contend for the file, on PostgreSQL four for the rows.
    let claims: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    let db = Db::connect(url, 1).unwrap();
                    let mut conn = db.write_conn().unwrap();
                    let worker = format!("worker-{w}");
                    let mut mine = Vec::new();
                    loop {
                        let batch =
                            jobs::claim(&mut conn, &worker, &["publish_post"], 7, LEASE, now)
                                .unwrap();
                        if batch.is_empty() {
                            return mine;
                        }
                        for job in batch {
                            assert_eq!(job.worker, worker);
                            assert_eq!(job.fence, 1);
                            mine.push(job.id);
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let all: Vec<&String> = claims.iter().flatten().collect();
    let distinct: HashSet<String> = all.iter().map(|id| (*id).clone()).collect();
    assert_eq!(all.len(), 100, "claimed {} times for 100 jobs", all.len());
    assert_eq!(distinct, enqueued);
    assert!(queue.claim("late", &["publish_post"], 10).is_empty());
    for id in &enqueued {
        let job = queue.find(id);
        assert_eq!(job.status, "running");
        assert_eq!(job.attempts, 1);
    }
}

#[test]
fn workers_claim_due_jobs_of_their_kinds_oldest_first() {
    let queue = Queue::new();
    let now = queue.clock.now();
    let later = queue.enqueue(&publish("later").run_at(now + chrono::TimeDelta::seconds(30)));
    let first = queue.enqueue(&publish("first").run_at(now - chrono::TimeDelta::seconds(20)));
    let second = queue.enqueue(&publish("second").run_at(now - chrono::TimeDelta::seconds(10)));
    let refresh = queue.enqueue(&NewJob::new(
        "refresh_token",
        &json!({ "channel_id": "c1" }),
    ));

    let claimed = queue.claim("w1", &["publish_post"], 10);
    let nothing = queue.claim("w1", &[], 10);

    let ids: Vec<&str> = claimed.iter().map(|job| job.id.as_str()).collect();
    assert_eq!(ids, [first.id(), second.id()]);
    assert_eq!(
        claimed[0].lease_expires_at,
        now + chrono::TimeDelta::seconds(60)
    );
    assert_eq!(
        claimed[0].parse_payload::<serde_json::Value>().unwrap(),
        json!({ "post_id": "first" })
    );
    assert!(nothing.is_empty());
    assert_eq!(queue.find(later.id()).status, "queued");
    assert_eq!(queue.find(refresh.id()).status, "queued");
    queue.advance(30);
    assert_eq!(queue.claim("w1", &["publish_post"], 10)[0].id, later.id());
    assert_eq!(
        queue.claim("w2", &["publish_post", "refresh_token"], 10)[0].id,
        refresh.id()
    );
}

#[test]
fn a_claim_skips_the_jobs_another_claim_holds() {
    let queue = Queue::new();
    let now = queue.clock.now();
    let first = queue.enqueue(&publish("p1").run_at(now - chrono::TimeDelta::seconds(10)));
    let second = queue.enqueue(&publish("p2"));
    let mut conn = queue.db.write_conn().unwrap();

    match queue.db.backend() {
        Backend::Postgres => {
            let mut other = queue.db.write_conn().unwrap();
            // Waiting for the row lock would fail the test rather than hang it.
            other.batch_execute("SET lock_timeout = '5s'").unwrap();
            conn.transaction(|conn| {
                let mine = jobs::claim(conn, "w1", &["publish_post"], 1, LEASE, now)?;
                let theirs = jobs::claim(&mut other, "w2", &["publish_post"], 10, LEASE, now)?;
                assert_eq!(mine[0].id, first.id());
                assert_eq!(theirs.len(), 1);
                assert_eq!(theirs[0].id, second.id());
                Ok::<_, diesel::result::Error>(())
            })
            .unwrap();
        }
        Backend::Sqlite => {
            // A claim opens its own BEGIN IMMEDIATE; inside another
            // transaction it refuses rather than run unguarded.
            let refused =
                conn.transaction(|conn| jobs::claim(conn, "w1", &["publish_post"], 1, LEASE, now));
            assert!(matches!(
                refused,
                Err(diesel::result::Error::AlreadyInTransaction)
            ));
        }
    }
}

#[test]
fn an_expired_lease_is_rescued_and_its_old_worker_changes_nothing() {
    let queue = Queue::new();
    let job = queue.enqueue(&publish("p1"));
    let first = queue.claim_one("w1", "publish_post");

    // A heartbeat carries the lease past its first expiry.
    queue.advance(30);
    assert!(queue.with(|conn| jobs::heartbeat(conn, &first, LEASE, queue.clock.now()).unwrap()));
    queue.advance(40);
    assert_eq!(
        queue.with(|conn| jobs::rescue_expired(conn, queue.clock.now()).unwrap()),
        0
    );
    queue.advance(21);
    assert_eq!(
        queue.with(|conn| jobs::rescue_expired(conn, queue.clock.now()).unwrap()),
        1
    );
    let rescued = queue.find(job.id());
    assert_eq!(rescued.status, "queued");
    assert_eq!(rescued.lease_owner, None);
    assert!(rescued.last_error.unwrap().contains("lease expired"));

    let second = queue.claim_one("w2", "publish_post");
    let now = queue.clock.now();
    let late_heartbeat = queue.with(|conn| jobs::heartbeat(conn, &first, LEASE, now).unwrap());
    let late_complete = queue.with(|conn| jobs::complete(conn, &first, now).unwrap());
    let late_fail = queue.with(|conn| jobs::fail(conn, &first, "late", Retry::Never, now).unwrap());

    assert_eq!(second.id, first.id);
    assert!(second.fence > first.fence);
    assert_eq!(second.attempts, 2);
    assert!(!late_heartbeat && !late_complete && !late_fail);
    let running = queue.find(job.id());
    assert_eq!(running.status, "running");
    assert_eq!(running.lease_owner.as_deref(), Some("w2"));
    assert_eq!(running.fence, second.fence);

    assert!(queue.with(|conn| jobs::complete(conn, &second, now).unwrap()));
    let done = queue.find(job.id());
    assert_eq!(done.status, "succeeded");
    assert_eq!(done.finished_at, Some(now));
    assert_eq!(done.lease_owner, None);
}

#[test]
fn a_reclaim_by_the_same_worker_still_fences_out_its_old_claim() {
    let queue = Queue::new();
    queue.enqueue(&publish("p1"));
    let old = queue.claim_one("w1", "publish_post");
    queue.advance(61);
    queue.with(|conn| jobs::rescue_expired(conn, queue.clock.now()).unwrap());
    let new = queue.claim_one("w1", "publish_post");

    let now = queue.clock.now();
    assert!(!queue.with(|conn| jobs::complete(conn, &old, now).unwrap()));
    assert!(queue.with(|conn| jobs::complete(conn, &new, now).unwrap()));
}

#[test]
fn a_rescued_job_with_no_attempts_left_is_dead() {
    let queue = Queue::new();
    let job = queue.enqueue(&publish("p1").max_attempts(1));
    queue.claim_one("w1", "publish_post");
    queue.advance(61);

    let rescued = queue.with(|conn| jobs::rescue_expired(conn, queue.clock.now()).unwrap());

    assert_eq!(rescued, 1);
    let dead = queue.find(job.id());
    assert_eq!(dead.status, "dead");
    assert!(dead.last_error.unwrap().contains("lease expired"));
    assert!(queue.claim("w2", &["publish_post"], 1).is_empty());
}

#[test]
fn failures_back_off_then_the_job_dies_with_its_error() {
    let queue = Queue::new();
    let job = queue.enqueue(&publish("p1").max_attempts(3));
    let mut full_jitter = |ceiling: Duration| ceiling;

    for attempt in 1..=2u32 {
        let claimed = queue.claim_one("w1", "publish_post");
        let retry = Retry::backoff(attempt, &mut full_jitter);
        let now = queue.clock.now();
        assert!(queue.with(|conn| {
            jobs::fail(conn, &claimed, &format!("boom {attempt}"), retry, now).unwrap()
        }));

        let waiting = queue.find(job.id());
        assert_eq!(waiting.status, "queued");
        assert_eq!(
            waiting.last_error.as_deref(),
            Some(&*format!("boom {attempt}"))
        );
        let wait = 30 * 2u64.pow(attempt - 1);
        queue.advance(wait - 1);
        assert!(queue.claim("w1", &["publish_post"], 1).is_empty());
        queue.advance(1);
    }
    let last = queue.claim_one("w1", "publish_post");
    let retry = Retry::backoff(3, &mut full_jitter);
    let now = queue.clock.now();
    assert!(queue.with(|conn| jobs::fail(conn, &last, "boom 3", retry, now).unwrap()));

    let dead = queue.find(job.id());
    assert_eq!(dead.status, "dead");
    assert_eq!(dead.attempts, 3);
    assert_eq!(dead.last_error.as_deref(), Some("boom 3"));
    assert_eq!(dead.finished_at, Some(now));
    queue.advance(86_400);
    assert!(queue.claim("w1", &["publish_post"], 1).is_empty());
    let letters = queue.with(|conn| JobRow::list(conn, JobStatus::Dead, None, None, 10).unwrap());
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].id, job.id());
}

#[test]
fn a_dead_job_can_be_retried_by_hand() {
    let queue = Queue::new();
    let job = queue.enqueue(&publish("p1").unique_key("publish:p1:c1").max_attempts(1));
    let claimed = queue.claim_one("w1", "publish_post");
    let now = queue.clock.now();
    queue.with(|conn| jobs::fail(conn, &claimed, "refused", Retry::Never, now).unwrap());

    queue.advance(3_600);
    let now = queue.clock.now();
    let retried = queue.with(|conn| jobs::retry_dead(conn, job.id(), now).unwrap());
    let again = queue.with(|conn| jobs::retry_dead(conn, job.id(), now).unwrap());
    let unknown = queue.with(|conn| jobs::retry_dead(conn, "no-such-job", now).unwrap());

    assert_eq!(retried, RetriedDead::Requeued);
    assert_eq!(again, RetriedDead::NotDead);
    assert_eq!(unknown, RetriedDead::NotDead);
    let requeued = queue.find(job.id());
    assert_eq!(requeued.status, "queued");
    assert_eq!(requeued.attempts, 0);
    assert_eq!(requeued.run_at, now);
    assert_eq!(requeued.finished_at, None);
    assert_eq!(requeued.last_error.as_deref(), Some("refused"));
    assert_eq!(queue.claim_one("w1", "publish_post").attempts, 1);
}

#[test]
fn a_dead_job_stays_dead_while_another_holds_its_key() {
    let queue = Queue::new();
    let job = publish("p1").unique_key("publish:p1:c1").max_attempts(1);
    let dead = queue.enqueue(&job);
    let claimed = queue.claim_one("w1", "publish_post");
    let now = queue.clock.now();
    queue.with(|conn| jobs::fail(conn, &claimed, "refused", Retry::Never, now).unwrap());
    let successor = queue.enqueue(&job);

    let retried = queue.with(|conn| jobs::retry_dead(conn, dead.id(), now).unwrap());

    assert!(matches!(successor, Enqueued::Created(_)));
    assert_eq!(retried, RetriedDead::KeyTaken(successor.id().to_owned()));
    assert_eq!(queue.find(dead.id()).status, "dead");
}

#[test]
fn a_rate_limited_retry_waits_at_least_as_long_as_asked() {
    let queue = Queue::new();
    let job = queue.enqueue(&publish("p1").max_attempts(1));
    let claimed = queue.claim_one("w1", "publish_post");
    let now = queue.clock.now();

    let failed = queue
        .with(|conn| jobs::fail(conn, &claimed, "rate limited", Retry::After(120), now).unwrap());

    assert!(failed);
    let waiting = queue.find(job.id());
    assert_eq!(
        waiting.status, "queued",
        "being throttled spends no attempt"
    );
    assert_eq!(waiting.attempts, 0);
    queue.advance(119);
    assert!(queue.claim("w1", &["publish_post"], 1).is_empty());
    queue.advance(1);
    assert_eq!(queue.claim_one("w1", "publish_post").attempts, 1);
}
