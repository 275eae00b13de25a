//! The metrics machinery: reading numbers from the platforms and answering
//! questions about them.
//!
//! - **Collection** ([`collection`]). A `metrics.collect` job per channel
//!   reads the account's metrics daily and each recent post's on a
//!   decaying schedule, through the channel's plugin, and stores every
//!   value as a sample with its gain, rolled up by hour and by day.
//! - **Reports** ([`report`]). A metric over time, split by channel, post,
//!   campaign or tag, at hour, day, week or month granularity, with the
//!   period before for comparison: one grouped scan of the roll-ups.

pub mod collection;
pub mod inbox_report;
pub mod objectives;
pub mod report;
pub mod share_of_voice;
