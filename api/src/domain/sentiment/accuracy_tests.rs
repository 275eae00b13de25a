//! Accuracy on the labelled set (`testdata/labelled.tsv`); see ACCURACY.md.

use super::{LexiconScorer, SentimentLabel, SentimentScorer};
use crate::domain::language::detect_language;

struct Row {
    lang: &'static str,
    label: SentimentLabel,
    split: &'static str,
    text: &'static str,
}

fn rows() -> Vec<Row> {
    include_str!("testdata/labelled.tsv")
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, '\t').collect();
            Row {
                lang: f[0],
                label: SentimentLabel::parse(f[1]).unwrap(),
                split: f[2],
                text: f[3],
            }
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    n: usize,
    three_class: usize,
    polar_n: usize,
    polar_ok: usize,
    lang_ok: usize,
}

impl Tally {
    fn rate(ok: usize, n: usize) -> f64 {
        if n == 0 { 0.0 } else { ok as f64 / n as f64 }
    }
}

fn measure(lang: &str, split: Option<&str>) -> Tally {
    let scorer = LexiconScorer::new();
    let mut t = Tally::default();
    for row in rows()
        .iter()
        .filter(|r| r.lang == lang && split.is_none_or(|s| s == r.split))
    {
        let detected = detect_language(row.text);
        let got = scorer.score(row.text, detected).label;
        t.n += 1;
        t.three_class += usize::from(got == row.label);
        if row.label != SentimentLabel::Neutral {
            t.polar_n += 1;
            t.polar_ok += usize::from(got == row.label);
        }
        t.lang_ok += usize::from(detected == Some(row.lang));
    }
    t
}

#[test]
fn accuracy_floors() {
    println!("lang split  n    3-class  pos/neg  lang-detect");
    for lang in ["en", "es"] {
        for split in [Some("tune"), Some("test"), None] {
            let t = measure(lang, split);
            println!(
                "{lang}   {:<5} {:<4} {:.2}     {:.2}     {:.2}",
                split.unwrap_or("all"),
                t.n,
                Tally::rate(t.three_class, t.n),
                Tally::rate(t.polar_ok, t.polar_n),
                Tally::rate(t.lang_ok, t.n),
            );
        }
        let test = measure(lang, Some("test"));
        assert!(
            Tally::rate(test.three_class, test.n) >= THREE_CLASS_FLOOR,
            "{lang} 3-class"
        );
        assert!(
            Tally::rate(test.polar_ok, test.polar_n) >= POLAR_FLOOR,
            "{lang} pos/neg"
        );
        assert!(
            Tally::rate(test.lang_ok, test.n) >= LANG_FLOOR,
            "{lang} detection"
        );
    }
}

/// Floors set below what the held-out half measured (0.89 en / 0.78 es) so noise does not flake.
const THREE_CLASS_FLOOR: f64 = 0.70;
/// Positive-vs-negative floor (measured 0.83 en / 0.67 es on the test half).
const POLAR_FLOOR: f64 = 0.60;
/// Detection floor (measured 0.97 en / 0.92 es on the test half).
const LANG_FLOOR: f64 = 0.85;
