//! Pure domain logic: no I/O, no HTTP, no SQL.

pub mod activity;
pub mod advocacy;
pub mod business_hours;
pub mod campaigns;
pub mod charts;
pub mod crisis;
pub mod email;
pub mod events;
pub mod ids;
pub mod inbox;
pub mod inbox_settings;
pub mod language;
pub mod metrics;
pub mod password;
pub mod post_content;
pub mod posting_slots;
pub mod registrations;
pub mod roles;
pub mod rules;
pub mod saved_replies;
pub mod sentiment;
pub mod settings;
pub mod spreadsheet;
pub mod text;
pub mod utm;
pub mod workflow;

/// A rule an input broke: the field it is about (its path in a request
/// body, `budget.currency`) and why, in words a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field's path.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl Violation {
    /// A violation of `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
