//! Text and numbers as a chart shows them: XML-escaped, compact, and cut to
//! the room there is.

/// Width of one ordinary character, in ems: generous for system-ui digits
/// and lower case, so an estimate errs towards leaving room rather than
/// letting labels collide.
const NARROW_EM: f64 = 0.6;
/// Width of one CJK character or emoji, in ems.
const WIDE_EM: f64 = 1.0;
/// Larger numbers get a suffix (1.2k) instead of more digits.
const SUFFIXES: [&str; 4] = ["k", "M", "B", "T"];

/// `text` made safe as XML character data and as an attribute value.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // A label is one line: a break would only collapse to a space.
            '\t' | '\n' | '\r' => out.push(' '),
            // XML 1.0 forbids these even as character references.
            c if u32::from(c) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A coordinate or length in the SVG: at most two decimals, no trailing
/// zeros, so 10,000 points stay a small document.
pub(super) fn num(value: f64) -> String {
    if !value.is_finite() {
        // Only absurd input (spans past f64) gets here; a number keeps the
        // document well-formed where "NaN" would not be valid SVG.
        return "0".to_owned();
    }
    fixed(value, 2)
}

/// A value as a person reads it on a chart: 950, 37.5, 1.2k, 3.4M, 1.5B,
/// 0.25, 0.012.
pub(super) fn compact(value: f64) -> String {
    if !value.is_finite() {
        return "no data".to_owned();
    }
    let mut scaled = value;
    let mut suffix = "";
    for next in SUFFIXES {
        // Rounded first, so 999.96k becomes 1M rather than "1000k".
        let decimals = decimals(scaled.abs(), !suffix.is_empty());
        if round_to(scaled.abs(), decimals) < 1000.0 {
            break;
        }
        scaled /= 1000.0;
        suffix = next;
    }
    let decimals = decimals(scaled.abs(), !suffix.is_empty());
    format!("{}{suffix}", fixed(scaled, decimals))
}

/// The label of an axis tick at `value` on an axis stepping by `step`:
/// compact like [`compact`], with just enough decimals that neighbouring
/// ticks never read the same (0.05, 0.1, 0.15; 1.2k, 1.4k).
pub(super) fn tick_label(value: f64, step: f64) -> String {
    if !value.is_finite() {
        return "0".to_owned();
    }
    let mut scale = 1.0;
    let mut suffix = "";
    for next in SUFFIXES {
        if value.abs() < scale * 1000.0 {
            break;
        }
        scale *= 1000.0;
        suffix = next;
    }
    let relative = step / scale;
    let decimals = if relative.is_finite() && relative > 0.0 {
        (-(relative.log10() + 1e-9).floor()).clamp(0.0, 12.0) as usize
    } else {
        0
    };
    format!("{}{suffix}", fixed(value / scale, decimals))
}

/// Roughly how wide `text` is drawn at `font_px`, in pixels.
pub(super) fn text_width(text: &str, font_px: f64) -> f64 {
    text.chars().map(char_em).sum::<f64>() * font_px
}

/// `text` cut with "…" to at most `max_chars` characters and `max_px`
/// pixels at `font_px`; whole when it fits.
pub(super) fn fit(text: &str, max_chars: usize, max_px: f64, font_px: f64) -> String {
    if text.chars().count() <= max_chars && text_width(text, font_px) <= max_px {
        return text.to_owned();
    }
    let ellipsis = char_em('…') * font_px;
    let mut kept = String::new();
    let mut width = ellipsis;
    for c in text.chars().take(max_chars.saturating_sub(1)) {
        width += char_em(c) * font_px;
        if width > max_px {
            break;
        }
        kept.push(c);
    }
    if kept.is_empty() && ellipsis > max_px {
        return String::new();
    }
    let mut out = kept.trim_end().to_owned();
    out.push('…');
    out
}

fn char_em(c: char) -> f64 {
    let wide = matches!(
        u32::from(c),
        0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1FAFF
            | 0x20000..=0x3FFFD
    );
    if wide { WIDE_EM } else { NARROW_EM }
}

