//! The approval workflow of a post: its statuses, the actions that move it,
//! and the one function that says where an action leads.
//!
//! ```text
//! draft ──submit──▶ in_review ──approve (enough)──▶ approved ──schedule──▶ scheduled
//!   ▲                 │   │                          │   ▲                   │
//!   │  (no approval   │   └──request_changes──▶ changes_requested           │
//!   │   needed: submit│                              │ edit / reopen        │ cancel
//!   │   approves)     │withdraw                      ▼                      ▼
//!   └─────────────────┴──────────────────────────── draft               cancelled
//! scheduled ──start_publishing──▶ publishing ──▶ published | partially_published | failed
//! partially_published | failed ──retry──▶ publishing
//! ```
//!
//! Editing an approved or scheduled post sends it back to review.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a post is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostStatus {
    /// Being written; only its authors see it as work in progress.
    Draft,
    /// Waiting for approval.
    InReview,
    /// A reviewer asked for changes.
    ChangesRequested,
    /// Approved; not yet given a time.
    Approved,
    /// Approved and given a time; the publisher will send it.
    Scheduled,
    /// Being sent to its channels.
    Publishing,
    /// Sent to every channel.
    Published,
    /// Sent to some channels; others failed.
    PartiallyPublished,
    /// Sent to no channel.
    Failed,
    /// Taken off the schedule for good.
    Cancelled,
}

impl PostStatus {
    /// Every status, in workflow order.
    pub const ALL: [PostStatus; 10] = [
        PostStatus::Draft,
        PostStatus::InReview,
        PostStatus::ChangesRequested,
        PostStatus::Approved,
        PostStatus::Scheduled,
        PostStatus::Publishing,
        PostStatus::Published,
        PostStatus::PartiallyPublished,
        PostStatus::Failed,
        PostStatus::Cancelled,
    ];

    /// The name stored and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            PostStatus::Draft => "draft",
            PostStatus::InReview => "in_review",
            PostStatus::ChangesRequested => "changes_requested",
            PostStatus::Approved => "approved",
            PostStatus::Scheduled => "scheduled",
            PostStatus::Publishing => "publishing",
            PostStatus::Published => "published",
            PostStatus::PartiallyPublished => "partially_published",
            PostStatus::Failed => "failed",
            PostStatus::Cancelled => "cancelled",
        }
    }

    /// Reads a stored status.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether people may still change the post's content in this status.
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            PostStatus::Draft
                | PostStatus::ChangesRequested
                | PostStatus::Approved
                | PostStatus::Scheduled
        )
    }
}

impl fmt::Display for PostStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that moves a post from one status to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostAction {
    /// Ask for approval (or approve at once where none is needed).
    Submit,
    /// Take a post back out of review to keep working on it.
    Withdraw,
    /// One reviewer's approval.
    Approve,
    /// A reviewer sends it back with a reason.
    RequestChanges,
    /// Start editing again after changes were requested.
    Reopen,
    /// The content changed.
    Edit,
    /// Give an approved post its time.
    Schedule,
    /// Take a scheduled post off the schedule, keeping its approval.
    Unschedule,
    /// Take a scheduled post off the schedule for good.
    Cancel,
    /// The publisher starts sending it.
    StartPublishing,
    /// The publisher finished: every target published.
    FinishPublished,
    /// The publisher finished: some targets published.
    FinishPartially,
    /// The publisher finished: no target published.
    FinishFailed,
    /// Send the targets that failed again.
    Retry,
}

impl PostAction {
    /// Every action.
    pub const ALL: [PostAction; 14] = [
        PostAction::Submit,
        PostAction::Withdraw,
        PostAction::Approve,
        PostAction::RequestChanges,
        PostAction::Reopen,
        PostAction::Edit,
        PostAction::Schedule,
        PostAction::Unschedule,
        PostAction::Cancel,
        PostAction::StartPublishing,
        PostAction::FinishPublished,
        PostAction::FinishPartially,
        PostAction::FinishFailed,
        PostAction::Retry,
    ];

