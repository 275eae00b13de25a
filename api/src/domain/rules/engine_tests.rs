use serde_json::json;

use super::*;
use crate::domain::inbox::{ItemStatus, Priority};

fn rule(n: u128, definition: serde_json::Value) -> (RuleRef, RuleDefinition) {
    let definition: RuleDefinition = serde_json::from_value(definition).unwrap();
    definition.validate().unwrap();
    (
        RuleRef {
            id: uuid::Uuid::from_u128(n),
            version: 1,
        },
        definition,
    )
}

fn facts(text: &str) -> ItemFacts<'_> {
    ItemFacts {
        text,
        kind: ItemKind::Mention,
        channel_id: ChannelId::default(),
        platform: "mastodon",
        language: Some("es"),
        sentiment: Some(-0.4),
        author_followers: Some(1_500),
        author_is_advocate: false,
        author_lists: &[],
    }
}

fn matches(when: &serde_json::Value, facts: &ItemFacts<'_>) -> bool {
    let rules = CompiledRules::compile(&[rule(
        1,
        json!({"when": when, "actions": [{"type": "tag", "tag": "x"}]}),
    )])
    .unwrap();
    !rules.evaluate(facts).matched.is_empty()
}

#[test]
fn watched_words_ignore_case_and_accents_and_need_whole_words() {
    let words = json!({"type": "contains_words", "words": ["mal servicio", "ass", "reembolso"]});
    for (text, expected) in [
        ("¡Qué MAL  servício!", true),
        ("mal\nservicio", true),
        ("a classy answer", false),
        ("you ass.", true),
        ("quiero un REEMBOLSO😡", true),
        ("reembolsos", false),
        ("", false),
    ] {
        assert_eq!(matches(&words, &facts(text)), expected, "{text:?}");
    }
}

#[test]
fn overlapping_words_of_several_rules_all_count() {
    let rules = CompiledRules::compile(&[
        rule(1, json!({"when": {"type": "contains_words", "words": ["mal"]}, "actions": [{"type": "tag", "tag": "a"}]})),
        rule(2, json!({"when": {"type": "contains_words", "words": ["mal servicio", "mal"]}, "actions": [{"type": "tag", "tag": "b"}]})),
    ])
    .unwrap();
    let evaluation = rules.evaluate(&facts("muy mal servicio"));
    assert_eq!(evaluation.matched.len(), 2);
    assert_eq!(evaluation.decisions.len(), 2);
}

#[test]
fn every_condition_kind_holds_and_fails() {
    let f = facts("Order #12345 at https://shop.example");
    let table = [
        (
            json!({"type": "matches_regex", "pattern": "order #\\d{5}"}),
            true,
        ),
        (
            json!({"type": "matches_regex", "pattern": "(?-i)order"}),
            false,
        ),
        (json!({"type": "sentiment_below", "score": -0.3}), true),
        (json!({"type": "sentiment_above", "score": 0.0}), false),
        (json!({"type": "language", "languages": ["es", "pt"]}), true),
        (json!({"type": "language", "languages": ["en"]}), false),
        (json!({"type": "kind", "kinds": ["mention"]}), true),
        (json!({"type": "kind", "kinds": ["direct_message"]}), false),
        (
            json!({"type": "channel", "channel_ids": [f.channel_id]}),
            true,
        ),
        (
            json!({"type": "channel", "channel_ids": [ChannelId::new()]}),
            false,
        ),
        (json!({"type": "platform", "platforms": ["mastodon"]}), true),
        (json!({"type": "platform", "platforms": ["bluesky"]}), false),
        (json!({"type": "author_followers", "at_least": 1000}), true),
        (
            json!({"type": "author_followers", "at_least": 1000, "below": 1500}),
            false,
        ),
        (json!({"type": "author_is_advocate"}), false),
        (json!({"type": "author_in_list", "list": "vip"}), false),
        (
            json!({"type": "text_length", "at_least": 10, "at_most": 50}),
            true,
        ),
        (json!({"type": "text_length", "at_most": 5}), false),
        (json!({"type": "has_links"}), true),
        (
            json!({"type": "not", "condition": {"type": "has_links"}}),
            false,
        ),
        (
            json!({"type": "all", "conditions": [{"type": "has_links"}, {"type": "kind", "kinds": ["comment"]}]}),
            false,
        ),
        (
            json!({"type": "any", "conditions": [{"type": "has_links"}, {"type": "kind", "kinds": ["comment"]}]}),
            true,
        ),
    ];
    for (when, expected) in table {
        assert_eq!(matches(&when, &f), expected, "{when}");
    }
    let lists = ["vip".to_owned()];
    let advocate = ItemFacts {
        author_is_advocate: true,
        author_lists: &lists,
        sentiment: None,
        ..facts("hi")
    };
    assert!(matches(&json!({"type": "author_is_advocate"}), &advocate));
    assert!(matches(
        &json!({"type": "author_in_list", "list": "vip"}),
        &advocate
    ));
    assert!(
        !matches(&json!({"type": "sentiment_below", "score": 1.0}), &advocate),
        "unscored is never below"
    );
}

