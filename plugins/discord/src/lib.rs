//! The Discord plugin: a channel is one text channel of a server (guild),
//! reached as a bot with its token (`bot_token`), through the HTTP API v10.
//!
//! - Posts are messages with optional embeds; media goes in the same
//!   message as attachments (`multipart/form-data`, `files[n]`).
//! - Follow-up parts go into a thread started from the first message (a
//!   thread started from a message has the message's id).
//! - Mentions are others' messages in the channel that mention the bot;
//!   comments are messages in a post's thread or replies to it. Both are
//!   read forward from a snowflake cursor (`after=`).
//! - Replies use `message_reference`; deleting is `DELETE` on the message;
//!   `block-author` bans, `mute-author` times out.
//! - Interactions (slash commands, modals) arrive as signed webhooks.
//!
//! A message's remote id is its snowflake when it is in the configured
//! channel, `{channel id}/{message id}` when it is in a thread.

pub mod api;
pub mod config;
mod inbox;
pub mod interactions;
pub mod options;

use chrono::{DateTime, Duration, SecondsFormat};
use plaza_sdk::{
    Author, Capabilities, Channel, ItemKind, Limits, Manifest, MediaRef, Metric, Moderation, Page,
    Plugin, PluginError, Post, Published, WebhookOutcome, WebhookRequest, clock, kv, log, media,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::api::{Api, FilePart, Message};
use crate::config::Config;
use crate::inbox::{Source, read};
use crate::options::PostOptions;

/// Most characters in a message's content ("Create Message": `content`,
/// up to 2000 characters).
pub const MAX_CONTENT_CHARS: u32 = 2_000;

/// Most attachments in one message ("Create Message": `files[n]`, up to 10).
pub const MAX_ATTACHMENTS: u32 = 10;

/// Most messages one `GET …/messages` answers.
pub(crate) const MAX_PAGE: u32 = 100;

/// How far back `find_published` reads the channel when the key is not in
/// the kv store: pages of [`MAX_PAGE`].
const LOOKUP_PAGES: usize = 3;

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds: snowflakes
/// count from it.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// The Discord platform.
#[derive(Debug)]
pub struct Discord;

impl Plugin for Discord {
    fn describe() -> Manifest {
        Manifest::builder("discord", "Discord")
            .version(env!("CARGO_PKG_VERSION"))
            .platform("Discord")
            .capabilities(
                Capabilities::PUBLISH
                    | Capabilities::PUBLISH_MEDIA
                    | Capabilities::THREADS
                    | Capabilities::DELETE_POST
                    | Capabilities::MENTIONS
                    | Capabilities::COMMENTS
                    | Capabilities::REPLY
                    | Capabilities::DELETE_COMMENT
                    | Capabilities::BLOCK_AUTHOR
                    | Capabilities::ACCOUNT_METRICS
                    | Capabilities::WEBHOOKS,
            )
            // Create Message: `content` up to 2000 characters, up to 10
            // files. Discord takes any file type; these are the ones its
            // clients show inline.
            .limits(
                Limits::new(MAX_CONTENT_CHARS, MAX_ATTACHMENTS).media_types([
                    "image/png",
                    "image/jpeg",
                    "image/gif",
                    "image/webp",
                    "video/mp4",
                    "video/webm",
                    "video/quicktime",
                    "audio/mpeg",
                    "audio/ogg",
                    "application/pdf",
                ]),
            )
            .allowed_host("discord.com")
            .allowed_host("{config.api_base_url}")
            .config_schema(&Config::schema())
            .post_options_schema(&options::schema())
            .build()
    }

    fn validate_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    /// The bot, after checking it sees the channel and the channel is in
    /// the configured server; followers are the server's members.
    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        let api = Api::connect(channel)?;
        let me = api.me()?;
        let info = api.channel(&api.config.channel_id)?;
        if info.guild_id.as_deref() != Some(api.config.guild_id.as_str()) {
            return Err(PluginError::Invalid(format!(
                "channel {} is not in server {}",
                api.config.channel_id, api.config.guild_id
            )));
        }
        let guild = api.guild()?;
        Ok(Author {
            remote_id: me.id,
            handle: me.username,
            display_name: me.global_name,
            followers: guild.approximate_member_count,
        })
    }

    fn publish(channel: &Channel, post: Post) -> Result<Published, PluginError> {
        let api = Api::connect(channel)?;
        let options = PostOptions::of(&post)?;
        let target = match post.reply_to.as_deref() {
            None => api.config.channel_id.clone(),
            Some(previous) => thread_for(&api, previous, &options)?,
        };
        let message = send(&api, &target, &post, &options, None)?;
        let remote = MessageRef::of(&message).remote_id(&api.config);
        if post.reply_to.is_none() {
            kv::set(
                &thread_name_key(&message.id),
                options::thread_name(&options, &post.text),
            );
        }
        remember(&post.idempotency_key, &remote);
        log::debug(format!("sent {remote} to channel {target}"));
        Ok(published(&api.config, &MessageRef::of(&message)))
    }

    /// The send is idempotent on its own: its nonce comes from the key and
    /// `enforce_nonce` makes Discord answer the earlier message for a
    /// repeated nonce from the same bot within a few minutes. This lookup
    /// never sends: the kv store first (written right after the send),
    /// then the bot's recent messages in the channel (and, for a
    /// follow-up, in its thread) carrying the nonce.
    fn find_published(
        channel: &Channel,
        idempotency_key: &str,
    ) -> Result<Option<Published>, PluginError> {
        if idempotency_key.is_empty() {
            return Err(PluginError::Invalid(
                "a post sent without an idempotency key cannot be looked up".into(),
            ));
        }
        let api = Api::connect(channel)?;
        if let Some(remote) = kv::get_string(&sent_key(idempotency_key)) {
            let found = MessageRef::parse(&remote, &api.config)?;
            return Ok(Some(published(&api.config, &found)));
        }
        let me = api.me()?;
        let mut channels = vec![api.config.channel_id.clone()];
        // Plaza keys follow-up n of a post as `{post key}-{n}`: its thread
        // is the one started from the post's first message.
        if let Some(root) = root_key_of(idempotency_key).and_then(|k| kv::get_string(&sent_key(k)))
        {
            let root = MessageRef::parse(&root, &api.config)?;
            channels.push(root.message_id);
        }
        let wanted = nonce(idempotency_key);
        for channel_id in channels {
            match scan_for_nonce(&api, &channel_id, &me.id, &wanted) {
                Ok(Some(message)) => {
                    let found = MessageRef::of(&message);
                    remember(idempotency_key, &found.remote_id(&api.config));
                    return Ok(Some(published(&api.config, &found)));
                }
                Ok(None) => {}
                // A thread that was never started holds nothing.
                Err(PluginError::NotFound) if channel_id != api.config.channel_id => {}
                Err(err) => return Err(err),
            }
        }
        Ok(None)
    }

    fn delete_post(channel: &Channel, remote_id: &str) -> Result<(), PluginError> {
        let api = Api::connect(channel)?;
        let message = MessageRef::parse(remote_id, &api.config)?;
        api.delete_message(
            &message.channel_id,
            &message.message_id,
            "Plaza: deleted by its author",
        )
    }

    /// Others' messages in the channel that mention the bot.
    fn fetch_mentions(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let api = Api::connect(channel)?;
        let me = api.me()?;
        let bot = me.id.clone();
        let source = Source {
            channel_id: api.config.channel_id.clone(),
            optional: false,
            keep: Box::new(move |m: &Message| m.mentions.iter().any(|u| u.id == bot)),
        };
        read(
            &api,
            &me.id,
            &[source],
            cursor,
            limit,
            ItemKind::Mention,
            None,
        )
    }

    /// Others' messages in the post's thread, and replies to the post.
    fn fetch_comments(
        channel: &Channel,
        post_id: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let api = Api::connect(channel)?;
        let me = api.me()?;
        let post = MessageRef::parse(post_id, &api.config)?;
        let replies_to = post.message_id.clone();
        let mut sources = vec![Source {
            channel_id: post.channel_id.clone(),
            optional: false,
            keep: Box::new(move |m: &Message| m.replied_to() == Some(replies_to.as_str())),
        }];
        if post.channel_id == api.config.channel_id {
            // The thread started from the post, if there is one.
            sources.push(Source {
                channel_id: post.message_id,
                optional: true,
                keep: Box::new(|_: &Message| true),
            });
        }
        read(
            &api,
            &me.id,
            &sources,
            cursor,
            limit,
            ItemKind::Comment,
            Some(post_id),
        )
    }

    fn reply(channel: &Channel, to: &str, post: Post) -> Result<Published, PluginError> {
        let api = Api::connect(channel)?;
        let options = PostOptions::of(&post)?;
        let target = MessageRef::parse(to, &api.config)?;
        let reference = json!({
            "message_id": target.message_id,
            "channel_id": target.channel_id,
            "guild_id": api.config.guild_id,
            "fail_if_not_exists": true,
        });
        let message = send(&api, &target.channel_id, &post, &options, Some(reference))?;
        let sent = MessageRef::of(&message);
        remember(&post.idempotency_key, &sent.remote_id(&api.config));
        Ok(published(&api.config, &sent))
    }

    /// `delete` deletes the message (the bot needs Manage Messages for
    /// others'); `block-author` bans its author (Ban Members),
    /// `mute-author` times them out for the configured minutes (Moderate
    /// Members). Discord has no hiding and bots cannot report.
    fn moderate(channel: &Channel, remote_id: &str, action: Moderation) -> Result<(), PluginError> {
        let api = Api::connect(channel)?;
        let message = MessageRef::parse(remote_id, &api.config)?;
        match action {
            Moderation::Delete => api.delete_message(
                &message.channel_id,
                &message.message_id,
                "Plaza: removed by a moderator",
            ),
            Moderation::BlockAuthor => {
                let author = api
                    .message(&message.channel_id, &message.message_id)?
                    .author;
                api.ban_member(&author.id, "Plaza: banned by a moderator")
            }
            Moderation::MuteAuthor => {
                let author = api
                    .message(&message.channel_id, &message.message_id)?
                    .author;
                let until = timeout_until(clock::now_ms(), api.config.timeout_minutes);
                api.timeout_member(&author.id, &until, "Plaza: muted by a moderator")
            }
            Moderation::Hide | Moderation::Unhide | Moderation::Report => {
                Err(PluginError::Unsupported)
            }
        }
    }

    /// The server's approximate member count (`followers`) and how many
    /// are online (`x_online_members`).
    fn account_metrics(channel: &Channel) -> Result<Vec<Metric>, PluginError> {
        let guild = Api::connect(channel)?.guild()?;
        let mut metrics = Vec::new();
        if let Some(members) = guild.approximate_member_count {
            metrics.push(Metric::followers(members));
        }
        if let Some(online) = guild.approximate_presence_count {
            metrics.push(Metric::account("x_online_members", online as f64));
        }
        Ok(metrics)
    }

    fn verify_webhook(channel: &Channel, request: &WebhookRequest) -> Result<(), PluginError> {
        let config = Config::parse(&channel.config)?;
        let Some(key) = config.public_key else {
            return Err(PluginError::Invalid(
                "set the application's public_key to receive interactions".into(),
            ));
        };
        interactions::verify(&key, request, clock::now_ms())
    }

    /// Verifies again (parsing never trusts an unverified body), then reads
    /// the interaction.
    fn parse_webhook(
        channel: &Channel,
        request: &WebhookRequest,
    ) -> Result<WebhookOutcome, PluginError> {
        Self::verify_webhook(channel, request)?;
        interactions::parse(request)
    }
}

