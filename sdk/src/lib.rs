//! The Plaza plugin SDK.
//!
//! Platform plugins are WebAssembly components that implement the Plaza plugin
//! contract. This crate will hold the guest-side `Plugin` trait, the export
//! macro and a native test host; for now it only names the contract version the
//! server and the plugins agree on.

/// The plugin contract version this SDK speaks (the WIT package version).
pub const CONTRACT_VERSION: &str = "0.1.0";
