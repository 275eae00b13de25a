//! The catalogue of events Plaza reports: what the live stream sends and
//! what webhook endpoints subscribe to. Names are `<subject>.<what happened>`;
//! a name, once published, keeps its meaning.

use serde::{Deserialize, Serialize};

use super::workflow::{PostAction, PostStatus};

macro_rules! event_types {
    ($($(#[doc = $doc:literal])+ $variant:ident => $name:literal,)+) => {
        /// An event type from the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum EventType {
            $(
                $(#[doc = $doc])+
                #[serde(rename = $name)]
                $variant,
            )+
        }

        impl EventType {
            /// Every event type, in catalogue order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)+];

            /// The event's name, as sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)+
                }
            }

            /// What the event means, for the catalogue.
            pub fn description(self) -> &'static str {
                match self {
                    $(EventType::$variant => concat!($($doc),+).trim_ascii(),)+
                }
            }
        }
    };
}

event_types! {
    /// A post was submitted for approval.
    PostSubmitted => "post.submitted",
    /// A post's author took it back from review.
    PostWithdrawn => "post.withdrawn",
    /// A post received all the approvals it needs.
    PostApproved => "post.approved",
    /// A reviewer asked for changes to a post.
    PostChangesRequested => "post.changes_requested",
    /// A post went back to draft.
    PostReopened => "post.reopened",
    /// An edit sent an approved or scheduled post back to review.
    PostReturnedToReview => "post.returned_to_review",
    /// A post was given a time to go out.
    PostScheduled => "post.scheduled",
    /// A post was taken off the schedule.
    PostUnscheduled => "post.unscheduled",
    /// A post was cancelled for good.
    PostCancelled => "post.cancelled",
    /// The publisher started sending a post to its channels.
    PostPublishing => "post.publishing",
    /// A post is on every one of its channels (`data.targets` lists where).
    PostPublished => "post.published",
    /// A post went out on some channels and failed on others.
    PostPartiallyPublished => "post.partially_published",
    /// A post went out on none of its channels (`data.targets` says why).
    PostFailed => "post.failed",
    /// A failed post's failed channels are being sent again.
    PostRetried => "post.retried",
    /// One channel was taken off a post's publishing by hand.
    PostTargetCancelled => "post.target_cancelled",
    /// A channel was connected.
    ChannelConnected => "channel.connected",
    /// A channel's credentials stopped working: someone must reconnect it.
    ChannelNeedsReconnect => "channel.needs_reconnect",
    /// A channel was paused: nothing is sent to it until it is resumed.
    ChannelPaused => "channel.paused",
    /// A paused channel was resumed.
    ChannelResumed => "channel.resumed",
    /// A channel was disconnected and removed.
    ChannelDisconnected => "channel.disconnected",
    /// An item arrived in the inbox (after the rules ran on it).
    InboxItemCreated => "inbox.item_created",
    /// An item's status, priority or tags changed.
    InboxItemUpdated => "inbox.item_updated",
    /// An item was assigned to a member, or unassigned.
    InboxItemAssigned => "inbox.item_assigned",
    /// An item was hidden, deleted, reported or its author blocked on the platform.
    InboxItemModerated => "inbox.item_moderated",
    /// A reply waits for someone's approval before it is sent.
    InboxReplyAwaitingApproval => "inbox.reply_awaiting_approval",
    /// A reply reached the platform.
    InboxReplySent => "inbox.reply_sent",
    /// A reply could not be sent (`data.error` says why).
    InboxReplyFailed => "inbox.reply_failed",
    /// A rule's `notify` action matched an item (`data.label` is the rule's label).
    InboxRuleNotified => "inbox.rule_notified",
    /// Negative items spiked against the recent baseline (`data.item_ids` drove it).
    InboxSpikeDetected => "inbox.spike_detected",
    /// A test delivery asked for by hand (sent only to the endpoint tested).
    WebhookTest => "webhook.test",
    /// A webhook endpoint was disabled after sustained failure or a `410 Gone`.
    WebhookDisabled => "webhook.endpoint_disabled",
}

impl EventType {
    /// Reads a name from the catalogue.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }

    /// The event a post's workflow step reports, if any: an approval that
    /// still waits for another approver reports nothing yet.
    pub fn for_post_step(action: PostAction, to: PostStatus) -> Option<Self> {
        Some(match action {
            PostAction::Submit => Self::PostSubmitted,
            PostAction::Withdraw => Self::PostWithdrawn,
            PostAction::Approve if to == PostStatus::Approved => Self::PostApproved,
            PostAction::Approve => return None,
            PostAction::RequestChanges => Self::PostChangesRequested,
            PostAction::Reopen => Self::PostReopened,
            PostAction::Edit => Self::PostReturnedToReview,
            PostAction::Schedule => Self::PostScheduled,
            PostAction::Unschedule => Self::PostUnscheduled,
            PostAction::Cancel => Self::PostCancelled,
            PostAction::StartPublishing => Self::PostPublishing,
            PostAction::FinishPublished => Self::PostPublished,
            PostAction::FinishPartially => Self::PostPartiallyPublished,
            PostAction::FinishFailed => Self::PostFailed,
            PostAction::Retry => Self::PostRetried,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_read_back() {
        let mut names: Vec<_> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventType::ALL.len());
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
            assert!(!t.description().is_empty());
            assert_eq!(
                serde_json::to_value(t).ok(),
                Some(serde_json::json!(t.as_str()))
            );
        }
        assert_eq!(EventType::parse("post.exploded"), None);
    }

    #[test]
    fn every_workflow_step_but_a_partial_approval_reports_an_event() {
        for action in PostAction::ALL {
            for to in PostStatus::ALL {
                let reported = EventType::for_post_step(action, to);
                let partial_approval = action == PostAction::Approve && to != PostStatus::Approved;
                assert_eq!(reported.is_none(), partial_approval, "{action:?} → {to:?}");
            }
        }
    }
}
