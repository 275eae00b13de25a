//! Post text (CommonMark) to the `org.matrix.custom.html` subset clients show.

use pulldown_cmark::{Event, Options, Parser, html};

/// The HTML for `text`, or `None` when it is plain text that HTML would not
/// change (clients then show `body` as it is).
///
/// Raw HTML in the text is escaped, not passed through: what people typed
/// is shown, never interpreted. A text that is one paragraph is not wrapped
/// in `<p>`, as Matrix clients send it.
pub fn to_html(text: &str) -> Option<String> {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let events = Parser::new_ext(text, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // A single line break is a line break in a chat message.
        Event::SoftBreak => Event::HardBreak,
        other => other,
    });
    let mut rendered = String::with_capacity(text.len() * 2);
    html::push_html(&mut rendered, events);
    let rendered = rendered.trim_end();
    let html = match rendered
        .strip_prefix("<p>")
        .and_then(|inner| inner.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => inner,
        _ => rendered,
    };
    (html != escape(text)).then(|| html.to_owned())
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.trim().chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            _ => escaped.push(c),
        }
    }
    escaped
}
