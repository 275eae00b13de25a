//! Records in repositories: AT URIs, reading a record, and making a post
//! record (text, facets, images, languages, reply references).

use chrono::{DateTime, SecondsFormat};
use plaza_sdk::{MediaRef, PluginError, clock, log, media};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::{Api, check, error_name};
use crate::richtext::{self, Feature, grapheme_len};

/// The collection of posts.
pub const POST: &str = "app.bsky.feed.post";

/// Longest post text in graphemes (`app.bsky.feed.post` lexicon: `text`,
/// `maxGraphemes: 300`).
pub const MAX_GRAPHEMES: usize = 300;
/// Longest post text in UTF-8 bytes (same lexicon: `maxLength: 3000`).
pub const MAX_TEXT_BYTES: usize = 3000;
/// Most images in one post (`app.bsky.embed.images`: `maxLength: 4`).
pub const MAX_IMAGES: usize = 4;
/// Largest image in bytes (`app.bsky.embed.images#image`: `maxSize: 1000000`).
pub const MAX_IMAGE_BYTES: u64 = 1_000_000;
/// Image types the Bluesky app shows (the lexicon accepts `image/*`).
pub const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/// `at://{repo}/{collection}/{rkey}`: the address of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtUri {
    /// A DID (or a handle, in URIs people wrote).
    pub repo: String,
    /// An NSID: `app.bsky.feed.post`.
    pub collection: String,
    /// The record key.
    pub rkey: String,
}

impl AtUri {
    /// Parses an AT URI naming one record; anything else is `Invalid`.
    pub fn parse(uri: &str) -> Result<Self, PluginError> {
        let invalid = || PluginError::Invalid(format!("{uri:?} is not the AT URI of a record"));
        let rest = uri.trim().strip_prefix("at://").ok_or_else(invalid)?;
        let mut parts = rest.split('/');
        let (Some(repo), Some(collection), Some(rkey), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        if [repo, collection, rkey].iter().any(|p| p.is_empty()) {
            return Err(invalid());
        }
        Ok(Self {
            repo: repo.to_owned(),
            collection: collection.to_owned(),
            rkey: rkey.to_owned(),
        })
    }

    /// The record `rkey` of `collection` in `repo`.
    pub fn new(repo: &str, collection: &str, rkey: &str) -> Self {
        Self {
            repo: repo.to_owned(),
            collection: collection.to_owned(),
            rkey: rkey.to_owned(),
        }
    }

    /// The link to a post in the Bluesky app.
    pub fn web_url(&self) -> String {
        format!("https://bsky.app/profile/{}/post/{}", self.repo, self.rkey)
    }
}

impl std::fmt::Display for AtUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at://{}/{}/{}", self.repo, self.collection, self.rkey)
    }
}

/// A record as `com.atproto.repo.getRecord` answers it.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    /// Its AT URI.
    pub uri: String,
    /// The CID of this version.
    #[serde(default)]
    pub cid: Option<String>,
    /// The record itself.
    #[serde(default)]
    pub value: Value,
}

/// Reads a record; `None` only when the platform says `RecordNotFound`.
pub fn get_record(api: &mut Api, uri: &AtUri) -> Result<Option<Record>, PluginError> {
    let response = api.get(
        "com.atproto.repo.getRecord",
        &[
            ("repo", &uri.repo),
            ("collection", &uri.collection),
            ("rkey", &uri.rkey),
        ],
    )?;
    if !response.is_success() && error_name(&response).as_deref() == Some("RecordNotFound") {
        return Ok(None);
    }
    Ok(Some(check(response)?.json()?))
}

/// A strong reference: a record's URI and the CID of its version.
fn strong_ref(uri: &str, cid: &str) -> Value {
    json!({ "uri": uri, "cid": cid })
}

/// The `reply` field of a post answering the post `parent`: the parent
/// itself and the root of its thread (the parent's own root, or the parent
/// when it starts the thread).
pub fn reply_ref(api: &mut Api, parent: &str) -> Result<Value, PluginError> {
    let uri = AtUri::parse(parent)?;
    if uri.collection != POST {
        return Err(PluginError::Invalid(format!(
            "{parent} is not a post: only posts can be answered"
        )));
    }
    let record = get_record(api, &uri)?.ok_or(PluginError::NotFound)?;
    let cid = record
        .cid
        .as_deref()
        .ok_or_else(|| PluginError::transient("the platform answered a post without its CID"))?;
    let parent_ref = strong_ref(&record.uri, cid);
    let root = record
        .value
        .get("reply")
        .and_then(|reply| reply.get("root"))
        .filter(|root| root.get("uri").is_some() && root.get("cid").is_some())
        .map_or_else(|| parent_ref.clone(), strong_ref_of);
    Ok(json!({ "root": root, "parent": parent_ref }))
}

fn strong_ref_of(value: &Value) -> Value {
    strong_ref(
        value.get("uri").and_then(Value::as_str).unwrap_or_default(),
        value.get("cid").and_then(Value::as_str).unwrap_or_default(),
    )
}

