//! A post's content as requests carry it, and the checks it must pass:
//! channels of this workspace, media of this library, each variant within
//! its platform's limits and option schema.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::channels::ChannelRow;
use crate::db::posts::{PostRow, PostVariantRow};
use crate::domain::ids::ChannelId;
use crate::domain::post_content::{self, MediaFact, Part, PlatformRules};
use crate::domain::utm::{self, UtmParams};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::channels::pointer_field;
use crate::plugins::bindings::Capabilities;
use crate::state::AppState;

/// Longest body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Most tags on a post.
pub const MAX_TAGS: usize = 30;
/// Most channels one post goes to.
pub const MAX_VARIANTS: usize = 20;
/// Most follow-up parts of one variant.
pub const MAX_FOLLOW_UPS: usize = 25;

/// A follow-up part: the next post of a thread, or the first comment.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// Its text.
    pub text: String,
    /// Its attachments (media ids).
    #[serde(default)]
    pub media_ids: Vec<String>,
}

/// The post as told on one channel.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "channel_id": "01936b2e-7d4c-7c1a-9f4e-3b2a1c0d9e8f",
    "text": "Our spring roast is here ☕ https://acme.example/spring",
    "options": {"visibility": "public"},
    "follow_ups": [{"text": "Tasting notes: cherry, cocoa, almond."}]
}))]
pub struct Variant {
    /// The channel.
    pub channel_id: ChannelId,
    /// Text for this channel; omit to use the post's body.
    pub text: Option<String>,
    /// Attachments for this channel; omit to use the post's media.
    pub media_ids: Option<Vec<String>>,
    /// Platform options, valid against the plugin's post-options schema.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    /// Thread parts or a first comment, in order (where the platform takes them).
    #[serde(default)]
    pub follow_ups: Vec<FollowUp>,
    /// UTM parameters for this channel's links, over the post's and the campaign's.
    pub utm: Option<UtmParams>,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

/// Everything a post says, on every channel: what create takes, what each
/// revision keeps, and what restore brings back.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "body": "Our spring roast is here ☕ https://acme.example/spring",
    "tags": ["launch", "spring"],
    "media_ids": [],
    "variants": [{"channel_id": "01936b2e-7d4c-7c1a-9f4e-3b2a1c0d9e8f"}]
}))]
pub struct PostContent {
    /// The message (up to 10,000 characters); variants may tell it differently.
    pub body: String,
    /// Tags for filtering and reports.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Attachments (media ids), in order.
    #[serde(default)]
    pub media_ids: Vec<String>,
    /// The campaign it belongs to.
    pub campaign_id: Option<String>,
    /// The event it promotes.
    pub event_id: Option<String>,
    /// UTM parameters for links on every channel, over the campaign's defaults.
    pub utm: Option<UtmParams>,
    /// One variant per target channel (1–20).
    pub variants: Vec<Variant>,
}

/// Changes to a post; absent fields stay, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Our spring roast is back ☕", "tags": ["spring"]}))]
pub struct PostChangesInput {
    /// New body.
    pub body: Option<String>,
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// New media.
    pub media_ids: Option<Vec<String>>,
    /// New campaign, or `null` for none.
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Option<String>)]
    pub campaign_id: Option<Option<String>>,
    /// New event, or `null` for none.
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Option<String>)]
    pub event_id: Option<Option<String>>,
    /// New UTM parameters, or `null` for none.
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Option<UtmParams>)]
    pub utm: Option<Option<UtmParams>>,
    /// The complete new list of variants.
    pub variants: Option<Vec<Variant>>,
}

impl PostContent {
    /// The content with changes applied.
    pub fn with(mut self, changes: PostChangesInput) -> Self {
        if let Some(body) = changes.body {
            self.body = body;
        }
        if let Some(tags) = changes.tags {
            self.tags = tags;
        }
        if let Some(media) = changes.media_ids {
            self.media_ids = media;
        }
        if let Some(campaign) = changes.campaign_id {
            self.campaign_id = campaign;
        }
        if let Some(event) = changes.event_id {
            self.event_id = event;
        }
        if let Some(utm) = changes.utm {
            self.utm = utm;
        }
        if let Some(variants) = changes.variants {
            self.variants = variants;
        }
        self
    }

