//! Embedded valence lexicons, parsed once into maps keyed by normalized term.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

/// Term → valence on AFINN's -5..5 scale.
pub(super) type Lexicon = HashMap<String, f64>;

pub(super) static EN: LazyLock<Lexicon> = LazyLock::new(|| parse(include_str!("lexicons/en.tsv")));
pub(super) static ES: LazyLock<Lexicon> = LazyLock::new(|| parse(include_str!("lexicons/es.tsv")));
/// Spanish stems (nlp.js's AFINN-style lexicon): "problem" scores
/// "problemas", "buen" scores "buenos".
pub(super) static ES_STEMS: LazyLock<Lexicon> =
    LazyLock::new(|| parse(include_str!("lexicons/es_stems.tsv")));

/// Shortest stem matched, and most letters a word may add to it: a stem
/// must carry the word ("amor" in "amoroso"), not just start it ("no" in
/// "noche").
const MIN_STEM_CHARS: usize = 4;
const MAX_SUFFIX_CHARS: usize = 4;

/// The valence of a Spanish word through its stem, when one matches.
pub(super) fn stem_valence(word: &str) -> Option<f64> {
    let bounds: Vec<usize> = word.char_indices().map(|(i, _)| i).collect();
    let chars = bounds.len();
    (MIN_STEM_CHARS..=chars)
        .rev()
        .take_while(|cut| chars - cut <= MAX_SUFFIX_CHARS)
        .find_map(|cut| {
            let end = bounds.get(cut).copied().unwrap_or(word.len());
            ES_STEMS.get(word.get(..end)?).copied()
        })
}
pub(super) static EMOJI: LazyLock<HashMap<char, f64>> = LazyLock::new(|| {
    parse(include_str!("lexicons/emoji.tsv"))
        .into_iter()
        .filter_map(|(term, v)| {
            let mut chars = term.chars();
            // Only single-codepoint emoji: we look emoji up one char at a time.
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some((c, v)),
                _ => None,
            }
        })
        .collect()
});

/// Lowercases and drops accents so "Pésimo" and "pesimo" meet; `ñ` becomes `n` on both sides.
pub(super) fn normalize(word: &str) -> String {
    word.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Parses `term<TAB>valence` lines; malformed lines are skipped (the data is ours and tested).
fn parse(tsv: &str) -> Lexicon {
    tsv.lines()
        .filter_map(|line| {
            let (term, valence) = line.split_once('\t')?;
            let valence: f64 = valence.trim().parse().ok()?;
            Some((normalize(term.trim()), valence))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicons_parse_fully() {
        for (tsv, map_len) in [
            (include_str!("lexicons/en.tsv"), EN.len()),
            (include_str!("lexicons/es.tsv"), ES.len()),
            (include_str!("lexicons/es_stems.tsv"), ES_STEMS.len()),
        ] {
            assert_eq!(
                tsv.lines().filter(|l| !l.trim().is_empty()).count(),
                map_len
            );
        }
        assert!(EMOJI.len() > 30);
        assert!(EN.len() > 3000, "AFINN-165");
        assert_eq!(normalize("PÉSIMO"), "pesimo");
    }

    #[test]
    fn spanish_words_meet_their_stems_but_short_prefixes_do_not() {
        assert_eq!(stem_valence("problemas"), Some(-2.0));
        assert!(stem_valence("buenos").is_some_and(|v| v > 0.0));
        assert_eq!(stem_valence("noche"), None, "`no` is too short a stem");
        assert_eq!(stem_valence("problematicamente"), None, "too long a suffix");
    }
}
