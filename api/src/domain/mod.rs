//! Pure domain logic: no I/O, no HTTP, no SQL.

pub mod email;
pub mod ids;
pub mod password;
pub mod post_content;
pub mod posting_slots;
pub mod roles;
pub mod settings;
pub mod text;
pub mod utm;
pub mod workflow;
