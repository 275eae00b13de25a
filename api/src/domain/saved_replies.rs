//! Saved replies: answers a team writes once and sends many times, with
//! `{{variables}}` filled from the item being answered.

/// The variables a saved reply may use.
pub const VARIABLES: [&str; 5] = [
    "author.name",
    "author.first_name",
    "author.handle",
    "channel.name",
    "item.url",
];

/// Most characters of a saved reply.
pub const MAX_CHARS: usize = 5_000;

/// What fills the variables for one item.
#[derive(Debug, Clone, Default)]
pub struct Variables<'a> {
    /// The author's display name (the handle when it has none).
    pub author_name: &'a str,
    /// The author's handle.
    pub author_handle: &'a str,
    /// The channel's name.
    pub channel_name: &'a str,
    /// The item's address.
    pub item_url: &'a str,
}

impl Variables<'_> {
    fn value(&self, name: &str) -> Option<String> {
        Some(match name {
            "author.name" => self.author_name.to_owned(),
            "author.first_name" => self
                .author_name
                .split_whitespace()
                .next()
                .unwrap_or(self.author_name)
                .to_owned(),
            "author.handle" => self.author_handle.to_owned(),
            "channel.name" => self.channel_name.to_owned(),
            "item.url" => self.item_url.to_owned(),
            _ => return None,
        })
    }
}

/// One piece of a template: text, or a variable's name.
enum Piece<'a> {
    Text(&'a str),
    Variable(&'a str),
}

fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let (text, after) = rest.split_at(open);
        pieces.push(Piece::Text(text));
        let after = after.get(2..).unwrap_or_default();
        let close = after
            .find("}}")
            .ok_or_else(|| "has a `{{` that is never closed with `}}`".to_owned())?;
        let (name, tail) = after.split_at(close);
        pieces.push(Piece::Variable(name.trim()));
        rest = tail.get(2..).unwrap_or_default();
    }
    pieces.push(Piece::Text(rest));
    Ok(pieces)
}

/// Checks a template: not blank, not too long, and only known variables.
pub fn check(template: &str) -> Result<(), String> {
    if template.trim().is_empty() {
        return Err("must not be blank".to_owned());
    }
    if template.chars().count() > MAX_CHARS {
        return Err(format!("must be at most {MAX_CHARS} characters"));
    }
    for piece in pieces(template)? {
        if let Piece::Variable(name) = piece
            && !VARIABLES.contains(&name)
        {
            return Err(format!(
                "uses `{{{{{name}}}}}`, which is not a variable; use one of {}",
                VARIABLES.join(", ")
            ));
        }
    }
    Ok(())
}

/// Fills a checked template's variables (an unknown one stays as written).
pub fn render(template: &str, variables: &Variables<'_>) -> String {
    let Ok(pieces) = pieces(template) else {
        return template.to_owned();
    };
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.to_owned(),
            Piece::Variable(name) => variables
                .value(name)
                .unwrap_or_else(|| format!("{{{{{name}}}}}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Variables<'static> {
        Variables {
            author_name: "Ana García",
            author_handle: "@ana",
            channel_name: "Brand",
            item_url: "https://example.social/1",
        }
    }

    #[test]
    fn fills_every_variable() {
        let out = render(
            "Hola {{author.first_name}} ({{ author.handle }}), {{author.name}} on {{channel.name}}: {{item.url}}",
            &vars(),
        );
        assert_eq!(
            out,
            "Hola Ana (@ana), Ana García on Brand: https://example.social/1"
        );
    }

    #[test]
    fn refuses_unknown_variables_and_open_braces() {
        assert!(
            check("Hi {{author.email}}")
                .unwrap_err()
                .contains("author.email")
        );
        assert!(check("Hi {{author.name").is_err());
        assert!(check("   ").is_err());
        assert!(check(&"x".repeat(MAX_CHARS + 1)).is_err());
        assert!(check("Thanks {{author.name}}!").is_ok());
    }

    #[test]
    fn text_without_variables_is_unchanged() {
        assert_eq!(render("plain {text}", &vars()), "plain {text}");
    }
}
