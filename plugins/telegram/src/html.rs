//! Text for the Bot API's HTML parse mode, and Telegram's way of counting
//! characters.
//!
//! Plaza's text is plain: it is sent with `parse_mode: "HTML"` after
//! escaping, so `<`, `>` and `&` show as typed and nothing a person wrote
//! can become markup. The API reference ("Formatting options", HTML style)
//! asks for exactly these three to be replaced by `&lt;`, `&gt;` and
//! `&amp;` outside tags; quotes need no escaping outside attributes.

/// The text with `&`, `<` and `>` replaced by their entities.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// The length Telegram measures: UTF-16 code units of the text after
/// entity parsing (message entities' offsets and lengths are in UTF-16
/// code units too), so an emoji outside the BMP counts twice.
pub fn telegram_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The part of `text` from UTF-16 offset `offset`, `len` units long; `None`
/// when the range does not fall on character boundaries inside the text.
pub fn utf16_slice(text: &str, offset: usize, len: usize) -> Option<String> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let end = offset.checked_add(len)?;
    String::from_utf16(units.get(offset..end)?).ok()
}