#[test]
fn stop_ends_the_evaluation_after_its_rule() {
    let rules = CompiledRules::compile(&[
        rule(1, json!({"when": {"type": "has_links"}, "actions": [{"type": "set_status", "status": "spam"}, {"type": "stop"}]})),
        rule(2, json!({"when": {"type": "has_links"}, "actions": [{"type": "set_priority", "priority": "urgent"}]})),
    ])
    .unwrap();
    let evaluation = rules.evaluate(&facts("www.spam.example"));
    assert_eq!(evaluation.matched.len(), 1);
    assert_eq!(
        evaluation
            .decisions
            .iter()
            .map(|d| d.action.clone())
            .collect::<Vec<_>>(),
        [
            RuleAction::SetStatus {
                status: ItemStatus::Spam
            },
            RuleAction::Stop {}
        ]
    );
    let calm = rules.evaluate(&facts("no links"));
    assert!(calm.decisions.is_empty());
    assert!(!calm.decisions.iter().any(|d| d.action
        == RuleAction::SetPriority {
            priority: Priority::Urgent
        }));
}

#[test]
fn ten_thousand_words_compile_into_one_automaton_and_match() {
    let words: Vec<String> = (0..10_000).map(|i| format!("palabra{i}")).collect();
    let rules = CompiledRules::compile(&[rule(1, json!({"when": {"type": "contains_words", "words": words}, "actions": [{"type": "tag", "tag": "w"}]}))]).unwrap();
    assert!(
        !rules
            .evaluate(&facts("la palabra9999 aquí"))
            .matched
            .is_empty()
    );
    assert!(
        rules
            .evaluate(&facts("la palabra10000 no"))
            .matched
            .is_empty()
    );
}

#[test]
fn a_pattern_that_backtracks_elsewhere_runs_in_linear_time_here() {
    let text = format!("{}!", "a".repeat(50_000));
    assert!(!matches(
        &json!({"type": "matches_regex", "pattern": "(a+)+$"}),
        &facts(&text)
    ));
}

#[test]
fn definitions_are_strict_json() {
    let unknown = serde_json::from_value::<RuleDefinition>(
        json!({"when": {"type": "has_links", "extra": 1}, "actions": []}),
    );
    assert!(unknown.is_err());
    let strange = serde_json::from_value::<RuleDefinition>(
        json!({"when": {"type": "telepathy"}, "actions": []}),
    );
    assert!(strange.is_err());
    let (_, definition) = rule(
        1,
        json!({"when": {"type": "contains_words", "words": ["x"]}, "actions": [{"type": "notify", "label": "pr"}]}),
    );
    let back: RuleDefinition =
        serde_json::from_value(serde_json::to_value(&definition).unwrap()).unwrap();
    assert_eq!(back, definition);
}

#[test]
fn faults_are_named_by_pointer() {
    let definition: RuleDefinition = serde_json::from_value(json!({
        "when": {"type": "all", "conditions": [
            {"type": "contains_words", "words": ["ok", "  "]},
            {"type": "matches_regex", "pattern": "(unclosed"},
            {"type": "sentiment_below", "score": 2.0},
            {"type": "language", "languages": ["ES"]},
            {"type": "author_followers", "at_least": 10, "below": 5},
            {"type": "any", "conditions": []},
            {"type": "matches_regex", "pattern": "\\w{1000}{1000}"}
        ]},
        "actions": [{"type": "stop"}, {"type": "stop"}, {"type": "tag", "tag": ""}]
    }))
    .unwrap();
    let pointers: Vec<String> = definition
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|v| v.pointer)
        .collect();
    for expected in [
        "/when/conditions/0/words/1",
        "/when/conditions/1/pattern",
        "/when/conditions/2/score",
        "/when/conditions/3/languages/0",
        "/when/conditions/4/below",
        "/when/conditions/5/conditions",
        "/when/conditions/6/pattern",
        "/actions",
        "/actions/2/tag",
    ] {
        assert!(
            pointers.iter().any(|p| p == expected),
            "{expected} missing from {pointers:?}"
        );
    }
    let mut deep = json!({"type": "has_links"});
    for _ in 0..10 {
        deep = json!({"type": "not", "condition": deep});
    }
    let deep: RuleDefinition =
        serde_json::from_value(json!({"when": deep, "actions": [{"type": "stop"}]})).unwrap();
    assert!(deep.validate().is_err());
}