    /// The content of a stored post.
    pub fn from_rows(post: &PostRow, variants: &[PostVariantRow]) -> ApiResult<Self> {
        let variants = variants
            .iter()
            .filter(|v| v.post_id == post.id)
            .map(|v| {
                Ok(Variant {
                    channel_id: crate::domain::ids::parse_stored(&v.channel_id)
                        .map_err(ApiError::internal)?,
                    text: v.text.clone(),
                    media_ids: v.media_ids.as_deref().map(from_json).transpose()?,
                    options: from_json(&v.options)?,
                    follow_ups: from_json(&v.follow_ups)?,
                    utm: v.utm.as_deref().map(from_json).transpose()?,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(Self {
            body: post.body.clone(),
            tags: from_json(&post.tags)?,
            media_ids: from_json(&post.media_ids)?,
            campaign_id: post.campaign_id.clone(),
            event_id: post.event_id.clone(),
            utm: post.utm.as_deref().map(from_json).transpose()?,
            variants,
        })
    }

    /// The variant rows of this content for a post.
    pub fn variant_rows(
        &self,
        post_id: &str,
        workspace_id: &str,
    ) -> ApiResult<Vec<PostVariantRow>> {
        self.variants
            .iter()
            .enumerate()
            .map(|(i, v)| {
                Ok(PostVariantRow {
                    post_id: post_id.to_owned(),
                    channel_id: v.channel_id.to_string(),
                    workspace_id: workspace_id.to_owned(),
                    position: i32::try_from(i).unwrap_or(i32::MAX),
                    text: v.text.clone(),
                    media_ids: v.media_ids.as_ref().map(to_json).transpose()?,
                    options: to_json(&v.options)?,
                    follow_ups: to_json(&v.follow_ups)?,
                    utm: v.utm.as_ref().map(to_json).transpose()?,
                })
            })
            .collect()
    }
}

/// A value from stored JSON text.
pub fn from_json<T: serde::de::DeserializeOwned>(raw: &str) -> ApiResult<T> {
    serde_json::from_str(raw).map_err(ApiError::internal)
}

/// A value as stored JSON text.
pub fn to_json<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

/// What one variant will send, after UTM tagging: the main part and its follow-ups.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RenderedVariant {
    /// The channel.
    pub channel_id: ChannelId,
    /// The platform plugin.
    pub plugin_id: String,
    /// The text that will be sent.
    pub text: String,
    /// The attachments that will be sent.
    pub media_ids: Vec<String>,
    /// Follow-up parts as they will be sent.
    pub follow_ups: Vec<FollowUp>,
    /// Options passed to the plugin.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// Content that passed every check, with what each channel will receive.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The content, tags trimmed and de-duplicated.
    pub content: PostContent,
    /// What goes out per channel.
    pub rendered: Vec<RenderedVariant>,
}

/// Facts about the workspace the checks need, read in one go.
#[derive(Debug, Default)]
pub struct Facts {
    channels: HashMap<String, ChannelRow>,
    media: HashMap<String, MediaFact>,
    campaign_utm: Option<UtmParams>,
    campaign_found: bool,
    event_found: bool,
}

impl Facts {
    /// Reads the channels, media, campaign and event the content names.
    pub fn load(conn: &mut DbConn, workspace_id: &str, content: &PostContent) -> ApiResult<Self> {
        let channel_ids: Vec<String> = content
            .variants
            .iter()
            .map(|v| v.channel_id.to_string())
            .collect();
        let channels = ChannelRow::find_many(conn, workspace_id, &channel_ids)?
            .into_iter()
            .map(|row| (row.id.clone(), row))
            .collect();
        let media_ids: Vec<String> = all_media(content).into_iter().collect();
        let media = super::lookups::media_facts(conn, workspace_id, &media_ids)?;
        let (campaign_found, campaign_utm) = match &content.campaign_id {
            Some(id) => super::lookups::campaign_utm(conn, workspace_id, id)?
                .map_or((false, None), |utm| (true, utm)),
            None => (true, None),
        };
        let event_found = match &content.event_id {
            Some(id) => super::lookups::event_exists(conn, workspace_id, id)?,
            None => true,
        };
        Ok(Self {
            channels,
            media,
            campaign_utm,
            campaign_found,
            event_found,
        })
    }
}

fn all_media(content: &PostContent) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = content.media_ids.iter().cloned().collect();
    for variant in &content.variants {
        ids.extend(variant.media_ids.iter().flatten().cloned());
        for part in &variant.follow_ups {
            ids.extend(part.media_ids.iter().cloned());
        }
    }
    ids
}

/// Checks content against what the workspace holds and what each platform
/// accepts; every problem is reported, each under its field.
pub fn check(state: &AppState, content: PostContent, facts: &Facts) -> ApiResult<Checked> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut push = |field: String, message: String| errors.push(FieldError::new(field, message));
    let mut content = content;

    let body_chars = content.body.chars().count();
    if body_chars > MAX_BODY_CHARS {
        push(
            "body".into(),
            format!("is {body_chars} characters; at most {MAX_BODY_CHARS}"),
        );
    }
    let mut tags: Vec<String> = Vec::new();
    for (i, tag) in content.tags.iter().enumerate() {
        let tag = tag.trim();
        if tag.is_empty() || tag.chars().count() > 50 || tag.chars().any(char::is_control) {
            push(
                format!("tags[{i}]"),
                "must be 1–50 characters on one line".into(),
            );
        } else if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
    }
    if tags.len() > MAX_TAGS {
        push("tags".into(), format!("must hold at most {MAX_TAGS} tags"));
    }
    content.tags = tags;
    if content.variants.is_empty() || content.variants.len() > MAX_VARIANTS {
        push(
            "variants".into(),
            format!("must name 1–{MAX_VARIANTS} channels"),
        );
    }
    if let Some(utm) = &content.utm
        && let Err((name, message)) = utm.check()
    {
        push(format!("utm.{name}"), message.into());
    }
    if !facts.campaign_found {
        push(
            "campaign_id".into(),
            "no such campaign in this workspace".into(),
        );
    }
    if !facts.event_found {
        push("event_id".into(), "no such event in this workspace".into());
    }
    for (i, id) in content.media_ids.iter().enumerate() {
        if !facts.media.contains_key(id) {
            push(
                format!("media_ids[{i}]"),
                "no such media in this workspace".into(),
            );
        }
    }

    let base_utm = facts
        .campaign_utm
        .clone()
        .unwrap_or_default()
        .merged(content.utm.as_ref().unwrap_or(&UtmParams::default()));
    let mut seen = BTreeSet::new();
    let mut rendered = Vec::new();
    for (i, variant) in content.variants.iter().enumerate() {
        let field = format!("variants[{i}]");
        if !seen.insert(variant.channel_id) {
            push(
                format!("{field}.channel_id"),
                "names a channel twice".into(),
            );
            continue;
        }
        let Some(channel) = facts.channels.get(&variant.channel_id.to_string()) else {
            push(
                format!("{field}.channel_id"),
                "no such channel in this workspace".into(),
            );
            continue;
        };
        let Some(plugin) = state
            .plugins
            .get(&channel.plugin_id)
            .filter(|p| p.enabled())
        else {
            push(
                format!("{field}.channel_id"),
                format!(
                    "the channel's plugin {} is not available",
                    channel.plugin_id
                ),
            );
            continue;
        };
        let manifest = &plugin.manifest;
        if !manifest.can(Capabilities::PUBLISH) {
            push(
                format!("{field}.channel_id"),
                format!("{} cannot publish", manifest.display_name),
            );
            continue;
        }
        if variant.options.is_object() {
            for violation in manifest.options_violations(&variant.options) {
                push(
                    pointer_field(&format!("{field}.options"), &violation.pointer),
                    violation.message,
                );
            }
        } else {
            push(format!("{field}.options"), "must be a JSON object".into());
        }
        if let Some(utm) = &variant.utm
            && let Err((name, message)) = utm.check()
        {
            push(format!("{field}.utm.{name}"), message.into());
        }
        if variant.follow_ups.len() > MAX_FOLLOW_UPS {
            push(
                format!("{field}.follow_ups"),
                format!("must hold at most {MAX_FOLLOW_UPS} parts"),
            );
        }
        let mut utm = base_utm.merged(variant.utm.as_ref().unwrap_or(&UtmParams::default()));
        if !utm.is_empty() {
            utm.source.get_or_insert_with(|| manifest.id.clone());
            utm.medium.get_or_insert_with(|| "social".to_owned());
        }
        let media_of = |ids: &[String], prefix: &str, errors: &mut Vec<(String, String)>| {
            ids.iter()
                .enumerate()
                .filter_map(|(n, id)| match facts.media.get(id) {
                    Some(fact) => Some(fact.clone()),
                    None => {
                        errors.push((
                            format!("{prefix}.media_ids[{n}]"),
                            "no such media in this workspace".into(),
                        ));
                        None
                    }
                })
                .collect::<Vec<_>>()
        };
        let mut missing = Vec::new();
        let main_media_ids = variant
            .media_ids
            .clone()
            .unwrap_or_else(|| content.media_ids.clone());
        let main_media = if variant.media_ids.is_some() {
            media_of(&main_media_ids, &field, &mut missing)
        } else {
            main_media_ids
                .iter()
                .filter_map(|id| facts.media.get(id).cloned())
                .collect()
        };
        let text = utm::tag_links(variant.text.as_deref().unwrap_or(&content.body), &utm);
        let follow_ups: Vec<FollowUp> = variant
            .follow_ups
            .iter()
            .map(|part| FollowUp {
                text: utm::tag_links(&part.text, &utm),
                media_ids: part.media_ids.clone(),
            })
            .collect();
        let follow_media: Vec<Vec<MediaFact>> = follow_ups
            .iter()
            .enumerate()
            .map(|(n, part)| {
                media_of(
                    &part.media_ids,
                    &format!("{field}.follow_ups[{n}]"),
                    &mut missing,
                )
            })
            .collect();
        for (f, m) in missing {
            push(f, m);
        }
        let follow_fields: Vec<String> = (0..follow_ups.len())
            .map(|n| format!("{field}.follow_ups[{n}]"))
            .collect();
        let parts: Vec<Part<'_>> = follow_ups
            .iter()
            .zip(&follow_media)
            .zip(&follow_fields)
            .map(|((part, media), f)| Part {
                field: f,
                text: &part.text,
                media,
            })
            .collect();
        let rules = PlatformRules {
            platform: &manifest.display_name,
            max_text_chars: manifest.limits.max_text_chars,
            max_media: if manifest.can(Capabilities::PUBLISH_MEDIA) {
                manifest.limits.max_media
            } else {
                0
            },
            media_types: &manifest.limits.media_types,
            threads: manifest.can(Capabilities::THREADS),
        };
        let main = Part {
            field: &field,
            text: &text,
            media: &main_media,
        };
        for (f, m) in post_content::check_parts(main, &parts, rules) {
            push(f, m);
        }
        rendered.push(RenderedVariant {
            channel_id: variant.channel_id,
            plugin_id: manifest.id.clone(),
            text,
            media_ids: main_media_ids,
            follow_ups,
            options: variant.options.clone(),
        });
    }
    if errors.is_empty() {
        Ok(Checked { content, rendered })
    } else {
        Err(ApiError::Validation(errors))
    }
}
