//! Behavioural tests of the lexicon scorer (rules, not accuracy).

use super::{LexiconScorer, SentimentLabel, SentimentScorer};

fn score(text: &str, lang: Option<&str>) -> f64 {
    LexiconScorer::new().score(text, lang).score
}

#[test]
fn labels_table() {
    use SentimentLabel::{Negative, Neutral, Positive};
    let cases: &[(&str, Option<&str>, SentimentLabel)] = &[
        ("", None, Neutral),
        ("the package arrived on tuesday", Some("en"), Neutral),
        ("this is good", Some("en"), Positive),
        ("this is not good", Some("en"), Negative),
        ("this isn't good", Some("en"), Negative),
        ("el servicio es pesimo", Some("es"), Negative),
        ("el servicio no es malo", Some("es"), Positive),
        ("nunca fue bueno", Some("es"), Negative),
        ("😍😍", None, Positive),
        ("😡", None, Negative),
        ("#fail", Some("en"), Negative),
        ("buenísimooo", Some("es"), Positive),
        ("sooo good", Some("en"), Positive),
        (
            "el producto es bueno pero el envio es pesimo",
            Some("es"),
            Negative,
        ),
        (
            "the food was bad but the staff were amazing",
            Some("en"),
            Positive,
        ),
        ("sin embargo me encanta", Some("es"), Positive),
    ];
    for (text, lang, want) in cases {
        let got = LexiconScorer.score(text, *lang);
        assert_eq!(got.label, *want, "{text:?} scored {}", got.score);
    }
}

#[test]
fn intensifiers_and_dampers() {
    assert!(score("very good", Some("en")) > score("good", Some("en")));
    assert!(score("muy malo", Some("es")) < score("malo", Some("es")));
    assert!(score("poco bueno", Some("es")) < score("bueno", Some("es")));
    assert!(score("barely good", Some("en")) < score("good", Some("en")));
}

#[test]
fn caps_and_exclamations_amplify() {
    assert!(score("this is GOOD", Some("en")) > score("this is good", Some("en")));
    assert!(score("this is good!!!", Some("en")) > score("this is good", Some("en")));
    assert!(score("esto es malo!!", Some("es")) < score("esto es malo", Some("es")));
    // A neutral text stays neutral however loud it is.
    assert_eq!(score("HELLO!!!", Some("en")), 0.0);
}

#[test]
fn accents_case_and_elongation_do_not_matter() {
    let base = score("pésimo", Some("es"));
    assert!(base < 0.0);
    assert_eq!(score("pesimo", Some("es")), base);
    assert_eq!(score("PESIMOOOO", Some("es")), base);
    assert!(score("gooood", Some("en")) > 0.0);
}

#[test]
fn mentions_and_urls_are_ignored() {
    assert_eq!(score("@worst_brand hi", None), 0.0);
    assert_eq!(score("https://bad.example/terrible", None), 0.0);
}

#[test]
fn unknown_language_uses_both_lexicons() {
    assert!(score("excelente", None) > 0.0);
    assert!(score("excelente", Some("en")) == 0.0);
    assert!(score("awful", None) < 0.0);
}

#[test]
fn scores_stay_bounded_on_long_texts() {
    let long = "great amazing love 😍 ".repeat(2_000);
    let s = score(&long, None);
    assert!(s > 0.99 && s <= 1.0);
    let long_neg = "pesimo horrible 😡 ".repeat(2_000);
    let s = score(&long_neg, None);
    assert!((-1.0..-0.99).contains(&s));
}
