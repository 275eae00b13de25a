//! The inbox's rules engine, in the spirit of Discourse's watched words and
//! Reddit's AutoModerator: ordered rules, each a condition tree and a list
//! of actions, run on every new item.
//!
//! - [`definition`]: what a rule says (JSON, validated with pointers to the
//!   faulty part).
//! - [`normalize`]: how text is compared: accents and case ignored, whole
//!   words only.
//! - [`engine`]: a workspace's rules compiled once. Every watched word of
//!   every rule goes into **one** Aho-Corasick automaton, run once per item;
//!   regexes use the `regex` crate (linear time: no pattern can backtrack
//!   for ever) with size limits; condition trees short-circuit.
//!
//! The engine decides; it does not act. The server applies the decisions
//! (tags, status, assignment, replies) and records which rule, at which
//! version, took each one.

pub mod definition;
pub mod engine;
pub mod normalize;

pub use definition::{Condition, RuleAction, RuleDefinition, RuleRef, RuleViolation};
pub use engine::{CompileError, CompiledRules, Decision, Evaluation, ItemFacts};
pub use normalize::normalize;
