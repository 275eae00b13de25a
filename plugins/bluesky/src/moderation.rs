//! Moderation: muting and blocking authors, reporting posts or accounts,
//! and hiding replies in the account's own threads.

use plaza_sdk::PluginError;
use serde_json::{Value, json};

use crate::api::{Api, check, error_name};
use crate::records::{self, AtUri, POST, get_record};
use crate::{richtext, tid};

/// The collection of thread gates (reply controls; hidden replies).
const THREADGATE: &str = "app.bsky.feed.threadgate";

/// Most hidden replies per thread (`app.bsky.feed.threadgate`:
/// `hiddenReplies`, `maxLength: 300`).
const MAX_HIDDEN_REPLIES: usize = 300;

/// Mutes the author of `remote_id` (private to the account).
pub fn mute(api: &mut Api, remote_id: &str) -> Result<(), PluginError> {
    let did = author_did(api, remote_id)?;
    check(api.post("app.bsky.graph.muteActor", &json!({ "actor": did }))?)?;
    Ok(())
}

/// The DID of the author of `remote_id`: a post's repository, or the
/// account itself; handles are resolved.
pub fn author_did(api: &mut Api, remote_id: &str) -> Result<String, PluginError> {
    let actor = if remote_id.starts_with("at://") {
        AtUri::parse(remote_id)?.repo
    } else {
        remote_id.trim().trim_start_matches('@').to_owned()
    };
    if actor.starts_with("did:") {
        return Ok(actor);
    }
    if !richtext::is_handle(&actor) {
        return Err(PluginError::Invalid(format!(
            "{remote_id:?} is neither a post, a DID nor a handle"
        )));
    }
    records::resolve_handle(api, &actor)?.ok_or(PluginError::NotFound)
}

/// Blocks `did` with an `app.bsky.graph.block` record. Its key derives from
/// the DID, so blocking twice keeps one record.
pub fn block(api: &mut Api, did: &str) -> Result<(), PluginError> {
    let body = json!({
        "repo": api.did(),
        "collection": "app.bsky.graph.block",
        "rkey": tid::for_key(&format!("block:{did}")),
        "record": {
            "$type": "app.bsky.graph.block",
            "subject": did,
            "createdAt": records::now_datetime(),
        },
        "swapRecord": null,
    });
    let response = api.post("com.atproto.repo.putRecord", &body)?;
    if error_name(&response).as_deref() == Some("InvalidSwap") {
        return Ok(());
    }
    check(response)?;
    Ok(())
}

/// Reports a post (by its strong reference) or an account to the
/// service's moderators.
pub fn report(api: &mut Api, remote_id: &str) -> Result<(), PluginError> {
    let subject = if remote_id.starts_with("at://") {
        let uri = AtUri::parse(remote_id)?;
        let record = get_record(api, &uri)?.ok_or(PluginError::NotFound)?;
        json!({
            "$type": "com.atproto.repo.strongRef",
            "uri": record.uri,
            "cid": record.cid.unwrap_or_default(),
        })
    } else {
        let did = author_did(api, remote_id)?;
        json!({ "$type": "com.atproto.admin.defs#repoRef", "did": did })
    };
    let body = json!({
        "reasonType": "com.atproto.moderation.defs#reasonOther",
        "reason": "Reported by a moderator through Plaza",
        "subject": subject,
    });
    check(api.post("com.atproto.moderation.createReport", &body)?)?;
    Ok(())
}

/// Hides (`hide: true`) or shows again the reply `remote_id` under one of
/// the account's threads: the thread's gate record (keyed like the root
/// post) lists hidden replies. The gate is written with the CID it was read
/// at, so a concurrent change is not lost; other rules in it are kept.
pub fn set_hidden(api: &mut Api, remote_id: &str, hide: bool) -> Result<(), PluginError> {
    let reply_uri = AtUri::parse(remote_id)?;
    let reply = get_record(api, &reply_uri)?.ok_or(PluginError::NotFound)?;
    let root = reply
        .value
        .get("reply")
        .and_then(|r| r.get("root"))
        .and_then(|r| r.get("uri"))
        .and_then(Value::as_str)
        .ok_or_else(|| PluginError::invalid("only replies can be hidden"))?;
    let root = AtUri::parse(root)?;
    if root.repo != api.did() || root.collection != POST {
        return Err(PluginError::invalid(
            "only replies in the account's own threads can be hidden",
        ));
    }
    let gate_uri = AtUri::new(api.did(), THREADGATE, &root.rkey);
    let existing = get_record(api, &gate_uri)?;
    let mut gate = match &existing {
        Some(record) => record.value.clone(),
        None => json!({
            "$type": THREADGATE,
            "post": root.to_string(),
            "createdAt": records::now_datetime(),
        }),
    };
    let mut hidden: Vec<String> = gate
        .get("hiddenReplies")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let reply_uri = reply.uri;
    let listed = hidden.contains(&reply_uri);
    match (hide, listed) {
        (true, true) | (false, false) => return Ok(()),
        (true, false) => hidden.push(reply_uri),
        (false, true) => hidden.retain(|uri| *uri != reply_uri),
    }
    if hidden.len() > MAX_HIDDEN_REPLIES {
        return Err(PluginError::Invalid(format!(
            "a thread hides at most {MAX_HIDDEN_REPLIES} replies"
        )));
    }
    if let Some(object) = gate.as_object_mut() {
        object.insert("hiddenReplies".into(), json!(hidden));
    }
    let swap = existing.and_then(|record| record.cid);
    let body = json!({
        "repo": api.did(),
        "collection": THREADGATE,
        "rkey": root.rkey,
        "record": gate,
        "swapRecord": swap,
    });
    let response = api.post("com.atproto.repo.putRecord", &body)?;
    if error_name(&response).as_deref() == Some("InvalidSwap") {
        return Err(PluginError::transient(
            "the thread's reply settings changed meanwhile; try again",
        ));
    }
    check(response)?;
    Ok(())
}
