//! What a rule says: a condition tree and the actions to take when it
//! holds. Stored as JSON; [`RuleDefinition::validate`] names every fault
//! with a JSON pointer into the definition.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::normalize::normalize;
use crate::domain::ids::{ChannelId, UserId};
use crate::domain::inbox::{ItemKind, ItemStatus, Priority};

/// Deepest nesting of `all`/`any`/`not`.
pub const MAX_DEPTH: usize = 8;
/// Most conditions in one rule, counting every node.
pub const MAX_CONDITIONS: usize = 200;
/// Most actions of one rule.
pub const MAX_ACTIONS: usize = 20;
/// Most words or phrases in one `contains_words` condition.
pub const MAX_WORDS: usize = 20_000;
/// Most characters of one watched word or phrase.
pub const MAX_WORD_CHARS: usize = 100;
/// Most characters of a regex pattern.
pub const MAX_PATTERN_CHARS: usize = 1_000;
/// Compiled size a regex may take (the `regex` crate's `size_limit`).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A version of a stored rule: what the moderation log names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct RuleRef {
    /// The rule's id.
    pub id: uuid::Uuid,
    /// Its version.
    pub version: u32,
}

/// When a rule applies. Tagged by `type`. (Variants without fields are
/// written `{}` so that unknown fields are refused on them too.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Every condition holds (and at least one is given).
    All {
        /// The conditions.
        #[schema(no_recursion)]
        conditions: Vec<Condition>,
    },
    /// At least one condition holds.
    Any {
        /// The conditions.
        #[schema(no_recursion)]
        conditions: Vec<Condition>,
    },
    /// The condition does not hold.
    Not {
        /// The condition negated.
        #[schema(no_recursion)]
        condition: Box<Condition>,
    },
    /// The text contains one of these words or phrases: whole words only,
    /// case and accents ignored ("mal servicio" matches "MAL  servício!",
    /// "ass" does not match "class"). Up to 20,000.
    ContainsWords {
        /// Words or phrases, each up to 100 characters.
        words: Vec<String>,
    },
    /// The text matches this regular expression (Rust `regex` syntax,
    /// case-insensitive unless the pattern says `(?-i)`; linear time, no
    /// look-around or back-references). Matched against the text as
    /// written, so accents matter here.
    MatchesRegex {
        /// The pattern, up to 1,000 characters.
        pattern: String,
    },
    /// The sentiment score is below this (-1..1); false when not scored.
    SentimentBelow {
        /// The bound.
        score: f64,
    },
    /// The sentiment score is above this (-1..1); false when not scored.
    SentimentAbove {
        /// The bound.
        score: f64,
    },
    /// The item's language is one of these (ISO 639-1, `es`).
    Language {
        /// The languages.
        languages: Vec<String>,
    },
    /// The item is one of these kinds.
    Kind {
        /// The kinds.
        kinds: Vec<ItemKind>,
    },
    /// The item came through one of these channels.
    Channel {
        /// The channels.
        channel_ids: Vec<ChannelId>,
    },
    /// The item came from one of these platforms (plugin ids: `mastodon`).
    Platform {
        /// The plugin ids.
        platforms: Vec<String>,
    },
    /// The author's follower count is within bounds (false when unknown).
    AuthorFollowers {
        /// At least this many.
        at_least: Option<u64>,
        /// Fewer than this many.
        below: Option<u64>,
    },
    /// The author's contact is marked as an advocate.
    AuthorIsAdvocate {},
    /// The author's contact is on this list.
    AuthorInList {
        /// The list's name.
        list: String,
    },
    /// The text's length in characters is within bounds.
    TextLength {
        /// At least this many.
        at_least: Option<u32>,
        /// At most this many.
        at_most: Option<u32>,
    },
    /// The text has a link (`http://`, `https://` or `www.`).
    HasLinks {},
}

