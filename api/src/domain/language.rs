//! Language detection for short social-media texts.
//!
//! Approach: strip URLs, @mentions, #hashtags and emoji (they carry no language
//! signal and confuse trigram models), then ask `whatlang`. When whatlang says its
//! guess is reliable we trust it. Short texts rarely are, so we then weigh cheap
//! Spanish-vs-English evidence (stopwords, `¿`, `¡`, `ñ`, accented vowels): our
//! audiences are mostly Spanish or English, so a clear margin there decides.
//! Otherwise we answer `None` rather than guess.

use std::sync::LazyLock;

use whatlang::{Detector, Lang};

/// Restricting whatlang to the languages we can name keeps detection ~10x cheaper.
static DETECTOR: LazyLock<Detector> = LazyLock::new(|| {
    Detector::with_allowlist(vec![
        Lang::Spa,
        Lang::Eng,
        Lang::Por,
        Lang::Fra,
        Lang::Ita,
        Lang::Deu,
        Lang::Cat,
        Lang::Nld,
    ])
});

/// Fewer letters than this and we do not even try.
const MIN_LETTERS: usize = 6;

const ES_STOPWORDS: &[&str] = &[
    "el", "la", "los", "las", "de", "del", "que", "y", "en", "un", "una", "es", "por", "con",
    "para", "no", "lo", "mi", "muy", "pero", "como", "mas", "esta", "este", "son", "se", "su",
    "al", "ya", "me", "yo", "tu", "hay", "fue", "todo", "gracias", "hola", "porque", "nunca",
];
const EN_STOPWORDS: &[&str] = &[
    "the", "and", "is", "are", "to", "of", "in", "it", "my", "you", "for", "on", "with", "this",
    "that", "not", "was", "but", "be", "have", "i", "so", "just", "your", "me", "at", "can", "do",
    "don't", "what", "why", "thanks", "really", "very", "never", "they", "we", "has",
];

/// Guesses the ISO 639-1 code of `text`, or `None` when the text is too short or the evidence weak.
pub fn detect_language(text: &str) -> Option<&'static str> {
    let cleaned = strip_noise(text);
    let letters = cleaned.chars().filter(|c| c.is_alphabetic()).count();
    if letters < MIN_LETTERS {
        return None;
    }
    let info = DETECTOR.detect(&cleaned);
    if let Some(info) = &info
        && info.is_reliable()
    {
        return iso_639_1(info.lang());
    }
    let (es, en) = es_en_evidence(&cleaned);
    if es >= en + 1.0 {
        return Some("es");
    }
    if en >= es + 1.0 {
        return Some("en");
    }
    // Weak but consistent: whatlang's pick among es/en plus some confidence.
    match info {
        Some(info) if info.confidence() > 0.3 && (es > 0.0 || en > 0.0) => match info.lang() {
            Lang::Spa if es >= en => Some("es"),
            Lang::Eng if en >= es => Some("en"),
            _ => None,
        },
        _ => None,
    }
}

/// Removes URLs, mentions, hashtags and symbols so only running words remain.
fn strip_noise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if word.starts_with('@')
            || word.starts_with('#')
            || word.starts_with("http://")
            || word.starts_with("https://")
            || word.starts_with("www.")
        {
            continue;
        }
        let kept: String = word
            .chars()
            .filter(|c| c.is_alphabetic() || matches!(c, '\'' | '¿' | '¡' | '?' | '!' | '.' | ','))
            .collect();
        if !kept.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&kept);
        }
    }
    out
}

/// Scores Spanish and English evidence: one point per stopword, extra for Spanish-only marks.
fn es_en_evidence(cleaned: &str) -> (f64, f64) {
    let mut es = 0.0;
    let mut en = 0.0;
    for c in cleaned.chars() {
        match c {
            '¿' | '¡' | 'ñ' | 'Ñ' => es += 2.0,
            'á' | 'é' | 'í' | 'ó' | 'ú' => es += 0.5,
            _ => {}
        }
    }
    for word in cleaned.split_whitespace() {
        let w: String = word
            .chars()
            .filter(|c| c.is_alphabetic() || *c == '\'')
            .flat_map(char::to_lowercase)
            .collect();
        let w = w.replace('á', "a");
        if ES_STOPWORDS.contains(&w.as_str()) {
            es += 1.0;
        }
        if EN_STOPWORDS.contains(&w.as_str()) {
            en += 1.0;
        }
    }
    (es, en)
}

/// Maps whatlang's languages to ISO 639-1 for the ones our customers meet; others are `None`.
fn iso_639_1(lang: Lang) -> Option<&'static str> {
    Some(match lang {
        Lang::Spa => "es",
        Lang::Eng => "en",
        Lang::Por => "pt",
        Lang::Fra => "fr",
        Lang::Ita => "it",
        Lang::Deu => "de",
        Lang::Cat => "ca",
        Lang::Nld => "nl",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_common_cases() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Hola, ¿alguien sabe por qué no llega mi pedido?",
                Some("es"),
            ),
            ("el servicio es muy malo y nadie responde", Some("es")),
            (
                "My order never arrived and nobody answers the phone",
                Some("en"),
            ),
            ("this is the best coffee in town", Some("en")),
            ("ok", None),
            ("", None),
            ("@brand 😀😀 #promo https://x.co/abc", None),
        ];
        for (text, want) in cases {
            assert_eq!(detect_language(text), *want, "{text}");
        }
    }

    #[test]
    fn mentions_and_urls_do_not_sway_detection() {
        let text = "@the_best_brand_ever https://example.com/the/and/is el pedido no llego nunca";
        assert_eq!(detect_language(text), Some("es"));
    }
}
