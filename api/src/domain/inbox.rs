//! The inbox's vocabulary: what an item is, where it stands, how urgent it is.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// Reads a wire name.
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == raw)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// What kind of conversation an inbox item is.
    ItemKind {
        /// Someone named the brand's account.
        Mention => "mention",
        /// A reply under one of the brand's posts.
        Comment => "comment",
        /// A private message to the brand's account.
        DirectMessage => "direct_message",
        /// A review of the brand (stars and text).
        Review => "review",
        /// A public post found by a listening query.
        ListeningHit => "listening_hit",
    }
);

wire_enum!(
    /// Where an inbox item stands in the team's work.
    ItemStatus {
        /// Needs someone.
        Open => "open",
        /// Waiting on someone outside the team (the author, another department).
        Pending => "pending",
        /// Done.
        Resolved => "resolved",
        /// Junk; kept out of the working views.
        Spam => "spam",
        /// Hidden from view (and on the platform where it allows).
        Hidden => "hidden",
    }
);

wire_enum!(
    /// How soon an inbox item needs an answer.
    Priority {
        /// When there is time.
        Low => "low",
        /// The default.
        Normal => "normal",
        /// Before normal work.
        High => "high",
        /// Now: a complaint going viral, a safety issue.
        Urgent => "urgent",
    }
);

wire_enum!(
    /// Where a reply written in Plaza stands.
    ReplyStatus {
        /// Waits for a member allowed to approve it.
        AwaitingApproval => "awaiting_approval",
        /// Will be sent by the worker.
        Queued => "queued",
        /// Being sent now.
        Sending => "sending",
        /// On the platform.
        Sent => "sent",
        /// The platform refused it (`error` says why).
        Failed => "failed",
        /// A send was interrupted and the platform cannot say whether it
        /// went out: someone should look before sending again.
        NeedsReview => "needs_review",
        /// An approver turned it down.
        Rejected => "rejected",
    }
);

wire_enum!(
    /// What can be done to an item (or its author) on the platform.
    ModerationAction {
        /// Hide it from the public.
        Hide => "hide",
        /// Show a hidden item again.
        Unhide => "unhide",
        /// Delete it.
        Delete => "delete",
        /// Block its author.
        BlockAuthor => "block_author",
        /// Mute its author.
        MuteAuthor => "mute_author",
        /// Report it to the platform (a blog marks it as spam).
        Report => "report",
    }
);

/// Most characters of a tag or list name.
pub const MAX_LABEL_CHARS: usize = 64;

/// Reads a tag or list name: trimmed, lower-cased, 1–64 of `a-z 0-9 _ - :`
/// (so names are safe in URLs and exact in stored JSON searches).
pub fn parse_label(raw: &str) -> Result<String, &'static str> {
    let label = raw.trim().to_lowercase();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err("must be 1 to 64 characters");
    }
    if !label
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | ':'))
    {
        return Err("may hold only a-z, 0-9, `_`, `-` and `:`");
    }
    Ok(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_from_its_wire_name() {
        for kind in ItemKind::ALL {
            assert_eq!(ItemKind::parse(kind.as_str()), Some(*kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for status in ItemStatus::ALL {
            assert_eq!(ItemStatus::parse(status.as_str()), Some(*status));
        }
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.as_str()), Some(*priority));
        }
        assert_eq!(ItemKind::parse("tweet"), None);
    }

    #[test]
    fn labels_are_lower_case_and_plain() {
        assert_eq!(parse_label("  Complaint ").unwrap(), "complaint");
        assert_eq!(parse_label("vip:gold").unwrap(), "vip:gold");
        assert!(parse_label("").is_err());
        assert!(parse_label("a\"b").is_err());
        assert!(parse_label("50%").is_err());
        assert!(parse_label(&"x".repeat(65)).is_err());
    }

    #[test]
    fn priorities_order_from_low_to_urgent() {
        assert!(Priority::Low < Priority::Normal && Priority::High < Priority::Urgent);
    }
}
