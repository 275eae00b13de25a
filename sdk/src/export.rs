//! The component's `platform` exports, answered by a [`Plugin`].

use std::marker::PhantomData;

use crate::bindings::exports::plaza::plugin::platform::Guest;
use crate::bindings::plaza::plugin::types as wit;
use crate::{Channel, Plugin, PluginError};

/// Implements the generated `Guest` trait for any [`Plugin`]; named only by
/// [`crate::export_plugin!`].
#[derive(Debug)]
pub struct Component<P>(PhantomData<P>);

type WitResult<T> = Result<T, wit::PluginError>;

fn answer<T, U: From<T>>(result: Result<T, PluginError>) -> WitResult<U> {
    result.map(Into::into).map_err(Into::into)
}

/// Sends panic messages to the host log before the instance traps, since a
/// component has no stderr worth reading.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            crate::log::error(format!("plugin panicked: {info}"));
            default_hook(info);
        }));
    });
}

fn channel(ch: wit::Channel) -> Channel {
    install_panic_hook();
    ch.into()
}

impl<P: Plugin> Guest for Component<P> {
    fn describe() -> wit::Manifest {
        install_panic_hook();
        P::describe().into()
    }

    fn validate_config(config: String) -> WitResult<()> {
        install_panic_hook();
        answer(P::validate_config(&config))
    }

    fn check_credentials(ch: wit::Channel) -> WitResult<wit::Author> {
        answer(P::check_credentials(&channel(ch)))
    }

    fn oauth_authorize_url(
        ch: wit::Channel,
        state: String,
        pkce_challenge: String,
        redirect_uri: String,
    ) -> WitResult<String> {
        answer(P::oauth_authorize_url(
            &channel(ch),
            &state,
            &pkce_challenge,
            &redirect_uri,
        ))
    }

    fn oauth_exchange(
        ch: wit::Channel,
        code: String,
        pkce_verifier: String,
        redirect_uri: String,
    ) -> WitResult<wit::Tokens> {
        answer(P::oauth_exchange(
            &channel(ch),
            &code,
            &pkce_verifier,
            &redirect_uri,
        ))
    }

    fn oauth_refresh(ch: wit::Channel) -> WitResult<wit::Tokens> {
        answer(P::oauth_refresh(&channel(ch)))
    }

    fn publish(ch: wit::Channel, p: wit::Post) -> WitResult<wit::Published> {
        answer(P::publish(&channel(ch), p.into()))
    }

    fn find_published(
        ch: wit::Channel,
        idempotency_key: String,
    ) -> WitResult<Option<wit::Published>> {
        answer(P::find_published(&channel(ch), &idempotency_key).map(|found| found.map(Into::into)))
    }

    fn delete_post(ch: wit::Channel, remote_id: String) -> WitResult<()> {
        answer(P::delete_post(&channel(ch), &remote_id))
    }

    fn fetch_mentions(
        ch: wit::Channel,
        cursor: Option<String>,
        limit: u32,
    ) -> WitResult<wit::Page> {
        answer(P::fetch_mentions(&channel(ch), cursor.as_deref(), limit))
    }

    fn fetch_comments(
        ch: wit::Channel,
        post_id: String,
        cursor: Option<String>,
        limit: u32,
    ) -> WitResult<wit::Page> {
        answer(P::fetch_comments(
            &channel(ch),
            &post_id,
            cursor.as_deref(),
            limit,
        ))
    }

    fn fetch_messages(
        ch: wit::Channel,
        cursor: Option<String>,
        limit: u32,
    ) -> WitResult<wit::Page> {
        answer(P::fetch_messages(&channel(ch), cursor.as_deref(), limit))
    }

    fn search(
        ch: wit::Channel,
        query: String,
        cursor: Option<String>,
        limit: u32,
    ) -> WitResult<wit::Page> {
        answer(P::search(&channel(ch), &query, cursor.as_deref(), limit))
    }

    fn reply(ch: wit::Channel, to: String, p: wit::Post) -> WitResult<wit::Published> {
        answer(P::reply(&channel(ch), &to, p.into()))
    }

    fn moderate(ch: wit::Channel, remote_id: String, action: wit::Moderation) -> WitResult<()> {
        answer(P::moderate(&channel(ch), &remote_id, action.into()))
    }

    fn post_metrics(ch: wit::Channel, post_ids: Vec<String>) -> WitResult<Vec<wit::Metric>> {
        answer(
            P::post_metrics(&channel(ch), &post_ids)
                .map(|metrics| metrics.into_iter().map(Into::into).collect::<Vec<_>>()),
        )
    }

    fn account_metrics(ch: wit::Channel) -> WitResult<Vec<wit::Metric>> {
        answer(
            P::account_metrics(&channel(ch))
                .map(|metrics| metrics.into_iter().map(Into::into).collect::<Vec<_>>()),
        )
    }

    fn verify_webhook(ch: wit::Channel, req: wit::WebhookRequest) -> WitResult<()> {
        answer(P::verify_webhook(&channel(ch), &req.into()))
    }

    fn parse_webhook(ch: wit::Channel, req: wit::WebhookRequest) -> WitResult<wit::WebhookOutcome> {
        answer(P::parse_webhook(&channel(ch), &req.into()))
    }
}
