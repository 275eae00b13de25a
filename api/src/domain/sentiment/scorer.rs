//! VADER-style lexicon scorer: valences, negation, boosters, caps, "but", "!" and emoji.

use super::lexicon::{EMOJI, EN, ES, Lexicon, normalize, stem_valence};
use super::{Sentiment, SentimentScorer};

/// VADER's normalization constant: `x / sqrt(x² + ALPHA)`.
const ALPHA: f64 = 15.0;
/// How much a booster adds (or a damper removes) on the -5..5 scale.
const BOOST: f64 = 0.3;
/// Extra intensity for an ALL-CAPS word in a mixed-case text.
const CAPS_BOOST: f64 = 0.733;
/// Per-`!` extra intensity, capped at four marks (VADER).
const EXCLAMATION_BOOST: f64 = 0.292;
/// Negated valences flip and shrink (VADER's -0.74).
const NEGATION_FACTOR: f64 = -0.74;
/// How many preceding tokens a negator or booster reaches.
const SCOPE: usize = 3;

const NEGATORS: &[&str] = &[
    "no", "not", "nunca", "jamas", "ni", "sin", "never", "isn't", "isnt", "don't", "dont",
    "doesn't", "doesnt", "didn't", "didnt", "wasn't", "wasnt", "can't", "cant", "won't", "wont",
    "aren't", "nobody", "nadie", "nada", "none", "nothing", "tampoco", "without",
];
const BOOSTERS: &[&str] = &[
    "muy",
    "very",
    "super",
    "tan",
    "so",
    "really",
    "extremely",
    "re",
    "mega",
    "demasiado",
    "totally",
    "totalmente",
    "too",
    "absolutely",
    "bien",
    "sumamente",
    "incredibly",
    "sooo",
];
const DAMPERS: &[&str] = &[
    "poco", "barely", "hardly", "slightly", "algo", "kinda", "somewhat",
];
const CONTRASTS: &[&str] = &["but", "pero", "however", "aunque", "embargo"];

/// The lexicon-based [`SentimentScorer`]; lexicons are parsed once per process, so `new` is cheap.
#[derive(Debug, Clone, Copy, Default)]
pub struct LexiconScorer;

impl LexiconScorer {
    /// Creates a scorer (the lexicons load lazily on first use).
    pub fn new() -> Self {
        Self
    }
}

/// One scorable token after cleaning.
struct Token {
    norm: String,
    all_caps: bool,
}

impl SentimentScorer for LexiconScorer {
    fn score(&self, text: &str, language: Option<&str>) -> Sentiment {
        // Unknown language: English first, then Spanish (a word like "sin" is a Spanish
        // negator anyway, so the only conflicts are rare true-cognates such as "horrible").
        let lexicons: &[&Lexicon] = match language {
            Some("en") => &[&EN],
            Some("es") => &[&ES],
            _ => &[&EN, &ES],
        };
        let (tokens, emoji_sum, exclamations) = tokenize(text);
        let text_is_shouting = tokens.iter().all(|t| t.all_caps);

        let mut valences: Vec<f64> = Vec::with_capacity(tokens.len());
        for (i, token) in tokens.iter().enumerate() {
            let Some(mut v) = lookup(lexicons, &token.norm) else {
                valences.push(0.0);
                continue;
            };
            if token.all_caps && !text_is_shouting {
                v += CAPS_BOOST * v.signum();
            }
            let start = i.saturating_sub(SCOPE);
            let window = tokens.get(start..i).unwrap_or_default();
            let mut negated = false;
            for (distance, prev) in window.iter().rev().enumerate() {
                // Boosters fade with distance as in VADER (1, 0.95, 0.9).
                let fade = 1.0 - 0.05 * distance as f64;
                let word = prev.norm.as_str();
                if BOOSTERS.contains(&word) {
                    v += BOOST * fade * v.signum();
                } else if DAMPERS.contains(&word) {
                    v -= BOOST * fade * v.signum();
                }
                if NEGATORS.contains(&word) || word.ends_with("n't") {
                    negated = true;
                }
            }
            if negated {
                v *= NEGATION_FACTOR;
            }
            valences.push(v);
        }

        // Contrast: the clause after "but"/"pero"/"sin embargo" carries the weight.
        if let Some(pivot) = tokens
            .iter()
            .rposition(|t| CONTRASTS.contains(&t.norm.as_str()))
        {
            for (i, v) in valences.iter_mut().enumerate() {
                *v *= if i < pivot { 0.5 } else { 1.5 };
            }
        }

        let mut sum: f64 = valences.iter().sum::<f64>() + emoji_sum;
        if sum != 0.0 {
            sum += f64::from(exclamations.min(4)) * EXCLAMATION_BOOST * sum.signum();
        }
        Sentiment::from_score(normalize_score(sum))
    }
}

