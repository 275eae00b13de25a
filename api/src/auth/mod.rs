//! Who is calling and what they may do: passwords, signed access tokens,
//! opaque refresh and API tokens, and the extractor handlers use.

pub mod accounts;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod principal;
pub mod sealing;
pub mod session;
pub mod tokens;

pub use keys::KeyRing;
pub use principal::{Principal, WorkspaceAccess};
