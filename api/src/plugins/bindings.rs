//! Host bindings generated from the plugin contract in `sdk/wit`, the same
//! files the SDK builds plugins from.

wasmtime::component::bindgen!({
    path: "../sdk/wit",
    world: "plugin",
});

pub use exports::plaza::plugin::platform::Guest as Platform;
pub use plaza::plugin::host::Level;
pub use plaza::plugin::types::{
    Author, Capabilities, Channel, HttpError, HttpRequest, HttpResponse, Item, ItemKind, Limits,
    Manifest, MediaRef, Metric, Moderation, Oauth2, Page, PluginError, Post, Published, Tokens,
    WebhookOutcome, WebhookRequest,
};
