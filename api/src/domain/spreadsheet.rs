//! Text bound for spreadsheets (CSV exports), made safe to open.

use std::borrow::Cow;

/// Characters that make a spreadsheet read a cell as a formula (or, for tab
/// and carriage return, hide one behind them).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell that a spreadsheet shows as text, never runs as a formula: a value
/// starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`
/// (OWASP's advice against CSV injection).
pub fn safe_cell(value: &str) -> Cow<'_, str> {
    if value.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    use super::safe_cell;

    #[test]
    fn formulas_become_text() {
        let cases = [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+1", "'+1+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Ada Lovelace", "Ada Lovelace"),
            ("a=b", "a=b"),
            ("", ""),
        ];
        for (raw, safe) in cases {
            assert_eq!(safe_cell(raw), safe, "{raw:?}");
        }
    }
}
