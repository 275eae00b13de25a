//! The activity log and its live feed.
//!
//! Every change worth telling a frontend or an integration about is
//! [`record`]ed in the same transaction as the change, as a row of
//! `activity_events` numbered in commit order per workspace. The log is the
//! one source of the live stream (`GET /v1/workspaces/{id}/events`, resumed
//! with `Last-Event-ID`) and of webhook deliveries, so neither can report a
//! change that was rolled back, nor miss one that committed.
//!
//! [`Feed`] wakes the streams of a process when their workspace's log grows.
//! On PostgreSQL it listens for the `plaza_activity` notifications that
//! [`record`] sends on commit, so a change made by any replica reaches the
//! streams of every replica; SQLite is one process, and the feed looks at
//! the log's end a few times a second.

use std::sync::{Arc, Once, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::db::activity::{ActivityRow, NewActivityRow};
use crate::db::{Backend, Db, DbConn};
use crate::domain::activity::EventType;

/// One event as the stream and webhooks send it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActivityEvent {
    /// `evt_…`: the same in the stream and in every webhook delivery
    /// (`webhook-id`), so a receiver can drop duplicates.
    #[schema(example = "evt_0193c4d1a2b37c4e9f0a1b2c3d4e5f60")]
    pub id: String,
    /// Position in the workspace's log; the stream's event id, which
    /// `Last-Event-ID` resumes after.
    pub seq: i64,
    /// What happened.
    #[serde(rename = "type")]
    #[schema(value_type = EventType)]
    pub event_type: String,
    /// When (RFC 3339, UTC).
    pub timestamp: DateTime<Utc>,
    /// The workspace.
    pub workspace_id: String,
    /// Details; their shape depends on the type (see the catalogue).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl ActivityEvent {
    /// The stored row as sent.
    pub fn from_row(row: ActivityRow) -> Self {
        Self {
            data: serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null),
            id: row.id,
            seq: row.seq,
            event_type: row.event_type,
            timestamp: row.occurred_at.and_utc(),
            workspace_id: row.workspace_id,
        }
    }
}

/// Records an event inside the caller's transaction: it exists exactly when
/// the change it reports does, and so do its webhook deliveries.
pub fn record(
    conn: &mut DbConn,
    workspace_id: &str,
    event: EventType,
    subject_id: Option<&str>,
    data: &serde_json::Value,
) -> QueryResult<ActivityRow> {
    let id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    let data = data.to_string();
    let row = NewActivityRow {
        id: &id,
        workspace_id,
        event_type: event.as_str(),
        subject_id,
        data: &data,
        occurred_at: crate::db::now(),
    }
    .append(conn)?;
    crate::webhooks::fan_out(conn, &row)?;
    Ok(row)
}

/// Records several events of one workspace inside the caller's transaction
/// (one lock, one notification, one look at the webhook endpoints): what
/// ingestion uses, where a batch brings hundreds of items at once.
pub fn record_many(
    conn: &mut DbConn,
    workspace_id: &str,
    events: &[(EventType, Option<&str>, serde_json::Value)],
) -> QueryResult<Vec<ActivityRow>> {
    let now = crate::db::now();
    let ids: Vec<String> = events
        .iter()
        .map(|_| format!("evt_{}", uuid::Uuid::now_v7().simple()))
        .collect();
    let data: Vec<String> = events.iter().map(|(_, _, d)| d.to_string()).collect();
    let rows: Vec<NewActivityRow<'_>> = events
        .iter()
        .zip(ids.iter().zip(&data))
        .map(|((event, subject, _), (id, data))| NewActivityRow {
            id,
            workspace_id,
            event_type: event.as_str(),
            subject_id: *subject,
            data,
            occurred_at: now,
        })
        .collect();
    let stored = crate::db::activity::append_many(conn, workspace_id, &rows)?;
    crate::webhooks::fan_out_many(conn, workspace_id, &stored)?;
    Ok(stored)
}

/// How often SQLite's log end is looked at, and how long a PostgreSQL
/// listener idles between looks at its socket.
const LOOK_EVERY: Duration = Duration::from_millis(150);

