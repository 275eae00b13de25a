//! What a post may carry on one channel: the checks a variant must pass
//! against its platform's limits before it can be scheduled.

/// A media item as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFact {
    /// Media id.
    pub id: String,
    /// Sniffed MIME type.
    pub mime: String,
}

/// What the channel's platform accepts.
#[derive(Debug, Clone, Copy)]
pub struct PlatformRules<'a> {
    /// The platform's name, for messages.
    pub platform: &'a str,
    /// Longest text, in characters (Unicode scalar values).
    pub max_text_chars: u32,
    /// Most attachments on one part.
    pub max_media: u32,
    /// MIME types accepted.
    pub media_types: &'a [String],
    /// Whether it takes threads and first comments.
    pub threads: bool,
}

/// One part of what goes out on a channel: the main post or a follow-up.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    /// Field prefix for errors (`variants[0]`, `variants[0].follow_ups[1]`).
    pub field: &'a str,
    /// The text as it will be sent (UTM parameters already added).
    pub text: &'a str,
    /// Its attachments.
    pub media: &'a [MediaFact],
}

/// A problem with one field.
pub type Issue = (String, String);

/// Checks the main part and the follow-ups of one variant.
pub fn check_parts(
    main: Part<'_>,
    follow_ups: &[Part<'_>],
    rules: PlatformRules<'_>,
) -> Vec<Issue> {
    let mut issues = check_part(main, rules);
    if !follow_ups.is_empty() && !rules.threads {
        issues.push((
            format!("{}.follow_ups", main.field),
            format!("{} does not take threads or first comments", rules.platform),
        ));
        return issues;
    }
    for part in follow_ups {
        issues.extend(check_part(*part, rules));
    }
    issues
}

fn check_part(part: Part<'_>, rules: PlatformRules<'_>) -> Vec<Issue> {
    let mut issues = Vec::new();
    let chars = part.text.chars().count();
    if part.text.trim().is_empty() && part.media.is_empty() {
        issues.push((
            format!("{}.text", part.field),
            "needs text or media".to_owned(),
        ));
    }
    if chars > rules.max_text_chars as usize {
        issues.push((
            format!("{}.text", part.field),
            format!(
                "is {chars} characters; {} takes at most {}",
                rules.platform, rules.max_text_chars
            ),
        ));
    }
    if part.media.len() > rules.max_media as usize {
        let message = if rules.max_media == 0 {
            format!("{} takes no media", rules.platform)
        } else {
            format!(
                "has {} attachments; {} takes at most {}",
                part.media.len(),
                rules.platform,
                rules.max_media
            )
        };
        issues.push((format!("{}.media_ids", part.field), message));
    } else {
        for (i, media) in part.media.iter().enumerate() {
            if !rules.media_types.iter().any(|t| t == &media.mime) {
                issues.push((
                    format!("{}.media_ids[{i}]", part.field),
                    format!("{} does not take {}", rules.platform, media.mime),
                ));
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(types: &[String]) -> PlatformRules<'_> {
        PlatformRules {
            platform: "Mastodon",
            max_text_chars: 10,
            max_media: 2,
            media_types: types,
            threads: false,
        }
    }

    fn png(id: &str) -> MediaFact {
        MediaFact {
            id: id.into(),
            mime: "image/png".into(),
        }
    }

    #[test]
    fn text_over_the_limit_is_named_with_both_numbers() {
        let types = vec!["image/png".to_owned()];
        let eleven = "ñ".repeat(11);
        let main = Part {
            field: "variants[0]",
            text: &eleven,
            media: &[],
        };
        let issues = check_parts(main, &[], rules(&types));
        assert_eq!(
            issues,
            vec![(
                "variants[0].text".to_owned(),
                "is 11 characters; Mastodon takes at most 10".to_owned()
            )]
        );
        let fits = Part {
            text: &"ñ".repeat(10),
            ..main
        };
        assert!(check_parts(fits, &[], rules(&types)).is_empty());
    }

    #[test]
    fn media_count_and_types_are_checked() {
        let types = vec!["image/png".to_owned()];
        let three = [png("a"), png("b"), png("c")];
        let main = Part {
            field: "variants[0]",
            text: "hi",
            media: &three,
        };
        let issues = check_parts(main, &[], rules(&types));
        assert_eq!(issues[0].0, "variants[0].media_ids");
        let gif = [MediaFact {
            id: "g".into(),
            mime: "image/gif".into(),
        }];
        let main = Part {
            media: &gif,
            ..main
        };
        let issues = check_parts(main, &[], rules(&types));
        assert_eq!(
            issues,
            vec![(
                "variants[0].media_ids[0]".to_owned(),
                "Mastodon does not take image/gif".to_owned()
            )]
        );
    }

    #[test]
    fn follow_ups_need_thread_support_and_pass_the_same_checks() {
        let types = vec![];
        let main = Part {
            field: "variants[0]",
            text: "hi",
            media: &[],
        };
        let long = "x".repeat(11);
        let follow = [Part {
            field: "variants[0].follow_ups[0]",
            text: &long,
            media: &[],
        }];
        let issues = check_parts(main, &follow, rules(&types));
        assert_eq!(issues[0].0, "variants[0].follow_ups");
        let threaded = PlatformRules {
            threads: true,
            ..rules(&types)
        };
        let issues = check_parts(main, &follow, threaded);
        assert_eq!(issues[0].0, "variants[0].follow_ups[0].text");
    }

    #[test]
    fn an_empty_part_is_refused() {
        let types = vec![];
        let main = Part {
            field: "variants[1]",
            text: "  ",
            media: &[],
        };
        assert_eq!(
            check_parts(main, &[], rules(&types))[0].1,
            "needs text or media"
        );
    }
}
