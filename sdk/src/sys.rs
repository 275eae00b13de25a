//! Where the facades go: the host's imports inside a component, the
//! thread-local [`crate::testing::TestHost`] everywhere else.

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::bindings::plaza::plugin::host;
    use crate::http::{HttpError, Request, Response};
    use crate::log::Level;

    pub(crate) fn http_send(request: Request) -> Result<Response, HttpError> {
        host::http_send(&request.into())
            .map(Into::into)
            .map_err(Into::into)
    }

    pub(crate) fn log(level: Level, message: &str) {
        host::log(level.into(), message);
    }

    pub(crate) fn now_ms() -> u64 {
        host::now_ms()
    }

    pub(crate) fn credential(name: &str) -> Option<String> {
        host::credential(name)
    }

    pub(crate) fn kv_get(key: &str) -> Option<Vec<u8>> {
        host::kv_get(key)
    }

    pub(crate) fn kv_set(key: &str, value: &[u8]) {
        host::kv_set(key, value);
    }

    pub(crate) fn kv_delete(key: &str) {
        host::kv_delete(key);
    }

    pub(crate) fn media_read(id: &str, offset: u64, len: u32) -> Result<Vec<u8>, String> {
        host::media_read(id, offset, len)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub(crate) use crate::testing::sys::{
        credential, http_send, kv_delete, kv_get, kv_set, log, media_read, now_ms,
    };
}

pub(crate) use imp::{credential, http_send, kv_delete, kv_get, kv_set, log, media_read, now_ms};
