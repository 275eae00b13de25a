//! UTM parameters added to the links of a post, per campaign and channel.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The five UTM parameters; absent ones are not added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"source": "mastodon", "medium": "social", "campaign": "spring-launch"}))]
pub struct UtmParams {
    /// `utm_source`: where the click comes from (defaults to the channel's platform).
    pub source: Option<String>,
    /// `utm_medium`: `social` unless said otherwise.
    pub medium: Option<String>,
    /// `utm_campaign`.
    pub campaign: Option<String>,
    /// `utm_term`.
    pub term: Option<String>,
    /// `utm_content`.
    pub content: Option<String>,
}

impl UtmParams {
    /// `self` with `over`'s values where it has them.
    pub fn merged(&self, over: &UtmParams) -> UtmParams {
        let pick = |a: &Option<String>, b: &Option<String>| b.clone().or_else(|| a.clone());
        UtmParams {
            source: pick(&self.source, &over.source),
            medium: pick(&self.medium, &over.medium),
            campaign: pick(&self.campaign, &over.campaign),
            term: pick(&self.term, &over.term),
            content: pick(&self.content, &over.content),
        }
    }

    /// Whether any parameter is set.
    pub fn is_empty(&self) -> bool {
        self.pairs().next().is_none()
    }

    /// Checks lengths and characters of each value.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        for (name, value) in self.pairs() {
            if value.trim().is_empty() || value.chars().count() > 100 {
                return Err((name, "must be 1–100 characters"));
            }
            if value.chars().any(char::is_control) {
                return Err((name, "must not contain control characters"));
            }
        }
        Ok(())
    }

    fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("source", &self.source),
            ("medium", &self.medium),
            ("campaign", &self.campaign),
            ("term", &self.term),
            ("content", &self.content),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
    }
}

/// Characters that end a sentence rather than a link.
const TRAILING: &[char] = &['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"'];

/// Adds the parameters to every http(s) link in `text`. A link that already
/// carries a `utm_` parameter of the same name keeps its own.
pub fn tag_links(text: &str, params: &UtmParams) -> String {
    if params.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = find_link(rest) {
        let (before, from_link) = rest.split_at(start);
        out.push_str(before);
        let end = from_link
            .find(char::is_whitespace)
            .unwrap_or(from_link.len());
        let (token, after) = from_link.split_at(end);
        let link = token.trim_end_matches(TRAILING);
        let tail = &token[link.len()..];
        out.push_str(&tag_link(link, params));
        out.push_str(tail);
        rest = after;
    }
    out.push_str(rest);
    out
}

fn find_link(text: &str) -> Option<usize> {
    let http = text.find("http://");
    let https = text.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn tag_link(link: &str, params: &UtmParams) -> String {
    let Ok(mut url) = url::Url::parse(link) else {
        return link.to_owned();
    };
    if url.host_str().is_none_or(|host| !host.contains('.')) {
        return link.to_owned();
    }
    let present: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let missing: Vec<(String, &str)> = params
        .pairs()
        .map(|(name, value)| (format!("utm_{name}"), value))
        .filter(|(key, _)| !present.contains(key))
        .collect();
    if missing.is_empty() {
        return link.to_owned();
    }
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in &missing {
            query.append_pair(key, value);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> UtmParams {
        UtmParams {
            source: Some("mastodon".into()),
            medium: Some("social".into()),
            campaign: Some("spring launch".into()),
            term: None,
            content: None,
        }
    }

    #[test]
    fn every_link_is_tagged_and_punctuation_stays_outside() {
        let text = "New roast! https://acme.example/coffee. And (http://acme.example/?a=1)";
        assert_eq!(
            tag_links(text, &params()),
            "New roast! https://acme.example/coffee?utm_source=mastodon&utm_medium=social&utm_campaign=spring+launch. \
             And (http://acme.example/?a=1&utm_source=mastodon&utm_medium=social&utm_campaign=spring+launch)"
        );
    }

    #[test]
    fn existing_parameters_win_and_text_without_links_is_unchanged() {
        let text = "see https://acme.example/?utm_source=newsletter";
        let tagged = tag_links(text, &params());
        assert!(tagged.contains("utm_source=newsletter"));
        assert!(!tagged.contains("utm_source=mastodon"));
        assert_eq!(tag_links("no links here", &params()), "no links here");
        assert_eq!(
            tag_links("https://acme.example", &UtmParams::default()),
            "https://acme.example"
        );
    }

    #[test]
    fn later_layers_override_earlier_ones() {
        let campaign = params();
        let channel = UtmParams {
            source: Some("bluesky".into()),
            ..UtmParams::default()
        };
        let merged = campaign.merged(&channel);
        assert_eq!(merged.source.as_deref(), Some("bluesky"));
        assert_eq!(merged.campaign.as_deref(), Some("spring launch"));
    }

    #[test]
    fn values_are_checked() {
        let bad = UtmParams {
            term: Some(" ".into()),
            ..UtmParams::default()
        };
        assert_eq!(bad.check(), Err(("term", "must be 1–100 characters")));
        assert!(params().check().is_ok());
    }
}