/// Maps an unbounded sum to -1..1 like VADER's compound score.
fn normalize_score(sum: f64) -> f64 {
    (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

/// Looks a word up in the lexicons, retrying with elongations collapsed ("buenooo" → "bueno").
fn lookup(lexicons: &[&Lexicon], word: &str) -> Option<f64> {
    let find = |w: &str| lexicons.iter().find_map(|lex| lex.get(w).copied());
    if word.is_empty() {
        return None;
    }
    let spanish = lexicons.iter().any(|lex| std::ptr::eq(*lex, &*ES));
    find(word)
        .or_else(|| find(&collapse_runs(word, 2)))
        .or_else(|| find(&collapse_runs(word, 1)))
        .or_else(|| {
            spanish
                .then(|| stem_valence(&collapse_runs(word, 1)))
                .flatten()
        })
}

/// Shortens runs of a repeated char to at most `max` ("sooo" → "soo" / "so").
fn collapse_runs(word: &str, max: usize) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    let mut run = 0;
    for c in word.chars() {
        if Some(c) == last {
            run += 1;
        } else {
            last = Some(c);
            run = 1;
        }
        if run <= max {
            out.push(c);
        }
    }
    out
}

/// Splits a text into word tokens, summing emoji valences and counting `!` on the way.
/// Mentions and URLs are dropped; hashtags keep their word ("#fail" → "fail").
fn tokenize(text: &str) -> (Vec<Token>, f64, u32) {
    let mut tokens = Vec::new();
    let mut emoji_sum = 0.0;
    let mut exclamations = 0;
    for raw in text.split_whitespace() {
        if raw.starts_with('@') || raw.starts_with("http://") || raw.starts_with("https://") {
            continue;
        }
        let mut word = String::new();
        for c in raw.chars() {
            if c.is_alphanumeric() || c == '\'' || c == '’' {
                word.push(if c == '’' { '\'' } else { c });
                continue;
            }
            if c == '!' {
                exclamations += 1;
            } else if let Some(v) = EMOJI.get(&c) {
                emoji_sum += v;
            }
            // Punctuation inside a token ("bueno,malo") splits it.
            push_word(&mut tokens, &mut word);
        }
        push_word(&mut tokens, &mut word);
    }
    (tokens, emoji_sum, exclamations)
}

fn push_word(tokens: &mut Vec<Token>, word: &mut String) {
    let trimmed = word.trim_matches('\'');
    if !trimmed.is_empty() {
        let letters = trimmed.chars().filter(|c| c.is_alphabetic()).count();
        let all_caps = letters > 1 && trimmed.chars().all(|c| !c.is_lowercase());
        let mut norm = normalize(trimmed);
        // "sin embargo" is a contrast, not a negation.
        if norm == "embargo"
            && let Some(prev) = tokens.last_mut()
            && prev.norm == "sin"
        {
            prev.norm.clear();
        }
        norm.shrink_to_fit();
        tokens.push(Token { norm, all_caps });
    }
    word.clear();
}
