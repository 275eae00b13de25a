//! The media library: images and videos a workspace keeps for its posts.
//!
//! What a file is comes from its bytes ([`types::sniff`]), never from the
//! name or type the client declares. Bytes are stored once per SHA-256 in a
//! [`MediaStore`]; each workspace has its own rows that point at them, so the
//! same file uploaded to two workspaces is stored once and each sees only
//! its own row.
//!
//! Pure rules live in [`types`], [`filename`] and [`alt_text`]; [`intake`]
//! reads an upload, [`library`] ties the rows and the store together.

pub mod alt_text;
pub mod filename;
pub mod intake;
pub mod library;
pub mod local;
pub mod store;
pub mod types;

pub use local::LocalStore;
pub use store::{ContentDigest, MediaStore, SealedFile, StagedFile};
