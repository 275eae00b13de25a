//! A workspace's rules, compiled once and run on every item.
//!
//! Compilation gathers every watched word of every rule into one
//! Aho-Corasick automaton (identical words shared), compiles each regex
//! once, and turns each condition tree into a tree of cheap tests. An item
//! is normalized once and scanned once; regexes run only when a tree needs
//! their answer, and at most once per item.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;

use super::definition::{Condition, RuleAction, RuleDefinition, RuleRef, compile_regex};
use super::normalize::{is_whole_word, normalize};
use crate::domain::ids::ChannelId;
use crate::domain::inbox::ItemKind;

/// Why a set of rules could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A rule's regex does not compile (its definition was never validated).
    #[error("rule {rule}: {message}")]
    Regex {
        /// The rule.
        rule: uuid::Uuid,
        /// The regex crate's complaint.
        message: String,
    },
    /// The watched words do not fit in an automaton.
    #[error("the watched words cannot be compiled: {0}")]
    Words(String),
}

/// What the rules look at in an item.
#[derive(Debug, Clone, Copy)]
pub struct ItemFacts<'a> {
    /// The text.
    pub text: &'a str,
    /// What it is.
    pub kind: ItemKind,
    /// Its channel.
    pub channel_id: ChannelId,
    /// Its channel's plugin id.
    pub platform: &'a str,
    /// Its language (ISO 639-1).
    pub language: Option<&'a str>,
    /// Its sentiment score.
    pub sentiment: Option<f64>,
    /// Its author's followers.
    pub author_followers: Option<u64>,
    /// Whether its author's contact is an advocate.
    pub author_is_advocate: bool,
    /// The lists its author's contact is on.
    pub author_lists: &'a [String],
}

/// One action a rule decided on.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The rule (and version) that decided.
    pub rule: RuleRef,
    /// The action.
    pub action: RuleAction,
}

/// What the rules decided for one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// The rules whose condition held, in order (up to a `stop`).
    pub matched: Vec<RuleRef>,
    /// Their actions, in rule order.
    pub decisions: Vec<Decision>,
}

/// A compiled condition.
#[derive(Debug)]
enum Test {
    All(Vec<Test>),
    Any(Vec<Test>),
    Not(Box<Test>),
    Words(usize),
    Regex(usize),
    SentimentBelow(f64),
    SentimentAbove(f64),
    Language(Vec<String>),
    Kind(Vec<ItemKind>),
    Channel(Vec<ChannelId>),
    Platform(Vec<String>),
    Followers(Option<u64>, Option<u64>),
    Advocate,
    InList(String),
    Length(Option<u32>, Option<u32>),
    Links,
}

#[derive(Debug)]
struct CompiledRule {
    reference: RuleRef,
    test: Test,
    actions: Vec<RuleAction>,
}

/// A workspace's enabled rules, ready to run. `Send + Sync`: share it.
#[derive(Debug, Default)]
pub struct CompiledRules {
    rules: Vec<CompiledRule>,
    /// One automaton over every distinct watched word.
    automaton: Option<AhoCorasick>,
    /// For each pattern of the automaton, the word conditions using it.
    pattern_conditions: Vec<Vec<usize>>,
    word_conditions: usize,
    regexes: Vec<Regex>,
}

struct Builder {
    patterns: Vec<String>,
    by_word: HashMap<String, usize>,
    pattern_conditions: Vec<Vec<usize>>,
    word_conditions: usize,
    regexes: Vec<Regex>,
}

impl Builder {
    fn test(&mut self, condition: &Condition, rule: uuid::Uuid) -> Result<Test, CompileError> {
        Ok(match condition {
            Condition::All { conditions } => Test::All(
                conditions
                    .iter()
                    .map(|c| self.test(c, rule))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Any { conditions } => Test::Any(
                conditions
                    .iter()
                    .map(|c| self.test(c, rule))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Not { condition } => Test::Not(Box::new(self.test(condition, rule)?)),
            Condition::ContainsWords { words } => {
                let index = self.word_conditions;
                self.word_conditions += 1;
                for word in words {
                    let word = normalize(word);
                    let word = word.trim();
                    if word.is_empty() {
                        continue;
                    }
                    let pattern = match self.by_word.get(word) {
                        Some(&pattern) => pattern,
                        None => {
                            let pattern = self.patterns.len();
                            self.patterns.push(word.to_owned());
                            self.by_word.insert(word.to_owned(), pattern);
                            self.pattern_conditions.push(Vec::new());
                            pattern
                        }
                    };
                    if let Some(users) = self.pattern_conditions.get_mut(pattern)
                        && users.last() != Some(&index)
                    {
                        users.push(index);
                    }
                }
                Test::Words(index)
            }
            Condition::MatchesRegex { pattern } => {
                let regex = compile_regex(pattern)
                    .map_err(|message| CompileError::Regex { rule, message })?;
                self.regexes.push(regex);
                Test::Regex(self.regexes.len() - 1)
            }
            Condition::SentimentBelow { score } => Test::SentimentBelow(*score),
            Condition::SentimentAbove { score } => Test::SentimentAbove(*score),
            Condition::Language { languages } => Test::Language(languages.clone()),
            Condition::Kind { kinds } => Test::Kind(kinds.clone()),
            Condition::Channel { channel_ids } => Test::Channel(channel_ids.clone()),
            Condition::Platform { platforms } => Test::Platform(platforms.clone()),
            Condition::AuthorFollowers { at_least, below } => Test::Followers(*at_least, *below),
            Condition::AuthorIsAdvocate {} => Test::Advocate,
            Condition::AuthorInList { list } => Test::InList(list.clone()),
            Condition::TextLength { at_least, at_most } => Test::Length(*at_least, *at_most),
            Condition::HasLinks {} => Test::Links,
        })
    }
}

/// What one item's evaluation has learnt so far.
struct Scan<'a> {
    facts: &'a ItemFacts<'a>,
    words: Vec<bool>,
    regexes: Vec<Option<bool>>,
    chars: Option<u32>,
}

impl CompiledRules {
    /// No rules: every item passes untouched.
    pub fn empty() -> Self {
        Self::default()
    }

