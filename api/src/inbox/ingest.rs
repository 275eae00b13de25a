//! One pipeline for every item, however it arrived: analyse (outside the
//! transaction: language and sentiment are pure CPU), then store (inside
//! it: de-duplication, contacts, rules, SLA, the rows, their log entries
//! and events, and the jobs the rules asked for).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::QueryResult;
use serde_json::json;

use crate::activity;
use crate::db::DbConn;
use crate::db::contacts::{ContactChanges, ContactRow, IdentityRow};
use crate::db::inbox::{InboxItemRow, lock_ingestion, next_rotation};
use crate::db::inbox_rules::ModerationLogRow;
use crate::db::publish_targets::PublishTargetRow;
use crate::domain::activity::EventType;
use crate::domain::ids::ChannelId;
use crate::domain::inbox::{ItemKind, ItemStatus, Priority};
use crate::domain::inbox_settings::InboxSettings;
use crate::domain::language::detect_language;
use crate::domain::rules::{CompiledRules, Decision, ItemFacts, RuleAction};
use crate::domain::sentiment::{Sentiment, SentimentScorer};
use crate::plugins::bindings;

use super::{actions, replies};

/// How an item reached Plaza.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A poll of the channel's streams.
    Poll,
    /// A platform webhook.
    Webhook,
    /// A listening query's search.
    Listening,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::Webhook => "webhook",
            Self::Listening => "listening",
        }
    }
}

/// Who wrote an incoming item.
#[derive(Debug, Clone)]
pub struct IncomingAuthor {
    /// The account's platform id.
    pub remote_id: String,
    /// Its handle.
    pub handle: String,
    /// Its display name.
    pub display_name: Option<String>,
    /// Its followers, when the platform says.
    pub followers: Option<u64>,
}

/// An item as a plugin delivered it.
#[derive(Debug, Clone)]
pub struct IncomingItem {
    /// The platform's id.
    pub remote_id: String,
    /// What it is.
    pub kind: ItemKind,
    /// Its conversation on the platform.
    pub thread_id: Option<String>,
    /// What it answers.
    pub parent_id: Option<String>,
    /// The brand's post it is about.
    pub post_id: Option<String>,
    /// Who wrote it.
    pub author: IncomingAuthor,
    /// Its text.
    pub text: String,
    /// Its language, when the platform says.
    pub lang: Option<String>,
    /// When it was written.
    pub created_at: NaiveDateTime,
    /// Where it is.
    pub url: Option<String>,
    /// The listening query that found it.
    pub listening_query_id: Option<String>,
}

/// Most characters of an item's text kept (longer texts are cut).
pub const MAX_TEXT_CHARS: usize = 20_000;

impl IncomingItem {
    /// Reads a plugin's item; a time that is not RFC 3339 becomes `now`.
    pub fn from_plugin(item: bindings::Item, now: NaiveDateTime, query: Option<&str>) -> Self {
        let kind = match item.kind {
            bindings::ItemKind::Mention => ItemKind::Mention,
            bindings::ItemKind::Comment => ItemKind::Comment,
            bindings::ItemKind::DirectMessage => ItemKind::DirectMessage,
            bindings::ItemKind::Review => ItemKind::Review,
            bindings::ItemKind::SearchHit => ItemKind::ListeningHit,
        };
        let created_at =
            chrono::DateTime::parse_from_rfc3339(&item.created_at).map_or(now, |at| at.naive_utc());
        let text = if item.text.chars().count() > MAX_TEXT_CHARS {
            item.text.chars().take(MAX_TEXT_CHARS).collect()
        } else {
            item.text
        };
        Self {
            remote_id: item.remote_id,
            kind,
            thread_id: item.thread_id,
            parent_id: item.parent_id,
            post_id: item.post_id,
            author: IncomingAuthor {
                remote_id: item.author.remote_id,
                handle: item.author.handle,
                display_name: item.author.display_name,
                followers: item.author.followers,
            },
            text,
            lang: item.lang,
            created_at,
            url: item.url,
            listening_query_id: query.map(str::to_owned),
        }
    }
}

