//! Moves between the SDK's types and the raw WIT records, field by field.

use crate::bindings::plaza::plugin::{host, types as wit};
use crate::http::{HttpError, Request, Response};
use crate::log::Level;
use crate::{
    Author, Capabilities, Channel, Item, ItemKind, Limits, Manifest, MediaRef, Metric, Moderation,
    OAuth2, Page, PluginError, Post, Published, Tokens, WebhookOutcome, WebhookRequest,
};

/// Each SDK capability beside its WIT flag; the bits are not assumed equal.
const CAPABILITIES: [(Capabilities, wit::Capabilities); 16] = [
    (Capabilities::PUBLISH, wit::Capabilities::PUBLISH),
    (
        Capabilities::PUBLISH_MEDIA,
        wit::Capabilities::PUBLISH_MEDIA,
    ),
    (Capabilities::THREADS, wit::Capabilities::THREADS),
    (Capabilities::DELETE_POST, wit::Capabilities::DELETE_POST),
    (Capabilities::MENTIONS, wit::Capabilities::MENTIONS),
    (Capabilities::COMMENTS, wit::Capabilities::COMMENTS),
    (
        Capabilities::DIRECT_MESSAGES,
        wit::Capabilities::DIRECT_MESSAGES,
    ),
    (Capabilities::SEARCH, wit::Capabilities::SEARCH),
    (Capabilities::REPLY, wit::Capabilities::REPLY),
    (Capabilities::HIDE, wit::Capabilities::HIDE),
    (
        Capabilities::DELETE_COMMENT,
        wit::Capabilities::DELETE_COMMENT,
    ),
    (Capabilities::BLOCK_AUTHOR, wit::Capabilities::BLOCK_AUTHOR),
    (Capabilities::POST_METRICS, wit::Capabilities::POST_METRICS),
    (
        Capabilities::ACCOUNT_METRICS,
        wit::Capabilities::ACCOUNT_METRICS,
    ),
    (Capabilities::WEBHOOKS, wit::Capabilities::WEBHOOKS),
    (Capabilities::OAUTH2, wit::Capabilities::OAUTH2),
];

impl From<Capabilities> for wit::Capabilities {
    fn from(capabilities: Capabilities) -> Self {
        CAPABILITIES
            .iter()
            .filter(|(ours, _)| capabilities.contains(*ours))
            .fold(Self::empty(), |all, (_, theirs)| all | *theirs)
    }
}

impl From<Manifest> for wit::Manifest {
    fn from(manifest: Manifest) -> Self {
        let Limits {
            max_text_chars,
            max_media,
            media_types,
        } = manifest.limits;
        Self {
            id: manifest.id,
            version: manifest.version,
            contract: manifest.contract,
            platform: manifest.platform,
            display_name: manifest.display_name,
            capabilities: manifest.capabilities.into(),
            limits: wit::Limits {
                max_text_chars,
                max_media,
                media_types,
            },
            allowed_hosts: manifest.allowed_hosts,
            config_schema: manifest.config_schema,
            post_options_schema: manifest.post_options_schema,
            oauth2: manifest.oauth2.map(
                |OAuth2 {
                     authorize_url,
                     token_url,
                     scopes,
                 }| {
                    wit::Oauth2 {
                        authorize_url,
                        token_url,
                        scopes,
                    }
                },
            ),
        }
    }
}

impl From<wit::Channel> for Channel {
    fn from(channel: wit::Channel) -> Self {
        Self {
            id: channel.id,
            config: channel.config,
        }
    }
}

impl From<wit::Post> for Post {
    fn from(post: wit::Post) -> Self {
        Self {
            text: post.text,
            media: post
                .media
                .into_iter()
                .map(|media| MediaRef {
                    id: media.id,
                    mime: media.mime,
                    size: media.size,
                    alt_text: media.alt_text,
                })
                .collect(),
            reply_to: post.reply_to,
            options: post.options,
            idempotency_key: post.idempotency_key,
        }
    }
}

impl From<Published> for wit::Published {
    fn from(published: Published) -> Self {
        Self {
            remote_id: published.remote_id,
            url: published.url,
        }
    }
}

impl From<Author> for wit::Author {
    fn from(author: Author) -> Self {
        Self {
            remote_id: author.remote_id,
            handle: author.handle,
            display_name: author.display_name,
            followers: author.followers,
        }
    }
}

impl From<ItemKind> for wit::ItemKind {
    fn from(kind: ItemKind) -> Self {
        match kind {
            ItemKind::Mention => Self::Mention,
            ItemKind::Comment => Self::Comment,
            ItemKind::DirectMessage => Self::DirectMessage,
            ItemKind::Review => Self::Review,
            ItemKind::SearchHit => Self::SearchHit,
        }
    }
}

