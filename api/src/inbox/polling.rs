//! Polling: an `inbox.poll` job per channel reads every stream its plugin
//! offers (mentions, direct messages, comments under the brand's posts of
//! the last week, listening queries) from where the last poll stopped, and
//! takes what it finds in through [`super::ingest`]. The worker's sweep
//! enqueues a poll for every connected channel not polled for
//! `inbox_poll_secs`; `POST …/channels/{id}/inbox/poll` asks for one now.

use chrono::{Duration, NaiveDateTime};
use diesel::QueryResult;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::channels::ChannelRow;
use crate::db::inbox::{InboxCursorRow, POLL_MARKER};
use crate::db::inbox_rules::ListeningQueryRow;
use crate::db::publish_targets::PublishTargetRow;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::jobs::{self, ClaimedJob, NewJob, Retry};
use crate::plugins::bindings::{Capabilities, Page};
use crate::plugins::channels::{fresh_context, note_failure, plugin_for};
use crate::plugins::{CallContext, CallError, LoadedPlugin, PluginFault};
use crate::state::AppState;
use crate::worker::{JobFailure, JobOutcome};

use super::ingest::{IncomingItem, Source, take_in};

/// The job kind that polls one channel.
pub const POLL: &str = "inbox.poll";
/// Items asked for per page.
const PAGE_SIZE: u32 = 50;
/// Pages read per stream per poll: a backlog drains over several polls.
const MAX_PAGES: usize = 10;
/// How far back the brand's posts have their comments read.
const COMMENT_WINDOW_DAYS: i64 = 7;
/// Most posts whose comments one poll reads.
const MAX_POSTS: i64 = 20;
/// Channels enqueued per sweep.
const SWEEP_BATCH: i64 = 100;

#[derive(Debug, serde::Deserialize)]
struct PollPayload {
    channel_id: String,
}

/// Enqueues a poll for every connected channel not polled for the
/// configured interval (a sweep the worker runs before it claims).
pub fn enqueue_due(conn: &mut DbConn, now: NaiveDateTime, interval_secs: u64) -> QueryResult<()> {
    if interval_secs == 0 {
        return Ok(());
    }
    let before = now - Duration::seconds(i64::try_from(interval_secs).unwrap_or(i64::MAX / 2));
    for (channel_id, workspace_id) in ChannelRow::due_for_inbox_poll(conn, before, SWEEP_BATCH)? {
        enqueue(conn, &channel_id, &workspace_id, now)?;
    }
    Ok(())
}

/// Enqueues a poll of one channel (a channel already waiting keeps its job).
pub fn enqueue(
    conn: &mut DbConn,
    channel_id: &str,
    workspace_id: &str,
    now: NaiveDateTime,
) -> QueryResult<jobs::Enqueued> {
    let job = NewJob::new(POLL, &serde_json::json!({ "channel_id": channel_id }))
        .in_workspace(workspace_id.to_owned())
        .unique_key(format!("inbox-poll:{channel_id}"))
        .max_attempts(3)
        .run_at(now);
    jobs::enqueue(conn, &job, now)
}

/// Runs one claimed `inbox.poll` job.
pub async fn handle(state: &AppState, job: &ClaimedJob) -> JobOutcome {
    let payload = job
        .parse_payload::<PollPayload>()
        .map_err(|err| JobFailure::with(format!("unreadable payload: {err}"), Retry::Never))?;
    let report = poll(state, &payload.channel_id).await?;
    match report.rate_limited {
        Some(secs) => Err(JobFailure::with(
            "the platform asked to slow down",
            Retry::After(u64::from(secs)),
        )),
        None => Ok(()),
    }
}

/// What one poll of a channel found.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct PollReport {
    /// Items the plugin returned.
    pub received: usize,
    /// Items new to the inbox.
    pub created: usize,
    /// Streams read, with what went wrong on each.
    pub streams: Vec<StreamReport>,
    /// Seconds the platform asked to wait, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<u32>,
}

/// One stream of one poll.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StreamReport {
    /// `mentions`, `messages`, `comments:<remote post id>` or `search:<query id>`.
    pub stream: String,
    /// Items the plugin returned.
    pub received: usize,
    /// Items new to the inbox.
    pub created: usize,
    /// Why reading it failed.
    pub error: Option<String>,
}

/// One thing a channel's plugin can be asked for.
enum Stream {
    Mentions,
    Messages,
    Comments(String),
    Search { query_id: String, query: String },
}

impl Stream {
    fn name(&self) -> String {
        match self {
            Self::Mentions => "mentions".to_owned(),
            Self::Messages => "messages".to_owned(),
            Self::Comments(post) => format!("comments:{post}"),
            Self::Search { query_id, .. } => format!("search:{query_id}"),
        }
    }

    async fn page(
        &self,
        state: &AppState,
        plugin: &LoadedPlugin,
        context: CallContext,
        cursor: Option<String>,
    ) -> Result<Page, CallError> {
        let plugins = &state.plugins;
        match self {
            Self::Mentions => {
                plugins
                    .fetch_mentions(plugin, context, cursor, PAGE_SIZE)
                    .await
            }
            Self::Messages => {
                plugins
                    .fetch_messages(plugin, context, cursor, PAGE_SIZE)
                    .await
            }
            Self::Comments(post) => {
                plugins
                    .fetch_comments(plugin, context, post.clone(), cursor, PAGE_SIZE)
                    .await
            }
            Self::Search { query, .. } => {
                plugins
                    .search(plugin, context, query.clone(), cursor, PAGE_SIZE)
                    .await
            }
        }
    }