/// An item with its language and sentiment read.
#[derive(Debug, Clone)]
pub struct AnalysedItem {
    /// The item.
    pub item: IncomingItem,
    /// Its language: the platform's, else detected.
    pub lang: Option<String>,
    /// Its sentiment.
    pub sentiment: Sentiment,
}

/// Reads language and sentiment, dropping repeats of a remote id within
/// the batch (the first wins). Pure CPU: run it outside a transaction.
pub fn analyse(scorer: &dyn SentimentScorer, items: Vec<IncomingItem>) -> Vec<AnalysedItem> {
    let mut seen = HashSet::with_capacity(items.len());
    items
        .into_iter()
        .filter(|item| seen.insert(item.remote_id.clone()))
        .map(|item| {
            let lang = item
                .lang
                .as_deref()
                .map(|l| l.split(['-', '_']).next().unwrap_or(l).to_ascii_lowercase())
                .filter(|l| l.len() == 2)
                .or_else(|| detect_language(&item.text).map(str::to_owned));
            let sentiment = scorer.score(&item.text, lang.as_deref());
            AnalysedItem {
                item,
                lang,
                sentiment,
            }
        })
        .collect()
}

/// The channel a batch came through.
#[derive(Debug, Clone, Copy)]
pub struct ChannelRef<'a> {
    /// Its workspace.
    pub workspace_id: &'a str,
    /// Its id.
    pub id: ChannelId,
    /// Its plugin id.
    pub platform: &'a str,
}

/// What storing a batch did.
#[derive(Debug, Clone, Default)]
pub struct IngestOutcome {
    /// Items in the batch.
    pub received: usize,
    /// Ids of the items stored now.
    pub created: Vec<String>,
    /// Items already in the inbox (polling and webhooks both saw them).
    pub duplicates: usize,
    /// The whole delivery was taken before (a replayed webhook): nothing
    /// was stored.
    pub replayed: bool,
}

/// The contact behind an author, as the rules see it.
#[derive(Debug, Clone)]
struct ContactFacts {
    id: String,
    advocate: bool,
    lists: Vec<String>,
}