/// Where a message is: its channel (or thread) and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    /// The channel or thread.
    pub channel_id: String,
    /// The message.
    pub message_id: String,
}

impl MessageRef {
    /// Where `message` is.
    pub fn of(message: &Message) -> Self {
        Self {
            channel_id: message.channel_id.clone(),
            message_id: message.id.clone(),
        }
    }

    /// Reads a remote id: `{message}` in the configured channel, or
    /// `{channel}/{message}`.
    pub fn parse(remote_id: &str, config: &Config) -> Result<Self, PluginError> {
        let is_id =
            |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
        let (channel_id, message_id) = match remote_id.split_once('/') {
            Some((channel, message)) => (channel, message),
            None => (config.channel_id.as_str(), remote_id),
        };
        if is_id(channel_id) && is_id(message_id) {
            Ok(Self {
                channel_id: channel_id.to_owned(),
                message_id: message_id.to_owned(),
            })
        } else {
            Err(PluginError::Invalid(format!(
                "{remote_id} is not a Discord message id"
            )))
        }
    }

    /// The remote id Plaza keeps: bare in the configured channel.
    pub fn remote_id(&self, config: &Config) -> String {
        if self.channel_id == config.channel_id {
            self.message_id.clone()
        } else {
            format!("{}/{}", self.channel_id, self.message_id)
        }
    }
}

