//! Plaza: a headless API for the people who run a brand's online community.
//!
//! Layers, outside in: [`http`] (thin handlers and extractors), [`auth`]
//! (who is calling and what they may do), [`domain`] (pure rules), [`media`]
//! (the media library's files), [`jobs`] (the durable queue for background
//! work), [`db`] (diesel over SQLite or PostgreSQL).
//! [`startup`] wires them into a server; [`cli`] is the `plaza` command.

pub mod activity;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod inbox;
pub mod jobs;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod plugins;
pub mod publishing;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod webhooks;
pub mod worker;
