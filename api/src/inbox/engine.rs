//! What ingestion shares across calls: the sentiment scorer and each
//! workspace's compiled rules, rebuilt when a rule changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use diesel::QueryResult;

use crate::db::DbConn;
use crate::db::inbox_rules::RuleRow;
use crate::domain::rules::{CompiledRules, RuleDefinition, RuleRef};
use crate::domain::sentiment::{LexiconScorer, SentimentScorer};

type Stamp = (i64, i64);

/// The inbox's shared parts. Cheap to share (`Arc`).
pub struct InboxEngine {
    /// Scores sentiment; a lexicon scorer unless replaced.
    pub scorer: Arc<dyn SentimentScorer>,
    compiled: Mutex<HashMap<String, (Stamp, Arc<CompiledRules>)>>,
}

impl std::fmt::Debug for InboxEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxEngine").finish_non_exhaustive()
    }
}

impl Default for InboxEngine {
    fn default() -> Self {
        Self::new(Arc::new(LexiconScorer::new()))
    }
}

impl InboxEngine {
    /// An engine scoring with `scorer`.
    pub fn new(scorer: Arc<dyn SentimentScorer>) -> Self {
        Self {
            scorer,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The workspace's enabled rules, compiled; recompiled only when the
    /// rules changed since (any replica may have changed them, so the stamp
    /// is read from the database every time: one small query).
    pub fn rules(&self, conn: &mut DbConn, workspace_id: &str) -> QueryResult<Arc<CompiledRules>> {
        let stamp = RuleRow::stamp(conn, workspace_id)?;
        if let Ok(cache) = self.compiled.lock()
            && let Some((cached, rules)) = cache.get(workspace_id)
            && *cached == stamp
        {
            return Ok(Arc::clone(rules));
        }
        let rows = RuleRow::all(conn, workspace_id)?;
        let rules = Arc::new(compile(&rows));
        if let Ok(mut cache) = self.compiled.lock() {
            cache.insert(workspace_id.to_owned(), (stamp, Arc::clone(&rules)));
        }
        Ok(rules)
    }
}

/// Compiles the enabled rules among `rows`. A stored rule was valid when it
/// was saved; one that no longer compiles (a limit lowered since) is left
/// out and logged rather than stopping the inbox.
pub fn compile(rows: &[RuleRow]) -> CompiledRules {
    let mut rules: Vec<(RuleRef, RuleDefinition)> = Vec::new();
    for row in rows.iter().filter(|row| row.enabled) {
        let Some(reference) = reference(row) else {
            continue;
        };
        match serde_json::from_str::<RuleDefinition>(&row.definition) {
            Ok(definition) => rules.push((reference, definition)),
            Err(err) => {
                tracing::error!(rule = %row.id, error = %err, "stored rule does not parse; skipped");
            }
        }
    }
    match CompiledRules::compile(&rules) {
        Ok(compiled) => compiled,
        Err(err) => {
            tracing::error!(error = %err, "the workspace's rules do not compile; none run");
            CompiledRules::empty()
        }
    }
}

/// The engine's reference to a stored rule.
pub fn reference(row: &RuleRow) -> Option<RuleRef> {
    Some(RuleRef {
        id: uuid::Uuid::try_parse(&row.id).ok()?,
        version: u32::try_from(row.version).ok()?,
    })
}