/// Stores a batch inside the caller's transaction.
pub fn store(
    conn: &mut DbConn,
    channel: ChannelRef<'_>,
    settings: &InboxSettings,
    rules: &CompiledRules,
    source: Source,
    batch: Vec<AnalysedItem>,
    now: NaiveDateTime,
) -> QueryResult<IngestOutcome> {
    let received = batch.len();
    let channel_id = channel.id.to_string();
    let remote_ids: Vec<String> = batch.iter().map(|a| a.item.remote_id.clone()).collect();
    let known: HashSet<String> = InboxItemRow::known_remote_ids(conn, &channel_id, &remote_ids)?
        .into_iter()
        .collect();
    // A listening query that finds an item already in the inbox (a mention
    // the query also matches) tags it with the query rather than dropping
    // the hit.
    for analysed in batch.iter().filter(|a| known.contains(&a.item.remote_id)) {
        if let Some(query) = &analysed.item.listening_query_id {
            InboxItemRow::mark_listened(conn, &channel_id, &analysed.item.remote_id, query)?;
        }
    }
    let fresh: Vec<AnalysedItem> = batch
        .into_iter()
        .filter(|a| !known.contains(&a.item.remote_id))
        .collect();
    if fresh.is_empty() {
        return Ok(IngestOutcome {
            received,
            created: Vec::new(),
            duplicates: received,
            replayed: false,
        });
    }
    let contacts = resolve_contacts(conn, channel, &fresh, now)?;
    let posts = brand_posts(conn, &channel_id, &fresh)?;

    let mut rows = Vec::with_capacity(fresh.len());
    let mut decisions: Vec<Vec<Decision>> = Vec::with_capacity(fresh.len());
    for analysed in &fresh {
        let contact = contacts.get(&analysed.item.author.remote_id);
        let facts = ItemFacts {
            text: &analysed.item.text,
            kind: analysed.item.kind,
            channel_id: channel.id,
            platform: channel.platform,
            language: analysed.lang.as_deref(),
            sentiment: Some(analysed.sentiment.score),
            author_followers: analysed.item.author.followers,
            author_is_advocate: contact.is_some_and(|c| c.advocate),
            author_lists: contact.map_or(&[][..], |c| c.lists.as_slice()),
        };
        let evaluation = rules.evaluate(&facts);
        let mut row = new_row(channel, &channel_id, source, analysed, contact, &posts, now);
        let taken = apply(conn, channel.workspace_id, &mut row, evaluation.decisions)?;
        let priority = Priority::parse(&row.priority).unwrap_or(Priority::Normal);
        row.first_response_due_at = Some(
            settings
                .sla
                .first_response_due(
                    &settings.business_hours,
                    row.received_at.and_utc(),
                    priority,
                )
                .naive_utc(),
        );
        row.resolution_due_at = Some(
            settings
                .sla
                .resolution_due(
                    &settings.business_hours,
                    row.received_at.and_utc(),
                    priority,
                )
                .naive_utc(),
        );
        rows.push(row);
        decisions.push(taken);
    }

    let stored: HashSet<String> = InboxItemRow::insert_new(conn, &rows)?.into_iter().collect();
    let mut log = Vec::new();
    let mut events = Vec::new();
    let mut lists: HashMap<String, Vec<String>> = HashMap::new();
    let mut created = Vec::with_capacity(stored.len());
    for (row, decided) in rows.iter().zip(&decisions) {
        if !stored.contains(&row.id) {
            continue;
        }
        created.push(row.id.clone());
        events.push((
            EventType::InboxItemCreated,
            Some(row.id.as_str()),
            summary(row),
        ));
        if row.assignee_id.is_some() {
            events.push((
                EventType::InboxItemAssigned,
                Some(row.id.as_str()),
                json!({ "item_id": row.id, "assignee_id": row.assignee_id, "by": "rule" }),
            ));
        }
        for decision in decided {
            log.push(rule_log_entry(row, decision, now));
            match &decision.action {
                RuleAction::AddAuthorToList { list } => {
                    if let Some(contact) = &row.contact_id {
                        lists.entry(contact.clone()).or_default().push(list.clone());
                    }
                }
                RuleAction::Notify { label } => events.push((
                    EventType::InboxRuleNotified,
                    Some(row.id.as_str()),
                    json!({ "item_id": row.id, "rule_id": decision.rule.id, "rule_version": decision.rule.version, "label": label, "item": summary(row) }),
                )),
                RuleAction::AutoReply { saved_reply_id } => {
                    replies::queue_automatic(conn, row, *saved_reply_id, decision.rule, now)?;
                }
                RuleAction::SetStatus {
                    status: ItemStatus::Hidden,
                } => actions::queue_hide(conn, row, now)?,
                _ => {}
            }
        }
    }
    add_to_lists(conn, channel.workspace_id, &lists, now)?;
    ModerationLogRow::append(conn, &log)?;
    activity::record_many(conn, channel.workspace_id, &events)?;
    Ok(IngestOutcome {
        received,
        duplicates: received - created.len(),
        created,
        replayed: false,
    })
}

fn new_row(
    channel: ChannelRef<'_>,
    channel_id: &str,
    source: Source,
    analysed: &AnalysedItem,
    contact: Option<&ContactFacts>,
    posts: &HashMap<String, String>,
    now: NaiveDateTime,
) -> InboxItemRow {
    let item = &analysed.item;
    let thread = item
        .thread_id
        .clone()
        .or_else(|| item.parent_id.clone())
        .unwrap_or_else(|| item.remote_id.clone());
    InboxItemRow {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: channel.workspace_id.to_owned(),
        channel_id: channel_id.to_owned(),
        platform: channel.platform.to_owned(),
        kind: item.kind.as_str().to_owned(),
        remote_id: item.remote_id.clone(),
        thread_remote_id: thread,
        parent_remote_id: item.parent_id.clone(),
        post_id: item.post_id.as_ref().and_then(|p| posts.get(p)).cloned(),
        post_remote_id: item.post_id.clone(),
        listening_query_id: item.listening_query_id.clone(),
        contact_id: contact.map(|c| c.id.clone()),
        author_remote_id: item.author.remote_id.clone(),
        author_handle: item.author.handle.clone(),
        author_name: item.author.display_name.clone(),
        author_followers: item.author.followers.and_then(|f| i64::try_from(f).ok()),
        body: item.text.clone(),
        url: item.url.clone(),
        lang: analysed.lang.clone(),
        sentiment_score: Some(analysed.sentiment.score),
        sentiment_label: Some(analysed.sentiment.label.as_str().to_owned()),
        status: ItemStatus::Open.as_str().to_owned(),
        priority: Priority::Normal.as_str().to_owned(),
        assignee_id: None,
        tags: "[]".to_owned(),
        source: if item.listening_query_id.is_some() {
            Source::Listening.as_str().to_owned()
        } else {
            source.as_str().to_owned()
        },
        remote_created_at: item.created_at,
        received_at: now,
        first_response_due_at: None,
        first_response_at: None,
        resolution_due_at: None,
        resolved_at: None,
        version: 1,
        updated_at: now,
    }
}

