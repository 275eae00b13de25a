//! End-to-end tests of the HTTP API: the real server, a real database
//! (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set), real HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod api_tokens;
mod auth;
mod bluesky;
mod campaigns;
mod channels;
mod conformance;
mod conventions;
mod cross_workspace;
mod discord;
mod events;
mod faults;
mod feeds_plugin;
mod inbox;
mod inbox_hooks;
mod invitations;
mod jobs;
mod jwt_attacks;
mod live;
mod mastodon;
mod matrix;
mod media;
mod media_refusals;
mod members;
mod metrics;
mod openapi;
mod plugins;
mod posts;
mod publishing;
mod roles;
mod scale;
mod schema;
mod telegram;
mod webhook_plugin;
mod webhooks;
mod wordpress;
mod workspaces;
