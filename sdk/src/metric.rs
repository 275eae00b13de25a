//! Numbers a plugin reports, named from a shared vocabulary.

/// The metric names Plaza understands; a plugin may add its own as `x_…`.
pub const VOCABULARY: [&str; 12] = [
    IMPRESSIONS,
    REACH,
    LIKES,
    REPOSTS,
    REPLIES,
    QUOTES,
    CLICKS,
    SAVES,
    VIDEO_VIEWS,
    FOLLOWERS,
    FOLLOWING,
    POSTS,
];

/// Times the content was shown.
pub const IMPRESSIONS: &str = "impressions";
/// Distinct accounts that saw the content.
pub const REACH: &str = "reach";
/// Likes, favourites, hearts.
pub const LIKES: &str = "likes";
/// Reposts, boosts, retweets, shares.
pub const REPOSTS: &str = "reposts";
/// Replies and comments.
pub const REPLIES: &str = "replies";
/// Quote posts.
pub const QUOTES: &str = "quotes";
/// Link clicks.
pub const CLICKS: &str = "clicks";
/// Saves and bookmarks.
pub const SAVES: &str = "saves";
/// Video plays.
pub const VIDEO_VIEWS: &str = "video_views";
/// Accounts following the account.
pub const FOLLOWERS: &str = "followers";
/// Accounts the account follows.
pub const FOLLOWING: &str = "following";
/// Posts the account has published.
pub const POSTS: &str = "posts";

/// One number: of the account when `post_id` is `None`, else of that post.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// A name from [`VOCABULARY`] or one starting with `x_`.
    pub name: String,
    /// The value at the time of the call.
    pub value: f64,
    /// The remote id of the post it measures; `None` for the account.
    pub post_id: Option<String>,
}

impl Metric {
    /// An account metric.
    pub fn account(name: impl Into<String>, value: f64) -> Self {
        Self {
            name: name.into(),
            value,
            post_id: None,
        }
    }

    /// A metric of the post `post_id`.
    pub fn post(post_id: impl Into<String>, name: impl Into<String>, value: f64) -> Self {
        Self {
            name: name.into(),
            value,
            post_id: Some(post_id.into()),
        }
    }

    /// The account's follower count.
    pub fn followers(count: u64) -> Self {
        Self::account(FOLLOWERS, count as f64)
    }

    /// Whether the name is in the vocabulary or a plugin's own `x_…` name.
    pub fn has_known_name(&self) -> bool {
        is_known_name(&self.name)
    }
}

/// Whether `name` is in [`VOCABULARY`] or a plugin's own `x_…` name.
pub fn is_known_name(name: &str) -> bool {
    VOCABULARY.contains(&name) || name.strip_prefix("x_").is_some_and(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_vocabulary_or_start_with_x() {
        assert!(is_known_name("followers"));
        assert!(is_known_name("x_bookmarks_of_bookmarks"));
        assert!(!is_known_name("x_"));
        assert!(!is_known_name("Followers"));
        assert!(Metric::followers(42).has_known_name());
        assert_eq!(Metric::followers(42).value, 42.0);
        assert_eq!(
            Metric::post("p1", LIKES, 3.0).post_id.as_deref(),
            Some("p1")
        );
    }
}