/// Applies what the rules decided to the row about to be stored, and
/// answers the decisions that changed something: a rule whose action was
/// already done by an earlier one (the tag is there, the priority is set)
/// took no action and leaves no entry in the moderation log.
fn apply(
    conn: &mut DbConn,
    workspace_id: &str,
    row: &mut InboxItemRow,
    decisions: Vec<Decision>,
) -> QueryResult<Vec<Decision>> {
    let mut tags: Vec<String> = Vec::new();
    let mut taken = Vec::with_capacity(decisions.len());
    for decision in decisions {
        let changed = match &decision.action {
            RuleAction::Tag { tag } => {
                let new = !tags.contains(tag);
                if new {
                    tags.push(tag.clone());
                }
                new
            }
            RuleAction::SetPriority { priority } => {
                replace(&mut row.priority, priority.as_str().to_owned())
            }
            RuleAction::Assign { user_id } => {
                let before = row.assignee_id.replace(user_id.to_string());
                before != row.assignee_id
            }
            RuleAction::AssignRoundRobin { user_ids } => {
                let mut pool: Vec<String> = user_ids.iter().map(ToString::to_string).collect();
                pool.sort();
                pool.dedup();
                if pool.is_empty() {
                    false
                } else {
                    let turn = next_rotation(conn, workspace_id, &pool.join(","))?;
                    let len = i64::try_from(pool.len()).unwrap_or(1);
                    let index = usize::try_from(turn.rem_euclid(len)).unwrap_or(0);
                    let before = std::mem::replace(&mut row.assignee_id, pool.get(index).cloned());
                    before != row.assignee_id
                }
            }
            RuleAction::SetStatus { status } => {
                replace(&mut row.status, status.as_str().to_owned())
            }
            _ => true,
        };
        if changed {
            taken.push(decision);
        }
    }
    if !tags.is_empty() {
        row.tags = serde_json::to_string(&tags).unwrap_or_else(|_| "[]".to_owned());
    }
    if row.status == ItemStatus::Resolved.as_str() {
        row.resolved_at = Some(row.received_at);
    }
    Ok(taken)
}

/// Sets `field` to `value`; answers whether that changed it.
fn replace(field: &mut String, value: String) -> bool {
    if *field == value {
        return false;
    }
    *field = value;
    true
}

fn rule_log_entry(row: &InboxItemRow, decision: &Decision, now: NaiveDateTime) -> ModerationLogRow {
    let action = serde_json::to_value(&decision.action).unwrap_or_default();
    let name = action
        .get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    ModerationLogRow {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: row.workspace_id.clone(),
        item_id: Some(row.id.clone()),
        contact_id: row.contact_id.clone(),
        actor_kind: "rule".to_owned(),
        actor_id: Some(decision.rule.id.to_string()),
        rule_version: i32::try_from(decision.rule.version).ok(),
        action: format!("rule.{name}"),
        detail: action.to_string(),
        reason: None,
        created_at: now,
    }
}

/// An item as events describe it.
pub fn summary(row: &InboxItemRow) -> serde_json::Value {
    let excerpt: String = row.body.chars().take(280).collect();
    json!({
        "id": row.id,
        "kind": row.kind,
        "channel_id": row.channel_id,
        "platform": row.platform,
        "status": row.status,
        "priority": row.priority,
        "assignee_id": row.assignee_id,
        "tags": serde_json::from_str::<serde_json::Value>(&row.tags).unwrap_or_default(),
        "sentiment": row.sentiment_label,
        "author": { "handle": row.author_handle, "name": row.author_name },
        "text": excerpt,
        "url": row.url,
    })
}

