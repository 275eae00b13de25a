//! The host imports, answered from this thread's [`super::TestHost`].

use super::{LogLine, with_state};
use crate::http::{HttpError, Request, Response};
use crate::log::Level;

pub(crate) fn http_send(request: Request) -> Result<Response, HttpError> {
    with_state(|state| {
        let rule = state.rules.iter().rev().find(|rule| {
            rule.method.eq_ignore_ascii_case(request.method()) && rule.url == request.url()
        });
        let reply = match rule {
            Some(rule) => rule.reply.clone(),
            None => state.queue.pop_front().unwrap_or_else(|| {
                Err(HttpError::Denied(format!(
                    "test host: no scripted response for {request}"
                )))
            }),
        };
        state.requests.push(request);
        reply
    })
}

pub(crate) fn log(level: Level, message: &str) {
    with_state(|state| {
        state.logs.push(LogLine {
            level,
            message: message.to_owned(),
        });
    });
}

pub(crate) fn now_ms() -> u64 {
    with_state(|state| state.now_ms)
}

pub(crate) fn credential(name: &str) -> Option<String> {
    with_state(|state| state.credentials.get(name).cloned())
}

pub(crate) fn kv_get(key: &str) -> Option<Vec<u8>> {
    with_state(|state| state.kv.get(key).cloned())
}

pub(crate) fn kv_set(key: &str, value: &[u8]) {
    with_state(|state| state.kv.insert(key.to_owned(), value.to_vec()));
}

pub(crate) fn kv_delete(key: &str) {
    with_state(|state| state.kv.remove(key));
}

pub(crate) fn media_read(id: &str, offset: u64, len: u32) -> Result<Vec<u8>, String> {
    with_state(|state| {
        let bytes = state
            .media
            .get(id)
            .ok_or_else(|| format!("no media file {id} is attached"))?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = start.saturating_add(len as usize).min(bytes.len());
        Ok(bytes.get(start..end).unwrap_or_default().to_vec())
    })
}