/// What to do when a rule's condition holds. Tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleAction {
    /// Add a tag.
    Tag {
        /// The tag (`a-z 0-9 _ - :`).
        tag: String,
    },
    /// Set the priority.
    SetPriority {
        /// The priority.
        priority: Priority,
    },
    /// Assign to a member.
    Assign {
        /// The member.
        user_id: UserId,
    },
    /// Assign to these members in turn (the turn is kept across items).
    AssignRoundRobin {
        /// The members.
        user_ids: Vec<UserId>,
    },
    /// Set the status; `hidden` also hides the item on the platform where
    /// the plugin can.
    SetStatus {
        /// The status.
        status: ItemStatus,
    },
    /// Answer with a saved reply (sent through the plugin, no approval).
    AutoReply {
        /// The saved reply.
        saved_reply_id: uuid::Uuid,
    },
    /// Put the author's contact on a list.
    AddAuthorToList {
        /// The list's name (`a-z 0-9 _ - :`).
        list: String,
    },
    /// Fire an `inbox.rule_notified` event (webhooks and the live stream).
    Notify {
        /// A label the receiver can route on.
        label: String,
    },
    /// Run no later rule on this item.
    Stop {},
}

/// A rule's condition and actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDefinition {
    /// When it applies.
    pub when: Condition,
    /// What it does, in order (1–20).
    pub actions: Vec<RuleAction>,
}

/// One fault in a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RuleViolation {
    /// A JSON pointer into the definition (`/when/conditions/2/pattern`).
    pub pointer: String,
    /// What is wrong, for people.
    pub message: String,
}

struct Checker {
    faults: Vec<RuleViolation>,
    conditions: usize,
}

impl Checker {
    fn fault(&mut self, pointer: String, message: impl Into<String>) {
        self.faults.push(RuleViolation {
            pointer,
            message: message.into(),
        });
    }