/// Finds or makes the contact behind every author of the batch and records
/// what the batch says about them (handle, name, audience, activity).
fn resolve_contacts(
    conn: &mut DbConn,
    channel: ChannelRef<'_>,
    batch: &[AnalysedItem],
    now: NaiveDateTime,
) -> QueryResult<HashMap<String, ContactFacts>> {
    let mut authors: HashMap<&str, (&IncomingAuthor, i64)> = HashMap::new();
    for analysed in batch {
        let author = &analysed.item.author;
        authors
            .entry(author.remote_id.as_str())
            .and_modify(|entry| entry.1 += 1)
            .or_insert((author, 1));
    }
    let remote_ids: Vec<String> = authors.keys().map(|id| (*id).to_owned()).collect();
    let known =
        IdentityRow::find_remote(conn, channel.workspace_id, channel.platform, &remote_ids)?;
    let contact_ids: Vec<String> = known.iter().map(|i| i.contact_id.clone()).collect();
    let contacts: HashMap<String, ContactRow> = ContactRow::find_many(conn, &contact_ids)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut facts = HashMap::with_capacity(authors.len());
    let mut counts: HashMap<String, i64> = HashMap::with_capacity(known.len());
    for identity in &known {
        let Some((author, count)) = authors.get(identity.remote_id.as_str()) else {
            continue;
        };
        let followers = author.followers.and_then(|f| i64::try_from(f).ok());
        if identity.handle != author.handle
            || identity.display_name != author.display_name
            || (followers.is_some() && identity.followers != followers)
        {
            IdentityRow::touch(
                conn,
                &identity.id,
                &author.handle,
                author.display_name.as_deref(),
                followers.or(identity.followers),
                now,
            )?;
        }
        let Some(contact) = contacts.get(&identity.contact_id) else {
            continue;
        };
        // Two identities of one merged contact in a batch count together.
        *counts.entry(contact.id.clone()).or_default() += count;
        if let Some(followers) = followers
            && contact.followers.is_none_or(|known| followers > known)
        {
            ContactRow::raise_followers(conn, &contact.id, followers)?;
        }
        facts.insert(
            identity.remote_id.clone(),
            ContactFacts {
                id: contact.id.clone(),
                advocate: contact.advocate,
                lists: serde_json::from_str(&contact.lists).unwrap_or_default(),
            },
        );
    }
    let counts: Vec<(String, i64)> = counts.into_iter().collect();
    ContactRow::count_interactions(conn, channel.workspace_id, &counts, now)?;

    let mut new_contacts = Vec::new();
    let mut new_identities = Vec::new();
    for (remote_id, (author, count)) in &authors {
        if facts.contains_key(*remote_id) {
            continue;
        }
        let followers = author.followers.and_then(|f| i64::try_from(f).ok());
        let contact = ContactRow {
            id: uuid::Uuid::now_v7().to_string(),
            workspace_id: channel.workspace_id.to_owned(),
            display_name: author
                .display_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| author.handle.clone()),
            notes: None,
            tags: "[]".to_owned(),
            lists: "[]".to_owned(),
            advocate: false,
            followers,
            advocacy_score: 0.0,
            interactions: *count,
            first_seen_at: now,
            last_seen_at: now,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        new_identities.push(IdentityRow {
            id: uuid::Uuid::now_v7().to_string(),
            workspace_id: channel.workspace_id.to_owned(),
            contact_id: contact.id.clone(),
            platform: channel.platform.to_owned(),
            remote_id: (*remote_id).to_owned(),
            handle: author.handle.clone(),
            display_name: author.display_name.clone(),
            followers,
            first_seen_at: now,
            last_seen_at: now,
        });
        facts.insert(
            (*remote_id).to_owned(),
            ContactFacts {
                id: contact.id.clone(),
                advocate: false,
                lists: Vec::new(),
            },
        );
        new_contacts.push(contact);
    }
    ContactRow::insert_many(conn, &new_contacts)?;
    IdentityRow::insert_many(conn, &new_identities)?;
    Ok(facts)
}