impl From<Item> for wit::Item {
    fn from(item: Item) -> Self {
        Self {
            remote_id: item.remote_id,
            kind: item.kind.into(),
            thread_id: item.thread_id,
            parent_id: item.parent_id,
            post_id: item.post_id,
            author: item.author.into(),
            text: item.text,
            lang: item.lang,
            created_at: item.created_at,
            url: item.url,
        }
    }
}

impl From<Page> for wit::Page {
    fn from(page: Page) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

impl From<Metric> for wit::Metric {
    fn from(metric: Metric) -> Self {
        Self {
            name: metric.name,
            value: metric.value,
            post_id: metric.post_id,
        }
    }
}

impl From<wit::Moderation> for Moderation {
    fn from(action: wit::Moderation) -> Self {
        match action {
            wit::Moderation::Hide => Self::Hide,
            wit::Moderation::Unhide => Self::Unhide,
            wit::Moderation::Delete => Self::Delete,
            wit::Moderation::BlockAuthor => Self::BlockAuthor,
            wit::Moderation::MuteAuthor => Self::MuteAuthor,
            wit::Moderation::Report => Self::Report,
        }
    }
}

impl From<Tokens> for wit::Tokens {
    fn from(tokens: Tokens) -> Self {
        Self {
            access: tokens.access,
            refresh: tokens.refresh,
            expires_in: tokens.expires_in,
            scope: tokens.scope,
        }
    }
}

impl From<wit::WebhookRequest> for WebhookRequest {
    fn from(request: wit::WebhookRequest) -> Self {
        Self {
            method: request.method,
            path: request.path,
            query: request.query,
            headers: request.headers,
            body: request.body,
        }
    }
}

impl From<WebhookOutcome> for wit::WebhookOutcome {
    fn from(outcome: WebhookOutcome) -> Self {
        Self {
            items: outcome.items.into_iter().map(Into::into).collect(),
            reply: outcome.reply.map(Into::into),
        }
    }
}

impl From<Response> for wit::HttpResponse {
    fn from(response: Response) -> Self {
        Self {
            status: response.status,
            headers: response.headers,
            body: response.body,
        }
    }
}

impl From<Request> for wit::HttpRequest {
    fn from(request: Request) -> Self {
        Self {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        }
    }
}

impl From<wit::HttpResponse> for Response {
    fn from(response: wit::HttpResponse) -> Self {
        Self {
            status: response.status,
            headers: response.headers,
            body: response.body,
        }
    }
}

impl From<wit::HttpError> for HttpError {
    fn from(error: wit::HttpError) -> Self {
        match error {
            wit::HttpError::Denied(reason) => Self::Denied(reason),
            wit::HttpError::Timeout => Self::Timeout,
            wit::HttpError::TooLarge => Self::TooLarge,
            wit::HttpError::TooManyRequests => Self::TooManyRequests,
            wit::HttpError::Connect(reason) => Self::Connect(reason),
            wit::HttpError::InvalidUrl(reason) => Self::InvalidUrl(reason),
        }
    }
}

impl From<PluginError> for wit::PluginError {
    fn from(error: PluginError) -> Self {
        match error {
            PluginError::Unauthorized(reason) => Self::Unauthorized(reason),
            PluginError::RateLimited(secs) => Self::RateLimited(secs),
            PluginError::Invalid(reason) => Self::Invalid(reason),
            PluginError::Transient(reason) => Self::Transient(reason),
            PluginError::NotFound => Self::NotFound,
            PluginError::Unsupported => Self::Unsupported,
        }
    }
}

impl From<Level> for host::Level {
    fn from(level: Level) -> Self {
        match level {
            Level::Trace => Self::Trace,
            Level::Debug => Self::Debug,
            Level::Info => Self::Info,
            Level::Warn => Self::Warn,
            Level::Error => Self::Error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capability_maps_to_its_own_flag() {
        for (ours, theirs) in CAPABILITIES {
            assert_eq!(wit::Capabilities::from(ours), theirs);
        }
        assert_eq!(
            wit::Capabilities::from(Capabilities::all()),
            wit::Capabilities::all()
        );
        assert_eq!(
            CAPABILITIES
                .iter()
                .map(|(ours, _)| ours.bits())
                .sum::<u16>(),
            Capabilities::all().bits()
        );
    }

    #[test]
    fn errors_map_case_for_case() {
        assert!(matches!(
            wit::PluginError::from(PluginError::RateLimited(Some(5))),
            wit::PluginError::RateLimited(Some(5))
        ));
        assert!(matches!(
            wit::PluginError::from(PluginError::Unsupported),
            wit::PluginError::Unsupported
        ));
    }
}