/// How many decimals a value of size `abs` shows: two significant digits
/// below one, fewer as it grows.
fn decimals(abs: f64, suffixed: bool) -> usize {
    if suffixed {
        if abs >= 99.95 { 0 } else { 1 }
    } else if abs >= 99.995 {
        0
    } else if abs >= 1.0 || abs == 0.0 {
        2
    } else {
        (1.0 - abs.log10().floor()).clamp(2.0, 6.0) as usize
    }
}

fn round_to(value: f64, decimals: usize) -> f64 {
    let factor = 10f64.powi(decimals as i32);
    (value * factor).round() / factor
}

/// `value` with `decimals` decimals, trailing zeros and a negative zero
/// dropped.
fn fixed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    if text.trim_start_matches('-').chars().all(|c| c == '0') {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_numbers_read_like_a_dashboard() {
        let cases: [(f64, &str); 22] = [
            (0.0, "0"),
            (-0.0, "0"),
            (7.0, "7"),
            (950.0, "950"),
            (999.0, "999"),
            (999.7, "1k"),
            (1000.0, "1k"),
            (1234.0, "1.2k"),
            (12_345.0, "12.3k"),
            (123_456.0, "123k"),
            (999_960.0, "1M"),
            (3_400_000.0, "3.4M"),
            (1_500_000_000.0, "1.5B"),
            (2.5e12, "2.5T"),
            (-1500.0, "-1.5k"),
            (-0.5, "-0.5"),
            (0.25, "0.25"),
            (0.0123, "0.012"),
            (0.000_001_2, "0.000001"),
            (37.456, "37.46"),
            (123.4, "123"),
            (f64::NAN, "no data"),
        ];
        for (value, expected) in cases {
            assert_eq!(compact(value), expected, "compact({value})");
        }
    }

    #[test]
    fn tick_labels_tell_neighbours_apart() {
        let cases: [(f64, f64, &str); 10] = [
            (0.0, 200.0, "0"),
            (800.0, 200.0, "800"),
            (1200.0, 200.0, "1.2k"),
            (1000.0, 200.0, "1k"),
            (0.15, 0.05, "0.15"),
            (0.1, 0.05, "0.1"),
            (0.30000000000000004, 0.1, "0.3"),
            (-40_000.0, 20_000.0, "-40k"),
            (2_500_000.0, 500_000.0, "2.5M"),
            (0.015, 0.005, "0.015"),
        ];
        for (value, step, expected) in cases {
            assert_eq!(
                tick_label(value, step),
                expected,
                "tick_label({value}, {step})"
            );
        }
    }

    #[test]
    fn coordinates_have_at_most_two_decimals() {
        let cases: [(f64, &str); 6] = [
            (12.0, "12"),
            (12.5, "12.5"),
            (12.3456, "12.35"),
            (-0.001, "0"),
            (f64::NAN, "0"),
            (f64::INFINITY, "0"),
        ];
        for (value, expected) in cases {
            assert_eq!(num(value), expected, "num({value})");
        }
    }

    #[test]
    fn escape_leaves_nothing_that_breaks_xml() {
        assert_eq!(
            escape("<b>Tom & \"Jerry\"'s</b>"),
            "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&#39;s&lt;/b&gt;"
        );
        assert_eq!(escape("a\u{0}b\u{1b}c\nd\u{FFFF}"), "abc d");
        assert_eq!(escape("café 日本"), "café 日本");
    }

    #[test]
    fn fit_cuts_with_an_ellipsis_only_when_needed() {
        let cases: [(&str, usize, f64, &str); 6] = [
            ("Instagram", 14, 200.0, "Instagram"),
            ("A very long campaign name", 14, 500.0, "A very long c…"),
            ("A very long campaign name", 40, 50.0, "A ver…"),
            ("Mastodon", 14, 5.0, ""),
            ("Mastodon", 14, 8.0, "…"),
            ("日本語のラベル", 14, 40.0, "日本…"),
        ];
        for (text, chars, px, expected) in cases {
            assert_eq!(
                fit(text, chars, px, 12.0),
                expected,
                "fit({text:?}, {chars}, {px})"
            );
        }
    }
}
