//! What was sent under which idempotency key, in the kv store.
//!
//! The Bot API takes no idempotency key and cannot list a chat's messages,
//! so the kv store is the only record: an *attempt* mark written (and read
//! back) before the send, the *sent* record written right after it, the mark
//! removed once the outcome is known. `find_published` then answers:
//!
//! | kv | answer |
//! | --- | --- |
//! | sent record | `Some(published)` |
//! | attempt mark, no record | an error (`Invalid`): the send began and its outcome is unknown, so Plaza puts the target in `needs_review` |
//! | neither | `None`: the mark is written before anything goes out, so nothing went out |
//!
//! The window that remains: a crash after Telegram made the message but
//! before the record was written leaves the mark, and a person decides.
//!
//! The host keeps at most 1,000 keys per channel, so records are kept for
//! the last [`MAX_RECORDS`] keys; older ones are dropped (a crash is
//! reconciled within minutes, never hundreds of posts later).

use plaza_sdk::{PluginError, kv};
use serde::{Deserialize, Serialize};

/// Most sent records kept.
pub const MAX_RECORDS: usize = 200;
/// The kv key of the list of recorded keys, oldest first.
const INDEX_KEY: &str = "ledger";

/// What one publish sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The chat it went to.
    pub chat_id: i64,
    /// The messages it made, first first (an album has several).
    pub message_ids: Vec<i64>,
    /// The link to the first message.
    pub url: Option<String>,
}

fn sent_key(key: &str) -> String {
    format!("sent:{key}")
}

fn attempt_key(key: &str) -> String {
    format!("attempt:{key}")
}

/// Where the other messages of an album are kept, by its first message.
pub fn album_key(message_ref: &str) -> String {
    format!("album:{message_ref}")
}

/// Marks the start of a send under `key`, and checks the mark was kept:
/// without it a crash could not be told from "never sent".
pub fn begin(key: &str, now_ms: u64) -> Result<(), PluginError> {
    if key.is_empty() {
        return Ok(());
    }
    let mark = now_ms.to_string();
    kv::set(&attempt_key(key), &mark);
    if kv::get_string(&attempt_key(key)).as_deref() != Some(mark.as_str()) {
        return Err(PluginError::transient(
            "the plugin store did not keep the send mark; not sending without it",
        ));
    }
    Ok(())
}

/// The send under `key` is known not to have happened: drop the mark.
pub fn abandon(key: &str) {
    if !key.is_empty() {
        kv::delete(&attempt_key(key));
    }
}

/// Records what a send under `key` made, and drops the mark.
pub fn record(key: &str, sent: &Sent, message_ref: &str) -> Result<(), PluginError> {
    if sent.message_ids.len() > 1 {
        kv::set_json(&album_key(message_ref), &sent.message_ids)?;
    }
    if key.is_empty() {
        return Ok(());
    }
    kv::set_json(&sent_key(key), sent)?;
    kv::delete(&attempt_key(key));
    let mut index: Vec<String> = kv::get_json(INDEX_KEY)?.unwrap_or_default();
    index.retain(|k| k != key);
    index.push(key.to_owned());
    while index.len() > MAX_RECORDS {
        let old = index.remove(0);
        if let Some(old_sent) = kv::get_json::<Sent>(&sent_key(&old))?
            && let Some(first) = old_sent.message_ids.first()
        {
            kv::delete(&album_key(&format!("{}:{first}", old_sent.chat_id)));
        }
        kv::delete(&sent_key(&old));
    }
    kv::set_json(INDEX_KEY, &index)
}

/// What is known of a send under `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// It went out.
    Sent(Sent),
    /// It began and its outcome is unknown.
    Unknown,
    /// Nothing was sent.
    Nothing,
}

/// Looks `key` up.
pub fn lookup(key: &str) -> Result<Lookup, PluginError> {
    if let Some(sent) = kv::get_json::<Sent>(&sent_key(key))? {
        return Ok(Lookup::Sent(sent));
    }
    if kv::get(&attempt_key(key)).is_some() {
        return Ok(Lookup::Unknown);
    }
    Ok(Lookup::Nothing)
}
