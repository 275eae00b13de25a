//! Pure domain logic: no I/O, no HTTP, no SQL.

pub mod email;
pub mod ids;
pub mod password;
pub mod roles;
pub mod text;