    /// The name stored in the history.
    pub fn as_str(self) -> &'static str {
        match self {
            PostAction::Submit => "submit",
            PostAction::Withdraw => "withdraw",
            PostAction::Approve => "approve",
            PostAction::RequestChanges => "request_changes",
            PostAction::Reopen => "reopen",
            PostAction::Edit => "edit",
            PostAction::Schedule => "schedule",
            PostAction::Unschedule => "unschedule",
            PostAction::Cancel => "cancel",
            PostAction::StartPublishing => "start_publishing",
            PostAction::FinishPublished => "finish_published",
            PostAction::FinishPartially => "finish_partially",
            PostAction::FinishFailed => "finish_failed",
            PostAction::Retry => "retry",
        }
    }

    /// Reads a stored action name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

/// What the workflow needs to know besides the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Review {
    /// Whether the person submitting needs someone else's approval.
    pub needs_approval: bool,
    /// Approvals given in this round, this one included (for `Approve`).
    pub approvals: u32,
    /// Approvals the post needs.
    pub required: u32,
}

impl Review {
    /// For actions where approvals do not matter.
    pub const NONE: Review = Review {
        needs_approval: true,
        approvals: 0,
        required: 1,
    };
}

/// Why an action cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a post that is {from} cannot be {action}")]
pub struct NotAllowed {
    /// The post's status.
    pub from: PostStatus,
    /// What was tried, in words (`submitted`, `approved`...).
    pub action: &'static str,
}

fn past_tense(action: PostAction) -> &'static str {
    match action {
        PostAction::Submit => "submitted",
        PostAction::Withdraw => "withdrawn",
        PostAction::Approve => "approved",
        PostAction::RequestChanges => "sent back for changes",
        PostAction::Reopen => "reopened",
        PostAction::Edit => "edited",
        PostAction::Schedule => "scheduled",
        PostAction::Unschedule => "unscheduled",
        PostAction::Cancel => "cancelled",
        PostAction::StartPublishing => "published now",
        PostAction::FinishPublished | PostAction::FinishPartially | PostAction::FinishFailed => {
            "finished publishing"
        }
        PostAction::Retry => "retried",
    }
}