/// The message's link in Discord's clients.
pub(crate) fn message_url(config: &Config, message: &MessageRef) -> String {
    format!(
        "https://discord.com/channels/{}/{}/{}",
        config.guild_id, message.channel_id, message.message_id
    )
}

fn published(config: &Config, message: &MessageRef) -> Published {
    Published::new(message.remote_id(config)).url(message_url(config, message))
}

/// The nonce for an idempotency key: Discord takes up to 25 characters,
/// Plaza's keys are longer, so it is `p` and 24 hex digits (96 bits) of the
/// key's SHA-256.
pub fn nonce(idempotency_key: &str) -> String {
    let digest = Sha256::digest(idempotency_key.as_bytes());
    let mut text = String::from("p");
    for byte in digest.iter().take(12) {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// Where a sent part is recorded: key → remote id.
fn sent_key(idempotency_key: &str) -> String {
    format!("sent:{idempotency_key}")
}

/// Where a thread part's thread is recorded: message id → thread id.
fn thread_key(message_id: &str) -> String {
    format!("thread:{message_id}")
}

/// Where a first message's thread name waits for the first follow-up.
fn thread_name_key(message_id: &str) -> String {
    format!("thread-name:{message_id}")
}

fn remember(idempotency_key: &str, remote_id: &str) {
    if !idempotency_key.is_empty() {
        kv::set(&sent_key(idempotency_key), remote_id);
    }
}

/// The key of the post a follow-up key (`{key}-{n}`) belongs to.
fn root_key_of(idempotency_key: &str) -> Option<&str> {
    let (root, n) = idempotency_key.rsplit_once('-')?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(root)
}

/// The thread a follow-up to `previous` goes into: `previous`'s own thread
/// when it is in one, else the thread started from it (started now when
/// there is none yet).
fn thread_for(api: &Api, previous: &str, options: &PostOptions) -> Result<String, PluginError> {
    let previous = MessageRef::parse(previous, &api.config)?;
    if previous.channel_id != api.config.channel_id {
        return Ok(previous.channel_id);
    }
    if let Some(thread) = kv::get_string(&thread_key(&previous.message_id)) {
        return Ok(thread);
    }
    let name = if options.thread_name.is_some() {
        options::thread_name(options, "")
    } else if let Some(name) = kv::get_string(&thread_name_key(&previous.message_id)) {
        name
    } else {
        let root = api.message(&previous.channel_id, &previous.message_id)?;
        options::thread_name(options, &root.content)
    };
    let thread = api.start_thread(&previous.channel_id, &previous.message_id, &name)?;
    kv::set(&thread_key(&previous.message_id), &thread);
    Ok(thread)
}

/// Sends a post's message into `channel_id`: JSON, or multipart when it
/// carries media.
fn send(
    api: &Api,
    channel_id: &str,
    post: &Post,
    options: &PostOptions,
    reference: Option<Value>,
) -> Result<Message, PluginError> {
    if post.text.trim().is_empty() && options.embeds.is_empty() && post.media.is_empty() {
        return Err(PluginError::Invalid(
            "a Discord message needs text, an embed or an attachment".into(),
        ));
    }
    let mut body = Map::new();
    if !post.text.is_empty() {
        body.insert("content".into(), post.text.clone().into());
    }
    if !post.idempotency_key.is_empty() {
        body.insert("nonce".into(), nonce(&post.idempotency_key).into());
        body.insert("enforce_nonce".into(), true.into());
    }
    if !options.embeds.is_empty() {
        body.insert(
            "embeds".into(),
            serde_json::to_value(&options.embeds).unwrap_or_default(),
        );
    }
    body.insert("allowed_mentions".into(), options.allowed_mentions());
    if options.flags() != 0 {
        body.insert("flags".into(), options.flags().into());
    }
    if let Some(reference) = reference {
        body.insert("message_reference".into(), reference);
    }
    if post.media.is_empty() {
        return api.create_message(channel_id, &Value::Object(body));
    }
    let (attachments, files) = attachments(&post.media)?;
    body.insert("attachments".into(), attachments);
    let boundary = format!(
        "plaza-{}",
        nonce(&format!("{}:{}", post.idempotency_key, clock::now_ms()))
    );
    api.create_message_with_files(channel_id, &Value::Object(body), &files, &boundary)
}

/// The `attachments` metadata (alt text as `description`) and the files.
fn attachments(media_refs: &[MediaRef]) -> Result<(Value, Vec<FilePart>), PluginError> {
    let mut described = Vec::new();
    let mut files = Vec::new();
    for (n, attachment) in media_refs.iter().enumerate() {
        let extension = match attachment.mime.as_str() {
            "image/jpeg" => "jpg",
            "video/quicktime" => "mov",
            "audio/mpeg" => "mp3",
            other => other.rsplit('/').next().unwrap_or("bin"),
        };
        let filename = format!("attachment-{}.{extension}", n + 1);
        let mut entry = Map::new();
        entry.insert("id".into(), n.into());
        entry.insert("filename".into(), filename.clone().into());
        if let Some(alt) = &attachment.alt_text {
            // Discord caps descriptions at 1024 characters.
            let alt: String = alt.chars().take(1024).collect();
            entry.insert("description".into(), alt.into());
        }
        described.push(Value::Object(entry));
        files.push(FilePart {
            filename,
            content_type: attachment.mime.clone(),
            bytes: media::read_all(attachment)?,
        });
    }
    Ok((Value::Array(described), files))
}

/// Reads the bot's recent messages in a channel, newest first, for one
/// carrying `nonce`.
fn scan_for_nonce(
    api: &Api,
    channel_id: &str,
    me: &str,
    nonce: &str,
) -> Result<Option<Message>, PluginError> {
    let mut before: Option<String> = None;
    for _ in 0..LOOKUP_PAGES {
        let page = api.messages(channel_id, None, before.as_deref(), MAX_PAGE)?;
        let found = page
            .iter()
            .rev()
            .find(|m| m.author.id == me && m.nonce_text().as_deref() == Some(nonce));
        if let Some(found) = found {
            return Ok(Some(found.clone()));
        }
        if page.len() < MAX_PAGE as usize {
            break;
        }
        before = page.first().map(|m| m.id.clone());
    }
    Ok(None)
}

/// RFC 3339 time of a snowflake (the milliseconds since Discord's epoch in
/// its top 42 bits).
pub fn snowflake_time(id: &str) -> String {
    let ms = id
        .parse::<u64>()
        .map_or(0, |id| (id >> 22) + DISCORD_EPOCH_MS);
    DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(0))
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `communication_disabled_until` for a timeout of `minutes` from `now_ms`.
pub fn timeout_until(now_ms: u64, minutes: u32) -> String {
    let now =
        DateTime::from_timestamp_millis(i64::try_from(now_ms).unwrap_or(0)).unwrap_or_default();
    (now + Duration::minutes(i64::from(minutes))).to_rfc3339_opts(SecondsFormat::Secs, true)
}

plaza_sdk::export_plugin!(Discord);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
