//! The name a file had on the uploader's machine: kept to show people, never
//! used as a path or to decide what the file is.

/// Most characters kept of an uploaded file's name.
pub const MAX_FILENAME_CHARS: usize = 255;

/// Longest extension kept whole when a long name is shortened.
const MAX_EXTENSION_CHARS: usize = 16;

/// Characters that make a name look like something else: bidirectional
/// overrides and isolates (`cat\u{202e}gnp.exe` shows as `catexe.png`),
/// zero-width characters, the byte-order mark and the soft hyphen.
fn is_deceptive(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// The uploader's file name made safe to store and show: only its last path
/// component; control and deceptive characters dropped; characters that
/// are reserved in file names on common systems replaced by `_`; runs of
/// white space made one space; no leading or trailing dots or spaces; at
/// most [`MAX_FILENAME_CHARS`] characters, keeping the extension. `None`
/// when nothing is left.
pub fn sanitize_filename(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let mut name = String::with_capacity(base.len());
    for c in base.chars() {
        if c.is_control() || is_deceptive(c) {
            continue;
        }
        if c.is_whitespace() {
            if !name.ends_with(' ') {
                name.push(' ');
            }
            continue;
        }
        let reserved = matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*');
        name.push(if reserved { '_' } else { c });
    }
    let name = name.trim_matches(|c| c == '.' || c == ' ');
    if name.is_empty() {
        return None;
    }
    Some(shorten(name))
}

/// Cuts a name to [`MAX_FILENAME_CHARS`], keeping a short extension.
fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_FILENAME_CHARS {
        return name.to_owned();
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.chars().count() <= MAX_EXTENSION_CHARS);
    match extension {
        Some(ext) => {
            let keep = MAX_FILENAME_CHARS - ext.chars().count() - 1;
            let stem: String = name.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end_matches(['.', ' ']))
        }
        None => name.chars().take(MAX_FILENAME_CHARS).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_path_component_is_kept() {
        for (raw, clean) in [
            ("cat.png", "cat.png"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\ada\\Pictures\\cat.png", "cat.png"),
            ("/tmp/dir/", ""),
            ("..", ""),
            ("./.", ""),
        ] {
            assert_eq!(sanitize_filename(raw).unwrap_or_default(), clean, "{raw}");
        }
    }

    #[test]
    fn control_deceptive_and_reserved_characters_go() {
        assert_eq!(
            sanitize_filename("cat\u{202e}gnp.exe").as_deref(),
            Some("catgnp.exe")
        );
        assert_eq!(
            sanitize_filename("a\u{0}b\r\n.png").as_deref(),
            Some("ab.png")
        );
        assert_eq!(
            sanitize_filename("what?<is>:this*.png").as_deref(),
            Some("what__is__this_.png")
        );
        assert_eq!(
            sanitize_filename("  .hidden   file . ").as_deref(),
            Some("hidden file")
        );
        assert_eq!(
            sanitize_filename("zero\u{200b}width\u{feff}.gif").as_deref(),
            Some("zerowidth.gif")
        );
        assert_eq!(
            sanitize_filename("Café 日本.jpg").as_deref(),
            Some("Café 日本.jpg")
        );
        assert_eq!(sanitize_filename(""), None);
        assert_eq!(sanitize_filename("\u{202e}\u{0}"), None);
    }

    #[test]
    fn long_names_are_cut_keeping_the_extension() {
        let long = format!("{}.png", "é".repeat(400));
        let cut = sanitize_filename(&long).unwrap_or_default();
        assert_eq!(cut.chars().count(), MAX_FILENAME_CHARS);
        assert!(cut.ends_with("é.png"), "{cut}");
        let no_extension = "x".repeat(300);
        let cut = sanitize_filename(&no_extension).unwrap_or_default();
        assert_eq!(cut.chars().count(), MAX_FILENAME_CHARS);
        let odd_extension = format!("a.{}", "y".repeat(300));
        let cut = sanitize_filename(&odd_extension).unwrap_or_default();
        assert_eq!(cut.chars().count(), MAX_FILENAME_CHARS);
    }
}