/// Where `action` takes a post in `from`: the workflow's only rule book.
#[expect(
    clippy::match_same_arms,
    reason = "one arm per transition reads as the table it is"
)]
pub fn next(
    from: PostStatus,
    action: PostAction,
    review: Review,
) -> Result<PostStatus, NotAllowed> {
    use PostAction as A;
    use PostStatus as S;
    let to = match (from, action) {
        (S::Draft, A::Submit) if review.needs_approval => Some(S::InReview),
        (S::Draft, A::Submit) => Some(S::Approved),
        (S::InReview, A::Withdraw) => Some(S::Draft),
        (S::InReview, A::Approve) if review.approvals >= review.required => Some(S::Approved),
        (S::InReview, A::Approve) => Some(S::InReview),
        (S::InReview, A::RequestChanges) => Some(S::ChangesRequested),
        (S::ChangesRequested, A::Reopen | A::Edit) => Some(S::Draft),
        (S::Draft, A::Edit) => Some(S::Draft),
        // Changing approved content needs a new review.
        (S::Approved | S::Scheduled, A::Edit) if review.needs_approval => Some(S::InReview),
        (S::Approved | S::Scheduled, A::Edit) => Some(from),
        (S::Approved, A::Schedule) => Some(S::Scheduled),
        (S::Scheduled, A::Schedule) => Some(S::Scheduled),
        (S::Scheduled, A::Unschedule) => Some(S::Approved),
        (S::Scheduled, A::Cancel) => Some(S::Cancelled),
        (S::Scheduled, A::StartPublishing) => Some(S::Publishing),
        (S::Publishing, A::FinishPublished) => Some(S::Published),
        (S::Publishing, A::FinishPartially) => Some(S::PartiallyPublished),
        (S::Publishing, A::FinishFailed) => Some(S::Failed),
        (S::Failed | S::PartiallyPublished, A::Retry) => Some(S::Publishing),
        _ => None,
    };
    to.ok_or(NotAllowed {
        from,
        action: past_tense(action),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use PostAction as A;
    use PostStatus as S;

    const NEEDS: Review = Review {
        needs_approval: true,
        approvals: 1,
        required: 2,
    };
    const ENOUGH: Review = Review {
        needs_approval: true,
        approvals: 2,
        required: 2,
    };
    const TRUSTED: Review = Review {
        needs_approval: false,
        approvals: 0,
        required: 1,
    };

    /// Every (status, action) pair that is allowed, with where it leads for
    /// a person who needs approval and enough approvals given.
    fn allowed() -> Vec<(S, A, S)> {
        vec![
            (S::Draft, A::Submit, S::InReview),
            (S::Draft, A::Edit, S::Draft),
            (S::InReview, A::Withdraw, S::Draft),
            (S::InReview, A::Approve, S::Approved),
            (S::InReview, A::RequestChanges, S::ChangesRequested),
            (S::ChangesRequested, A::Reopen, S::Draft),
            (S::ChangesRequested, A::Edit, S::Draft),
            (S::Approved, A::Edit, S::InReview),
            (S::Approved, A::Schedule, S::Scheduled),
            (S::Scheduled, A::Edit, S::InReview),
            (S::Scheduled, A::Schedule, S::Scheduled),
            (S::Scheduled, A::Unschedule, S::Approved),
            (S::Scheduled, A::Cancel, S::Cancelled),
            (S::Scheduled, A::StartPublishing, S::Publishing),
            (S::Publishing, A::FinishPublished, S::Published),
            (S::Publishing, A::FinishPartially, S::PartiallyPublished),
            (S::Publishing, A::FinishFailed, S::Failed),
            (S::Failed, A::Retry, S::Publishing),
            (S::PartiallyPublished, A::Retry, S::Publishing),
        ]
    }

    #[test]
    fn every_status_and_action_pair_follows_the_table() {
        let allowed = allowed();
        for from in S::ALL {
            for action in A::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                let got = next(from, action, ENOUGH).ok();
                assert_eq!(got, expected, "{from} + {action:?}");
            }
        }
        assert_eq!(S::ALL.len() * A::ALL.len(), 140);
    }

    #[test]
    fn approval_waits_for_enough_reviewers() {
        assert_eq!(next(S::InReview, A::Approve, NEEDS), Ok(S::InReview));
        assert_eq!(next(S::InReview, A::Approve, ENOUGH), Ok(S::Approved));
    }

    #[test]
    fn people_who_need_no_approval_skip_review() {
        assert_eq!(next(S::Draft, A::Submit, TRUSTED), Ok(S::Approved));
        assert_eq!(next(S::Approved, A::Edit, TRUSTED), Ok(S::Approved));
        assert_eq!(next(S::Scheduled, A::Edit, TRUSTED), Ok(S::Scheduled));
        assert_eq!(next(S::Approved, A::Edit, NEEDS), Ok(S::InReview));
    }

    #[test]
    fn finished_posts_are_final() {
        for from in [S::Published, S::PartiallyPublished, S::Failed, S::Cancelled] {
            for action in A::ALL.into_iter().filter(|a| *a != A::Retry) {
                assert!(next(from, action, ENOUGH).is_err(), "{from} {action:?}");
            }
            assert!(!from.is_editable());
        }
        // Only what failed can be sent again.
        assert!(next(S::Published, A::Retry, ENOUGH).is_err());
        assert!(next(S::Cancelled, A::Retry, ENOUGH).is_err());
    }

    #[test]
    fn refusals_say_what_and_from_where() {
        let err = next(S::Draft, A::Approve, ENOUGH).unwrap_err();
        assert_eq!(err.to_string(), "a post that is draft cannot be approved");
    }

    #[test]
    fn names_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        for a in A::ALL {
            assert_eq!(A::parse(a.as_str()), Some(a));
        }
    }
}
