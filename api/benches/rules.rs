//! Throughput of the inbox rules engine: a workspace with 100 rules and 5,000 watched
//! words, evaluated on realistic 80–200 character items (normalization included), plus
//! the time to compile those rules.

use std::collections::HashSet;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plaza_api::domain::ids::ChannelId;
use plaza_api::domain::inbox::{ItemKind, Priority};
use plaza_api::domain::rules::{
    CompiledRules, Condition, ItemFacts, RuleAction, RuleDefinition, RuleRef, normalize,
};
use uuid::Uuid;

const WATCHED_WORDS: usize = 5_000;
const RULES: usize = 100;
const ITEMS: usize = 1_000;

/// A small deterministic generator (xorshift64*), so runs compare.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from.get(self.below(from.len()))
            .copied()
            .unwrap_or_default()
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "te", "su", "no", "vi", "pe", "da", "zor", "bel", "qui", "tran", "mos",
    "fe", "gu", "xa", "ñe", "ló",
];

const FILLER: &[&str] = &[
    "hola",
    "the",
    "order",
    "pedido",
    "today",
    "hoy",
    "llegó",
    "arrived",
    "late",
    "tarde",
    "my",
    "mi",
    "app",
    "store",
    "tienda",
    "thanks",
    "gracias",
    "please",
    "por",
    "favor",
    "why",
    "¿por",
    "qué?",
    "never",
    "nunca",
    "again",
    "otra",
    "vez",
    "support",
    "soporte",
    "😡",
    "😍",
    "🔥",
    "!!!",
    "@plaza_shop",
    "#fail",
    "really",
    "muy",
    "bien",
    "bad",
    "good",
    "servicio",
    "Café",
    "Niño",
    "ÚLTIMA",
    "semana",
    "week",
    "refund?",
    "reembolso",
    "price",
    "precio",
];

fn watched_words(dice: &mut Dice) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut words = Vec::with_capacity(WATCHED_WORDS);
    while words.len() < WATCHED_WORDS {
        let syllables = 2 + dice.below(3);
        let word: String = (0..syllables).map(|_| dice.pick(SYLLABLES)).collect();
        if seen.insert(word.clone()) {
            words.push(word);
        }
    }
    words
}

fn rules(dice: &mut Dice, words: &[String]) -> Vec<(RuleRef, RuleDefinition)> {
    let word_rules = 70;
    let per_rule = words.len().div_ceil(word_rules);
    let mut chunks = words.chunks(per_rule);
    (0..RULES)
        .map(|n| {
            let when = match n % 10 {
                0..7 => Condition::ContainsWords {
                    words: chunks.next().map(<[String]>::to_vec).unwrap_or_default(),
                },
                7 => Condition::MatchesRegex {
                    pattern: [r"\b(refund|reembolso)\w*", r"#\d{6}\b", r"pedido\s+\d+"]
                        .get(n % 3)
                        .copied()
                        .unwrap_or_default()
                        .to_owned(),
                },
                8 => Condition::All {
                    conditions: vec![
                        Condition::SentimentBelow { score: -0.5 },
                        Condition::Kind {
                            kinds: vec![ItemKind::Mention, ItemKind::Comment],
                        },
                    ],
                },
                _ => Condition::Any {
                    conditions: vec![
                        Condition::AuthorFollowers {
                            at_least: Some(10_000 + dice.below(10_000) as u64),
                            below: None,
                        },
                        Condition::All {
                            conditions: vec![
                                Condition::ContainsWords {
                                    words: vec!["pésimo servicio".to_owned(), "estafa".to_owned()],
                                },
                                Condition::Not {
                                    condition: Box::new(Condition::AuthorIsAdvocate {}),
                                },
                            ],
                        },
                    ],
                },
            };
            let definition = RuleDefinition {
                when,
                actions: vec![
                    RuleAction::Tag {
                        tag: format!("tag-{n}"),
                    },
                    RuleAction::SetPriority {
                        priority: Priority::High,
                    },
                ],
            };
            let rule = RuleRef {
                id: Uuid::from_u128(n as u128 + 1),
                version: 1,
            };
            (rule, definition)
        })
        .collect()
}

/// Item texts of 80–200 characters; about one in five carries a watched word.
fn texts(dice: &mut Dice, words: &[String]) -> Vec<String> {
    (0..ITEMS)
        .map(|_| {
            let target = 80 + dice.below(121);
            let mut text = String::new();
            while text.chars().count() < target {
                if !text.is_empty() {
                    text.push(' ');
                }
                if dice.below(100) < 2 {
                    let word = words
                        .get(dice.below(words.len()))
                        .map_or("", String::as_str);
                    text.push_str(&word.to_uppercase());
                } else {
                    text.push_str(dice.pick(FILLER));
                }
            }
            text.chars().take(target).collect()
        })
        .collect()
}

#[expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a bench stops on broken rules and reports its data set"
)]
fn bench(c: &mut Criterion) {
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let words = watched_words(&mut dice);
    let rules = rules(&mut dice, &words);
    let texts = texts(&mut dice, &words);
    let compiled = CompiledRules::compile(&rules).expect("bench rules compile");
    let channel_id = ChannelId::new();
    let lists = vec!["vip".to_owned()];
    let facts: Vec<ItemFacts<'_>> = texts
        .iter()
        .enumerate()
        .map(|(n, text)| ItemFacts {
            text,
            kind: if n % 3 == 0 {
                ItemKind::DirectMessage
            } else {
                ItemKind::Mention
            },
            channel_id,
            platform: "mastodon",
            language: Some("es"),
            sentiment: Some((n % 21) as f64 / 10.0 - 1.0),
            author_followers: Some((n as u64 * 7919) % 50_000),
            author_is_advocate: n % 11 == 0,
            author_lists: &lists,
        })
        .collect();
    let matching = facts
        .iter()
        .filter(|facts| !compiled.evaluate(facts).matched.is_empty())
        .count();
    println!(
        "{} items, {matching} match a rule; {} distinct words",
        facts.len(),
        compiled.word_count()
    );

    let mut group = c.benchmark_group("rules");
    group.throughput(Throughput::Elements(facts.len() as u64));
    group.bench_function("evaluate_100_rules_5000_words", |b| {
        b.iter(|| {
            for item in &facts {
                black_box(compiled.evaluate(black_box(item)));
            }
        });
    });
    // The share of the above spent folding text (callers that fold once can reuse it).
    group.bench_function("normalize", |b| {
        b.iter(|| {
            for item in &facts {
                black_box(normalize(black_box(item.text)));
            }
        });
    });
    group.finish();

    c.bench_function("compile_100_rules_5000_words", |b| {
        b.iter(|| black_box(CompiledRules::compile(black_box(&rules)).expect("compiles")));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