    fn condition(&mut self, condition: &Condition, at: &str, depth: usize) {
        self.conditions += 1;
        if depth > MAX_DEPTH {
            self.fault(
                at.to_owned(),
                format!("nests deeper than {MAX_DEPTH} levels"),
            );
            return;
        }
        match condition {
            Condition::All { conditions } | Condition::Any { conditions } => {
                if conditions.is_empty() {
                    self.fault(
                        format!("{at}/conditions"),
                        "must hold at least one condition",
                    );
                }
                for (i, inner) in conditions.iter().enumerate() {
                    self.condition(inner, &format!("{at}/conditions/{i}"), depth + 1);
                }
            }
            Condition::Not { condition } => {
                self.condition(condition, &format!("{at}/condition"), depth + 1);
            }
            Condition::ContainsWords { words } => self.words(words, at),
            Condition::MatchesRegex { pattern } => {
                if let Err(message) = compile_regex(pattern) {
                    self.fault(format!("{at}/pattern"), message);
                }
            }
            Condition::SentimentBelow { score } | Condition::SentimentAbove { score }
                if !(-1.0..=1.0).contains(score) =>
            {
                self.fault(format!("{at}/score"), "must be between -1 and 1");
            }
            Condition::Language { languages } => {
                if languages.is_empty() {
                    self.fault(format!("{at}/languages"), "must name at least one language");
                }
                for (i, lang) in languages.iter().enumerate() {
                    if lang.len() != 2 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
                        self.fault(
                            format!("{at}/languages/{i}"),
                            "must be an ISO 639-1 code such as `es`",
                        );
                    }
                }
            }
            Condition::Kind { kinds } if kinds.is_empty() => {
                self.fault(format!("{at}/kinds"), "must name at least one kind");
            }
            Condition::Channel { channel_ids } if channel_ids.is_empty() => {
                self.fault(
                    format!("{at}/channel_ids"),
                    "must name at least one channel",
                );
            }
            Condition::Platform { platforms }
                if platforms.is_empty() || platforms.iter().any(|p| p.trim().is_empty()) =>
            {
                self.fault(
                    format!("{at}/platforms"),
                    "must name at least one plugin id",
                );
            }
            Condition::AuthorFollowers { at_least, below } => {
                if at_least.is_none() && below.is_none() {
                    self.fault(at.to_owned(), "give at_least, below or both");
                }
                if let (Some(low), Some(high)) = (at_least, below)
                    && low >= high
                {
                    self.fault(format!("{at}/below"), "must be above at_least");
                }
            }
            Condition::TextLength { at_least, at_most } => {
                if at_least.is_none() && at_most.is_none() {
                    self.fault(at.to_owned(), "give at_least, at_most or both");
                }
                if let (Some(low), Some(high)) = (at_least, at_most)
                    && low > high
                {
                    self.fault(format!("{at}/at_most"), "must not be below at_least");
                }
            }
            Condition::AuthorInList { list } => self.label(list, &format!("{at}/list")),
            _ => {}
        }
    }

    fn words(&mut self, words: &[String], at: &str) {
        if words.is_empty() || words.len() > MAX_WORDS {
            self.fault(
                format!("{at}/words"),
                format!("must hold 1 to {MAX_WORDS} words or phrases"),
            );
        }
        for (i, word) in words.iter().enumerate() {
            if word.chars().count() > MAX_WORD_CHARS {
                self.fault(
                    format!("{at}/words/{i}"),
                    format!("must be at most {MAX_WORD_CHARS} characters"),
                );
            } else if normalize(word).trim().is_empty() {
                self.fault(format!("{at}/words/{i}"), "must not be blank");
            }
        }
    }

    fn label(&mut self, label: &str, at: &str) {
        let chars = label.chars().count();
        if chars == 0 || chars > 64 {
            self.fault(at.to_owned(), "must be 1 to 64 characters");
        }
    }

    fn action(&mut self, action: &RuleAction, at: &str) {
        match action {
            RuleAction::Tag { tag } => self.label(tag, &format!("{at}/tag")),
            RuleAction::AddAuthorToList { list } => self.label(list, &format!("{at}/list")),
            RuleAction::Notify { label } => self.label(label, &format!("{at}/label")),
            RuleAction::AssignRoundRobin { user_ids }
                if user_ids.is_empty() || user_ids.len() > 50 =>
            {
                self.fault(format!("{at}/user_ids"), "must name 1 to 50 members");
            }
            _ => {}
        }
    }
}

/// Compiles a pattern as the engine does: case-insensitive, size-limited.
pub fn compile_regex(pattern: &str) -> Result<regex::Regex, String> {
    if pattern.is_empty() || pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("must be 1 to {MAX_PATTERN_CHARS} characters"));
    }
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(2 * REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| format!("is not a usable regular expression: {err}"))
}

impl RuleDefinition {
    /// Every fault of the definition, or `Ok`.
    pub fn validate(&self) -> Result<(), Vec<RuleViolation>> {
        let mut checker = Checker {
            faults: Vec::new(),
            conditions: 0,
        };
        checker.condition(&self.when, "/when", 1);
        if checker.conditions > MAX_CONDITIONS {
            checker.fault(
                "/when".to_owned(),
                format!("holds more than {MAX_CONDITIONS} conditions"),
            );
        }
        if self.actions.is_empty() || self.actions.len() > MAX_ACTIONS {
            checker.fault(
                "/actions".to_owned(),
                format!("must hold 1 to {MAX_ACTIONS} actions"),
            );
        }
        for (i, action) in self.actions.iter().enumerate() {
            checker.action(action, &format!("/actions/{i}"));
        }
        if self
            .actions
            .iter()
            .filter(|a| matches!(a, RuleAction::Stop {}))
            .count()
            > 1
        {
            checker.fault("/actions".to_owned(), "may hold `stop` once");
        }
        if checker.faults.is_empty() {
            Ok(())
        } else {
            Err(checker.faults)
        }
    }
}