/// Wakes a process's streams when a workspace's log grows. Cheap to clone;
/// the watcher starts with the first subscriber.
#[derive(Clone)]
pub struct Feed {
    db: Db,
    sender: Arc<broadcast::Sender<Arc<str>>>,
    started: Arc<Once>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed").finish_non_exhaustive()
    }
}

/// The name every subscriber hears: "look again, whatever your workspace"
/// (after the watcher reconnected and may have missed notifications).
pub const EVERY_WORKSPACE: &str = "*";

impl Feed {
    /// A feed over `db` (nothing runs until someone subscribes).
    pub fn new(db: Db) -> Self {
        let (sender, _) = broadcast::channel(1024);
        Self {
            db,
            sender: Arc::new(sender),
            started: Arc::new(Once::new()),
        }
    }

    /// Hears the ids of workspaces whose log grew (or [`EVERY_WORKSPACE`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        let receiver = self.sender.subscribe();
        self.started.call_once(|| {
            // The watcher holds the sender weakly: when the server (every
            // clone of its state) is gone, it stops.
            let (db, sender) = (self.db.clone(), Arc::downgrade(&self.sender));
            let spawned = std::thread::Builder::new()
                .name("plaza-activity-feed".to_owned())
                .spawn(move || watch(&db, &sender));
            if let Err(err) = spawned {
                tracing::error!(error = %err, "the activity feed could not start; streams fall back to polling");
            }
        });
        receiver
    }
}

/// The watcher's loop: it runs while the feed does; a lost connection is
/// reopened after a pause.
fn watch(db: &Db, sender: &Weak<broadcast::Sender<Arc<str>>>) {
    loop {
        let result = match db.backend() {
            Backend::Postgres => listen(db, sender),
            Backend::Sqlite => poll(db, sender),
        };
        match result {
            Ok(()) => return,
            Err(err) => tracing::warn!(error = %err, "activity feed lost the database; retrying"),
        }
        std::thread::sleep(Duration::from_secs(1));
        // Anything may have happened while it was away.
        if !tell(sender, EVERY_WORKSPACE) {
            return;
        }
    }
}

/// Tells the feed's subscribers about `workspace`; false once the feed is gone.
fn tell(sender: &Weak<broadcast::Sender<Arc<str>>>, workspace: &str) -> bool {
    let Some(sender) = sender.upgrade() else {
        return false;
    };
    // No receivers is fine: nobody is streaming right now.
    let _ = sender.send(Arc::from(workspace));
    true
}

fn listen(db: &Db, sender: &Weak<broadcast::Sender<Arc<str>>>) -> anyhow::Result<()> {
    use diesel::RunQueryDsl;
    let DbConn::Postgres(mut pg) = db.dedicated_conn()? else {
        anyhow::bail!("not a PostgreSQL connection");
    };
    diesel::sql_query("LISTEN plaza_activity").execute(&mut pg)?;
    // Whatever committed before the LISTEN took hold was not heard: every
    // stream looks once more.
    if !tell(sender, EVERY_WORKSPACE) {
        return Ok(());
    }
    loop {
        let mut heard = false;
        for notification in pg.notifications_iter() {
            heard = true;
            if !tell(sender, &notification?.payload) {
                return Ok(());
            }
        }
        if !heard {
            if sender.strong_count() == 0 {
                return Ok(());
            }
            std::thread::sleep(LOOK_EVERY);
        }
    }
}

fn poll(db: &Db, sender: &Weak<broadcast::Sender<Arc<str>>>) -> anyhow::Result<()> {
    let mut last = ActivityRow::last_seq_overall(&mut *db.read_conn()?)?;
    // Streams opened before the watcher read the log's end look once more.
    if !tell(sender, EVERY_WORKSPACE) {
        return Ok(());
    }
    loop {
        std::thread::sleep(LOOK_EVERY);
        if sender.strong_count() == 0 {
            return Ok(());
        }
        for (workspace, seq) in ActivityRow::workspaces_after(&mut *db.read_conn()?, last)? {
            last = last.max(seq);
            if !tell(sender, &workspace) {
                return Ok(());
            }
        }
    }
}