    fn query_id(&self) -> Option<&str> {
        match self {
            Self::Search { query_id, .. } => Some(query_id),
            _ => None,
        }
    }
}

/// Polls every stream of one channel now.
pub async fn poll(state: &AppState, channel_id: &str) -> Result<PollReport, ApiError> {
    let id = channel_id.to_owned();
    let since = db::now() - Duration::days(COMMENT_WINDOW_DAYS);
    let loaded = state
        .db
        .read(move |conn| {
            let Some(channel) = ChannelRow::find_any(conn, &id)? else {
                return Ok::<_, ApiError>(None);
            };
            let posts = PublishTargetRow::published_since(conn, &id, since, MAX_POSTS)?;
            let queries = ListeningQueryRow::enabled_for_channel(conn, &id)?;
            Ok(Some((channel, posts, queries)))
        })
        .await?;
    let Some((channel, posts, queries)) = loaded else {
        return Err(ApiError::NotFound("channel"));
    };
    let mut report = PollReport::default();
    if channel.status != "connected" {
        return Ok(report);
    }
    let plugin = plugin_for(state, &channel)?;
    let can = |flag| plugin.manifest.can(flag);
    let mut streams = Vec::new();
    if can(Capabilities::MENTIONS) {
        streams.push(Stream::Mentions);
    }
    if can(Capabilities::DIRECT_MESSAGES) {
        streams.push(Stream::Messages);
    }
    if can(Capabilities::COMMENTS) {
        streams.extend(posts.into_iter().map(Stream::Comments));
    }
    if can(Capabilities::SEARCH) {
        streams.extend(queries.into_iter().map(|q| Stream::Search {
            query_id: q.id,
            query: q.query,
        }));
    }
    let (context, channel) = fresh_context(state, &plugin, channel).await?;
    for stream in streams {
        let read = read_stream(state, &plugin, &context, &channel, &stream).await;
        report.received += read.received;
        report.created += read.created;
        let stop = matches!(
            read.fault,
            Some(CallError::Plugin(
                PluginFault::Unauthorized(_) | PluginFault::RateLimited(_)
            ))
        );
        if let Some(CallError::Plugin(PluginFault::RateLimited(secs))) = &read.fault {
            report.rate_limited = Some(secs.unwrap_or(60));
        }
        if let Some(err) = &read.fault {
            note_failure(state, &channel, err).await?;
        }
        report.streams.push(StreamReport {
            stream: stream.name(),
            received: read.received,
            created: read.created,
            error: read.error,
        });
        if stop {
            break;
        }
    }
    let marker = InboxCursorRow {
        channel_id: channel.id.clone(),
        stream: POLL_MARKER.to_owned(),
        cursor: None,
        polled_at: db::now(),
        error: None,
    };
    state
        .db
        .write(move |conn| marker.save(conn).map_err(ApiError::from))
        .await?;
    Ok(report)
}

struct StreamRead {
    received: usize,
    created: usize,
    error: Option<String>,
    fault: Option<CallError>,
}

/// Reads one stream page after page from its cursor, storing each page
/// before asking for the next (so a failure keeps what came before it).
async fn read_stream(
    state: &AppState,
    plugin: &LoadedPlugin,
    context: &CallContext,
    channel: &ChannelRow,
    stream: &Stream,
) -> StreamRead {
    let name = stream.name();
    let mut read = StreamRead {
        received: 0,
        created: 0,
        error: None,
        fault: None,
    };
    let (channel_id, key) = (channel.id.clone(), name.clone());
    let mut cursor = match state
        .db
        .read(move |conn| InboxCursorRow::find(conn, &channel_id, &key).map_err(ApiError::from))
        .await
    {
        Ok(row) => row.and_then(|row| row.cursor),
        Err(err) => {
            read.error = Some(err.to_string());
            return read;
        }
    };
    for _ in 0..MAX_PAGES {
        let page = match stream
            .page(state, plugin, context.clone(), cursor.clone())
            .await
        {
            Ok(page) => page,
            Err(err) => {
                read.error = Some(err.to_string());
                read.fault = Some(err);
                break;
            }
        };
        let now = db::now();
        let items: Vec<IncomingItem> = page
            .items
            .into_iter()
            .map(|item| IncomingItem::from_plugin(item, now, stream.query_id()))
            .collect();
        let empty = items.is_empty();
        read.received += items.len();
        match take_in(state, channel, Source::Poll, items, None).await {
            Ok(outcome) => read.created += outcome.created.len(),
            Err(err) => {
                read.error = Some(err.to_string());
                break;
            }
        }
        let advanced = page.next_cursor.is_some() && page.next_cursor != cursor;
        if page.next_cursor.is_some() {
            cursor = page.next_cursor;
        }
        if empty || !advanced {
            break;
        }
    }
    let row = InboxCursorRow {
        channel_id: channel.id.clone(),
        stream: name,
        cursor,
        polled_at: db::now(),
        error: read.error.clone(),
    };
    if let Err(err) = state
        .db
        .write(move |conn| row.save(conn).map_err(ApiError::from))
        .await
    {
        read.error.get_or_insert(err.to_string());
    }
    read
}
