//! Text as the watched words see it: NFKD, accents dropped, lower case
//! (full Unicode), runs of whitespace as one space. "MAL  servício!" and
//! "mal servicio" meet.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The normalized form of `text`.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Whether `start..end` of `text` is a whole word or phrase: what is just
/// before and just after it is not a letter or digit (or is the text's end).
pub fn is_whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text.get(..start).and_then(|t| t.chars().next_back());
    let after = text.get(end..).and_then(|t| t.chars().next());
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_spaces_fold() {
        assert_eq!(normalize("¡Qué MAL  servício!"), "¡que mal servicio!");
        assert_eq!(normalize("  Ñandú\tGRANDE "), "nandu grande");
        assert_eq!(normalize("ﬁne"), "fine", "compatibility forms too");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn whole_words_need_boundaries() {
        let text = "a class act, ass!";
        let class = text.find("ass").unwrap();
        assert!(!is_whole_word(text, class, class + 3));
        let last = text.rfind("ass").unwrap();
        assert!(is_whole_word(text, last, last + 3));
        assert!(is_whole_word("ass", 0, 3));
        assert!(is_whole_word("😡ass😡", 4, 7));
    }
}