/// Refuses text Bluesky would refuse: over 300 graphemes or 3000 bytes.
pub fn check_text(text: &str, has_media: bool) -> Result<(), PluginError> {
    let graphemes = grapheme_len(text);
    if graphemes > MAX_GRAPHEMES {
        return Err(PluginError::Invalid(format!(
            "the text is {graphemes} characters; Bluesky takes at most {MAX_GRAPHEMES}"
        )));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(PluginError::Invalid(format!(
            "the text is {} bytes; Bluesky takes at most {MAX_TEXT_BYTES}",
            text.len()
        )));
    }
    if text.trim().is_empty() && !has_media {
        return Err(PluginError::invalid("a post needs text or images"));
    }
    Ok(())
}

/// Refuses media Bluesky would refuse, before anything is uploaded.
pub fn check_media(attachments: &[MediaRef]) -> Result<(), PluginError> {
    if attachments.len() > MAX_IMAGES {
        return Err(PluginError::Invalid(format!(
            "a post takes at most {MAX_IMAGES} images"
        )));
    }
    for attachment in attachments {
        if !IMAGE_TYPES.contains(&attachment.mime.as_str()) {
            return Err(PluginError::Invalid(format!(
                "Bluesky posts take JPEG, PNG, WebP or GIF images, not {}",
                attachment.mime
            )));
        }
        if attachment.size > MAX_IMAGE_BYTES {
            return Err(PluginError::Invalid(format!(
                "an image is {} bytes; Bluesky takes at most {MAX_IMAGE_BYTES}",
                attachment.size
            )));
        }
    }
    Ok(())
}

/// The text's facets, mentions resolved to DIDs. A handle that does not
/// resolve stays plain text; a failure that may pass (rate limit, outage)
/// fails the publish so it is retried with its links intact.
pub fn facets(api: &mut Api, text: &str) -> Result<Vec<Value>, PluginError> {
    let mut resolved: Vec<(String, Option<String>)> = Vec::new();
    let mut facets = Vec::new();
    for span in richtext::detect(text) {
        let feature = match span.feature {
            Feature::Link(uri) => json!({ "$type": "app.bsky.richtext.facet#link", "uri": uri }),
            Feature::Tag(tag) => json!({ "$type": "app.bsky.richtext.facet#tag", "tag": tag }),
            Feature::Mention(handle) => {
                let did = match resolved.iter().find(|(h, _)| *h == handle) {
                    Some((_, did)) => did.clone(),
                    None => {
                        let did = resolve_handle(api, &handle)?;
                        resolved.push((handle.clone(), did.clone()));
                        did
                    }
                };
                let Some(did) = did else { continue };
                json!({ "$type": "app.bsky.richtext.facet#mention", "did": did })
            }
        };
        facets.push(json!({
            "index": { "byteStart": span.start, "byteEnd": span.end },
            "features": [feature],
        }));
    }
    Ok(facets)
}

/// The DID of `handle`; `None` when the platform says it does not resolve.
pub fn resolve_handle(api: &mut Api, handle: &str) -> Result<Option<String>, PluginError> {
    #[derive(Deserialize)]
    struct Resolved {
        did: String,
    }
    let response = api.get("com.atproto.identity.resolveHandle", &[("handle", handle)])?;
    match check(response) {
        Ok(response) => Ok(Some(response.json::<Resolved>()?.did)),
        Err(error) if error.is_retryable() || matches!(error, PluginError::Unauthorized(_)) => {
            Err(error)
        }
        Err(error) => {
            log::debug(format!("@{handle} stays plain text: {error}"));
            Ok(None)
        }
    }
}

/// Uploads the images and answers the `app.bsky.embed.images` embed.
pub fn images_embed(api: &mut Api, attachments: &[MediaRef]) -> Result<Option<Value>, PluginError> {
    if attachments.is_empty() {
        return Ok(None);
    }
    let mut images = Vec::new();
    for attachment in attachments {
        let bytes = media::read_all(attachment)?;
        if bytes.len() as u64 > MAX_IMAGE_BYTES {
            return Err(PluginError::Invalid(format!(
                "an image is {} bytes; Bluesky takes at most {MAX_IMAGE_BYTES}",
                bytes.len()
            )));
        }
        let aspect = imagesize::blob_size(&bytes)
            .ok()
            .filter(|size| size.width > 0 && size.height > 0)
            .map(|size| json!({ "width": size.width, "height": size.height }));
        let request =
            plaza_sdk::http::Request::post(api.config().xrpc("com.atproto.repo.uploadBlob"))
                .header("Content-Type", &attachment.mime)
                .bytes(bytes);
        let uploaded: Value = check(api.send(&request)?)?.json()?;
        let blob = uploaded
            .get("blob")
            .cloned()
            .ok_or_else(|| PluginError::transient("uploadBlob answered no blob"))?;
        let mut image = Map::new();
        image.insert(
            "alt".into(),
            attachment.alt_text.clone().unwrap_or_default().into(),
        );
        image.insert("image".into(), blob);
        if let Some(aspect) = aspect {
            image.insert("aspectRatio".into(), aspect);
        }
        images.push(Value::Object(image));
    }
    Ok(Some(
        json!({ "$type": "app.bsky.embed.images", "images": images }),
    ))
}

/// The current time as the RFC 3339 `datetime` records carry.
pub fn now_datetime() -> String {
    i64::try_from(clock::now_ms())
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}