    /// How many rules run.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// How many distinct watched words (after normalizing) the automaton holds.
    pub fn word_count(&self) -> usize {
        self.pattern_conditions.len()
    }

    /// Compiles rules, in evaluation order.
    pub fn compile(rules: &[(RuleRef, RuleDefinition)]) -> Result<Self, CompileError> {
        let mut builder = Builder {
            patterns: Vec::new(),
            by_word: HashMap::new(),
            pattern_conditions: Vec::new(),
            word_conditions: 0,
            regexes: Vec::new(),
        };
        let mut compiled = Vec::with_capacity(rules.len());
        for (reference, definition) in rules {
            compiled.push(CompiledRule {
                reference: *reference,
                test: builder.test(&definition.when, reference.id)?,
                actions: definition.actions.clone(),
            });
        }
        let automaton = if builder.patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&builder.patterns)
                    .map_err(|err| CompileError::Words(err.to_string()))?,
            )
        };
        Ok(Self {
            rules: compiled,
            automaton,
            pattern_conditions: builder.pattern_conditions,
            word_conditions: builder.word_conditions,
            regexes: builder.regexes,
        })
    }

    /// Runs the rules on an item.
    pub fn evaluate(&self, facts: &ItemFacts<'_>) -> Evaluation {
        let mut scan = Scan {
            facts,
            words: vec![false; self.word_conditions],
            regexes: vec![None; self.regexes.len()],
            chars: None,
        };
        if let Some(automaton) = &self.automaton {
            let text = normalize(facts.text);
            for found in automaton.find_overlapping_iter(&text) {
                if !is_whole_word(&text, found.start(), found.end()) {
                    continue;
                }
                for &condition in self
                    .pattern_conditions
                    .get(found.pattern().as_usize())
                    .map_or(&[][..], Vec::as_slice)
                {
                    if let Some(hit) = scan.words.get_mut(condition) {
                        *hit = true;
                    }
                }
            }
        }
        let mut evaluation = Evaluation::default();
        for rule in &self.rules {
            if !self.holds(&rule.test, &mut scan) {
                continue;
            }
            evaluation.matched.push(rule.reference);
            let mut stop = false;
            for action in &rule.actions {
                stop |= matches!(action, RuleAction::Stop {});
                evaluation.decisions.push(Decision {
                    rule: rule.reference,
                    action: action.clone(),
                });
            }
            if stop {
                break;
            }
        }
        evaluation
    }

    fn holds(&self, test: &Test, scan: &mut Scan<'_>) -> bool {
        let facts = scan.facts;
        match test {
            Test::All(tests) => tests.iter().all(|t| self.holds(t, scan)),
            Test::Any(tests) => tests.iter().any(|t| self.holds(t, scan)),
            Test::Not(test) => !self.holds(test, scan),
            Test::Words(index) => scan.words.get(*index).copied().unwrap_or(false),
            Test::Regex(index) => {
                if let Some(Some(known)) = scan.regexes.get(*index) {
                    return *known;
                }
                let found = self
                    .regexes
                    .get(*index)
                    .is_some_and(|r| r.is_match(facts.text));
                if let Some(slot) = scan.regexes.get_mut(*index) {
                    *slot = Some(found);
                }
                found
            }
            Test::SentimentBelow(bound) => facts.sentiment.is_some_and(|s| s < *bound),
            Test::SentimentAbove(bound) => facts.sentiment.is_some_and(|s| s > *bound),
            Test::Language(languages) => facts
                .language
                .is_some_and(|lang| languages.iter().any(|l| l == lang)),
            Test::Kind(kinds) => kinds.contains(&facts.kind),
            Test::Channel(channels) => channels.contains(&facts.channel_id),
            Test::Platform(platforms) => platforms.iter().any(|p| p == facts.platform),
            Test::Followers(at_least, below) => facts.author_followers.is_some_and(|f| {
                at_least.is_none_or(|low| f >= low) && below.is_none_or(|high| f < high)
            }),
            Test::Advocate => facts.author_is_advocate,
            Test::InList(list) => facts.author_lists.iter().any(|l| l == list),
            Test::Length(at_least, at_most) => {
                let chars = *scan.chars.get_or_insert_with(|| {
                    u32::try_from(facts.text.chars().count()).unwrap_or(u32::MAX)
                });
                at_least.is_none_or(|low| chars >= low) && at_most.is_none_or(|high| chars <= high)
            }
            Test::Links => has_link(facts.text),
        }
    }
}

/// Whether a text holds a link.
fn has_link(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("http://") || lower.contains("https://") || lower.contains("www.")
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
