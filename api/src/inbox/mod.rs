//! The inbox's machinery: taking items in (polling and platform webhooks),
//! running the rules on them, and acting on the platform for the team.
//!
//! - **Ingestion** ([`ingest`]). Items from a plugin go through one
//!   pipeline, whichever way they came: de-duplicated by (channel, remote
//!   id) within the batch, against the database and, for a race between a
//!   poll and a webhook, by the unique index itself; the author becomes a
//!   contact; language and sentiment are read; the workspace's rules run;
//!   the SLA clock starts; then the batch is stored in one transaction with
//!   its moderation-log entries and events.
//! - **Polling** ([`polling`]). An `inbox.poll` job per channel reads each
//!   stream the plugin offers from its stored cursor: mentions, direct
//!   messages, comments under the brand's recent posts, and listening
//!   queries.
//! - **Platform actions** ([`actions`]). Hiding, deleting, blocking and
//!   replying go through the channel's plugin; what rules decide runs as a
//!   job after the item is stored.
//! - **Spikes** ([`spikes`]). An hourly sweep compares each workspace's
//!   negative volume with its recent baseline.

pub mod actions;
pub mod engine;
pub mod ingest;
pub mod polling;
pub mod replies;
pub mod spikes;

pub use engine::InboxEngine;