/// Plaza's posts behind the remote posts the batch answers.
fn brand_posts(
    conn: &mut DbConn,
    channel_id: &str,
    batch: &[AnalysedItem],
) -> QueryResult<HashMap<String, String>> {
    let mut remote: Vec<String> = batch
        .iter()
        .filter_map(|a| a.item.post_id.clone())
        .collect();
    remote.sort();
    remote.dedup();
    if remote.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(
        PublishTargetRow::posts_by_remote_id(conn, channel_id, &remote)?
            .into_iter()
            .collect(),
    )
}

/// Adds contacts to the lists rules named.
fn add_to_lists(
    conn: &mut DbConn,
    workspace_id: &str,
    additions: &HashMap<String, Vec<String>>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    for (contact_id, names) in additions {
        let Some(contact) = ContactRow::find(conn, workspace_id, contact_id)? else {
            continue;
        };
        let mut lists: Vec<String> = serde_json::from_str(&contact.lists).unwrap_or_default();
        let before = lists.len();
        for name in names {
            if !lists.contains(name) {
                lists.push(name.clone());
            }
        }
        if lists.len() == before {
            continue;
        }
        let changes = ContactChanges {
            lists: Some(serde_json::to_string(&lists).unwrap_or_else(|_| "[]".to_owned())),
            version: Some(contact.version + 1),
            updated_at: Some(now),
            ..ContactChanges::default()
        };
        ContactRow::update(conn, workspace_id, contact_id, &changes, None)?;
    }
    Ok(())
}

/// A workspace's inbox settings; stored JSON that no longer reads (a
/// field renamed since) falls back to the defaults rather than stopping
/// the inbox.
pub fn settings(conn: &mut DbConn, workspace_id: &str) -> QueryResult<InboxSettings> {
    let raw = crate::db::workspaces::inbox_settings(conn, workspace_id)?;
    Ok(serde_json::from_str(&raw).unwrap_or_else(|err| {
        tracing::warn!(workspace = %workspace_id, error = %err, "stored inbox settings do not read; using the defaults");
        InboxSettings::default()
    }))
}

/// Takes a batch in for a stored channel: analysis on a blocking thread,
/// then one write transaction. With a `receipt` (a platform webhook's
/// digest), the receipt is taken in that same transaction, so a delivery
/// is either stored with its items or not at all, and a replay of it
/// stores nothing.
pub async fn take_in(
    state: &crate::state::AppState,
    channel: &crate::db::channels::ChannelRow,
    source: Source,
    items: Vec<IncomingItem>,
    receipt: Option<String>,
) -> Result<IngestOutcome, crate::error::ApiError> {
    if items.is_empty() {
        return Ok(IngestOutcome::default());
    }
    let scorer = std::sync::Arc::clone(&state.inbox.scorer);
    let analysed = actix_web::web::block(move || analyse(scorer.as_ref(), items))
        .await
        .map_err(crate::error::ApiError::internal)?;
    let engine = std::sync::Arc::clone(&state.inbox);
    let (workspace_id, platform) = (channel.workspace_id.clone(), channel.plugin_id.clone());
    let id: ChannelId =
        crate::domain::ids::parse_stored(&channel.id).map_err(crate::error::ApiError::internal)?;
    state
        .db
        .write(move |conn| {
            lock_ingestion(conn, &workspace_id)?;
            let now = crate::db::now();
            if let Some(digest) = &receipt
                && !crate::db::inbox::take_webhook_receipt(conn, &id.to_string(), digest, now)?
            {
                return Ok(IngestOutcome {
                    received: analysed.len(),
                    duplicates: analysed.len(),
                    replayed: true,
                    ..IngestOutcome::default()
                });
            }
            let settings = settings(conn, &workspace_id)?;
            let rules = engine.rules(conn, &workspace_id)?;
            let channel = ChannelRef {
                workspace_id: &workspace_id,
                id,
                platform: &platform,
            };
            store(conn, channel, &settings, &rules, source, analysed, now)
                .map_err(crate::error::ApiError::from)
        })
        .await
}
