//! Typed identifiers, so an id of one kind cannot be passed as another.
//!
//! Every id is a UUIDv7: sortable by creation time, not guessable in order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::try_parse(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An account.
    UserId
);
id_type!(
    /// A workspace: one brand or client.
    WorkspaceId
);
id_type!(
    /// An invitation to join a workspace.
    InvitationId
);
id_type!(
    /// A workspace-scoped API token.
    ApiTokenId
);
id_type!(
    /// A stored refresh token.
    RefreshTokenId
);
id_type!(
    /// A campaign: dated, budgeted work towards one objective.
    CampaignId
);
id_type!(
    /// An objective: a KPI, a target, a period and a scope.
    ObjectiveId
);
id_type!(
    /// An event a workspace runs: a meetup, a webinar, a launch.
    EventId
);
id_type!(
    /// One person's registration for an event.
    RegistrationId
);
id_type!(
    /// A file in a workspace's media library.
    MediaId
);

/// Parses an id read back from the database, where it was written by us.
pub fn parse_stored<T: FromStr>(raw: &str) -> Result<T, anyhow::Error> {
    raw.parse()
        .map_err(|_| anyhow::anyhow!("stored id {raw:?} is not a valid id"))
}
id_type!(
    /// A connected platform account.
    ChannelId
);
id_type!(
    /// A post with its per-channel variants.
    PostId
);
id_type!(
    /// An internal comment on a post.
    PostCommentId
);
id_type!(
    /// A saved version of a post's content.
    PostRevisionId
);
id_type!(
    /// One step of a post's workflow history.
    PostTransitionId
);
id_type!(
    /// An outgoing webhook endpoint.
    WebhookId
);
id_type!(
    /// One delivery of an event to a webhook endpoint.
    WebhookDeliveryId
);
id_type!(
    /// An inbox item: a mention, comment, message, review or listening hit.
    InboxItemId
);
id_type!(
    /// A reply written in Plaza to an inbox item.
    InboxReplyId
);
id_type!(
    /// A person of the community.
    ContactId
);
id_type!(
    /// A contact's account on one platform.
    ContactIdentityId
);
id_type!(
    /// An inbox rule.
    RuleId
);
id_type!(
    /// A saved reply.
    SavedReplyId
);
id_type!(
    /// A listening query.
    ListeningQueryId
);
id_type!(
    /// A crisis alert.
    AlertId
);
