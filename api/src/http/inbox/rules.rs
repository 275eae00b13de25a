//! Inbox rules: ordered, versioned conditions and actions a workspace runs
//! on every new item, and a dry run that tries a rule before it is saved.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::inbox::InboxItemRow;
use crate::db::inbox_rules::{RuleRow, RuleVersionRow, SavedReplyRow};
use crate::db::memberships::MembershipRow;
use crate::db::{self, DbConn};
use crate::domain::ids::{ChannelId, RuleId, WorkspaceId, parse_stored};
use crate::domain::inbox::{ItemKind, parse_label};
use crate::domain::roles::Permission;
use crate::domain::rules::{CompiledRules, ItemFacts, RuleAction, RuleDefinition, RuleRef};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{IfMatch, Json, etag};
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;

/// Most rules a workspace may have.
const MAX_RULES: usize = 500;
/// Most recent items a dry run looks at.
const MAX_DRY_RUN_ITEMS: u32 = 5_000;

/// A rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxRule {
    /// Rule id.
    pub id: RuleId,
    /// What the team calls it.
    pub name: String,
    /// Evaluation order, from 0: lower runs first.
    pub position: i32,
    /// Whether it runs on new items.
    pub enabled: bool,
    /// Starts at 1; every change adds one (the log names the version that acted).
    pub version: i32,
    /// Conditions and actions.
    pub definition: RuleDefinition,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl InboxRule {
    fn from_row(row: RuleRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            definition: serde_json::from_str(&row.definition).map_err(ApiError::internal)?,
            name: row.name,
            position: row.position,
            enabled: row.enabled,
            version: row.version,
            created_by: row.created_by,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// A past version of a rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxRuleVersion {
    /// The version.
    pub version: i32,
    /// Its name then.
    pub name: String,
    /// Whether it ran then.
    pub enabled: bool,
    /// Its definition then.
    pub definition: RuleDefinition,
    /// Who made this version.
    pub changed_by: String,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// A new rule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Complaints go to the care team",
    "definition": {
        "when": {"type": "all", "conditions": [
            {"type": "contains_words", "words": ["mal servicio", "refund", "reembolso"]},
            {"type": "sentiment_below", "score": -0.3}
        ]},
        "actions": [
            {"type": "tag", "tag": "complaint"},
            {"type": "set_priority", "priority": "high"}
        ]
    }
}))]
pub struct CreateInboxRule {
    /// 1–100 characters.
    pub name: String,
    /// Runs on new items unless `false`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where it runs among the others (0 = first); last when absent.
    pub position: Option<u32>,
    /// Conditions and actions.
    pub definition: RuleDefinition,
}

fn yes() -> bool {
    true
}

/// Changes to a rule; absent fields stay. Every change makes a new version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": false}))]
pub struct UpdateInboxRule {
    /// New name.
    pub name: Option<String>,
    /// Run it or not.
    pub enabled: Option<bool>,
    /// New place in the order (0 = first).
    pub position: Option<u32>,
    /// New conditions and actions.
    pub definition: Option<RuleDefinition>,
}

/// A JSON pointer (`/when/conditions/2/pattern`) as a field path
/// (`definition.when.conditions[2].pattern`).
fn field_path(pointer: &str) -> String {
    let mut path = "definition".to_owned();
    for segment in pointer.split('/').filter(|s| !s.is_empty()) {
        if segment.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else {
            path.push('.');
            path.push_str(segment);
        }
    }
    path
}

fn check_name(name: &str, errors: &mut Vec<FieldError>) {
    let chars = name.trim().chars().count();
    if chars == 0 || chars > 100 {
        errors.push(FieldError::new("name", "must be 1 to 100 characters"));
    }
}

/// Checks a definition, and what it names in the workspace (members, saved
/// replies, tag and list names).
fn check_definition(
    conn: &mut DbConn,
    workspace_id: &str,
    definition: &RuleDefinition,
) -> ApiResult<()> {
    let mut errors: Vec<FieldError> = match definition.validate() {
        Ok(()) => Vec::new(),
        Err(violations) => violations
            .into_iter()
            .map(|v| FieldError::new(field_path(&v.pointer), v.message))
            .collect(),
    };
    for (i, action) in definition.actions.iter().enumerate() {
        let field = format!("definition.actions[{i}]");
        match action {
            RuleAction::Tag { tag: label } | RuleAction::AddAuthorToList { list: label } => {
                if let Err(m) = parse_label(label) {
                    errors.push(FieldError::new(field, m));
                } else if parse_label(label).ok().as_deref() != Some(label.as_str()) {
                    errors.push(FieldError::new(
                        field,
                        "must be lower case, without spaces around it",
                    ));
                }
            }
            RuleAction::Assign { user_id } => {
                let member = MembershipRow::find(conn, workspace_id, &user_id.to_string())?;
                if member.is_none() {
                    errors.push(FieldError::new(field, "names someone who is not a member"));
                }
            }
            RuleAction::AssignRoundRobin { user_ids } => {
                for user in user_ids {
                    if MembershipRow::find(conn, workspace_id, &user.to_string())?.is_none() {
                        errors.push(FieldError::new(
                            field.clone(),
                            format!("{user} is not a member"),
                        ));
                    }
                }
            }
            RuleAction::AutoReply { saved_reply_id } => {
                let saved = SavedReplyRow::find(conn, workspace_id, &saved_reply_id.to_string())?;
                if saved.is_none() {
                    errors.push(FieldError::new(
                        field,
                        "names a saved reply the workspace does not have",
                    ));
                }
            }
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Puts `rule_id` at `position` and renumbers the workspace's rules 0, 1, 2…
fn reorder(
    conn: &mut DbConn,
    workspace_id: &str,
    rule_id: &str,
    position: Option<u32>,
) -> ApiResult<()> {
    let mut rules = RuleRow::all(conn, workspace_id)?;
    let Some(index) = rules.iter().position(|r| r.id == rule_id) else {
        return Ok(());
    };
    let moved = rules.remove(index);
    let at = position.map_or(rules.len(), |p| {
        usize::try_from(p).unwrap_or(usize::MAX).min(rules.len())
    });
    rules.insert(at, moved);
    for (i, rule) in rules.iter().enumerate() {
        let position = i32::try_from(i).unwrap_or(i32::MAX);
        if rule.position != position {
            db::inbox_rules::set_rule_position(conn, &rule.id, position)?;
        }
    }
    Ok(())
}

fn load(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<RuleRow> {
    RuleRow::find(conn, workspace_id, id)?.ok_or(ApiError::NotFound("rule"))
}

fn with_etag(row: RuleRow, created: bool) -> ApiResult<HttpResponse> {
    let tag = etag(i64::from(row.version));
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    if created {
        response.insert_header((
            header::LOCATION,
            format!("/v1/workspaces/{}/inbox/rules/{}", row.workspace_id, row.id),
        ));
    }
    Ok(response
        .insert_header((header::ETAG, tag))
        .json(InboxRule::from_row(row)?))
}

/// Add a rule. It runs on items that arrive from now on.
#[utoipa::path(
    tag = "inbox-rules",
    operation_id = "create_inbox_rule",
    request_body = CreateInboxRule,
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 201, description = "Added", body = InboxRule,
         headers(("Location" = String, description = "The rule"), ("ETag" = String, description = "Its version"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/inbox/rules")]
pub async fn create_inbox_rule(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    body: Json<CreateInboxRule>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::RulesManage)
        .await?;
    let body = body.0;
    let mut errors = Vec::new();
    check_name(&body.name, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let definition = serde_json::to_string(&body.definition).map_err(ApiError::internal)?;
    let (ws, user) = (access.workspace_id.to_string(), access.user_id.to_string());
    let row = state
        .db
        .write(move |conn| {
            check_definition(conn, &ws, &body.definition)?;
            let existing = RuleRow::all(conn, &ws)?;
            if existing.len() >= MAX_RULES {
                return Err(ApiError::conflict(
                    "too_many_rules",
                    format!("a workspace has at most {MAX_RULES} rules"),
                ));
            }
            let now = db::now();
            let row = RuleRow {
                id: RuleId::new().to_string(),
                workspace_id: ws.clone(),
                name: body.name.trim().to_owned(),
                position: i32::try_from(existing.len()).unwrap_or(i32::MAX),
                enabled: body.enabled,
                version: 1,
                definition,
                created_by: user,
                created_at: now,
                updated_at: now,
            };
            row.insert(conn)?;
            reorder(conn, &ws, &row.id, body.position)?;
            load(conn, &ws, &row.id)
        })
        .await?;
    with_etag(row, true)
}

/// The workspace's rules in evaluation order.
#[utoipa::path(
    tag = "inbox-rules",
    operation_id = "list_inbox_rules",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "Every rule, first to run first", body = Vec<InboxRule>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/inbox/rules")]
pub async fn list_inbox_rules(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
) -> ApiResult<web::Json<Vec<InboxRule>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::InboxRead)
        .await?;
    let ws = access.workspace_id.to_string();
    let rows = state
        .db
        .read(move |conn| RuleRow::all(conn, &ws).map_err(ApiError::from))
        .await?;
    rows.into_iter()
        .map(InboxRule::from_row)
        .collect::<ApiResult<Vec<_>>>()
        .map(web::Json)
}

/// One rule.
#[utoipa::path(
    tag = "inbox-rules",
    operation_id = "get_inbox_rule",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("rule_id" = RuleId, Path, description = "Rule id"),
    ),
    responses(
        (status = 200, description = "The rule", body = InboxRule,
         headers(("ETag" = String, description = "Its version, for If-Match"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/inbox/rules/{rule_id}")]
pub async fn get_inbox_rule(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, RuleId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, rule_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), rule_id.to_string());
    let row = state.db.read(move |conn| load(conn, &ws, &id)).await?;
    with_etag(row, false)
}

/// Change a rule: name, order, enabled, definition. The old version is
/// kept; items already in the inbox are not re-evaluated.
#[utoipa::path(
    tag = "inbox-rules",
    operation_id = "update_inbox_rule",
    request_body = UpdateInboxRule,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("rule_id" = RuleId, Path, description = "Rule id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update fails with 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "The rule as it now is", body = InboxRule,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/inbox/rules/{rule_id}")]
pub async fn update_inbox_rule(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, RuleId)>,
    if_match: IfMatch,
    body: Json<UpdateInboxRule>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, rule_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::RulesManage)
        .await?;
    let body = body.0;
    let mut errors = Vec::new();
    if let Some(name) = &body.name {
        check_name(name, &mut errors);
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (ws, id, user) = (
        access.workspace_id.to_string(),
        rule_id.to_string(),
        access.user_id.to_string(),
    );
    let row = state
        .db
        .write(move |conn| {
            let mut rule = load(conn, &ws, &id)?;
            if !if_match.allows(&etag(i64::from(rule.version))) {
                return Err(ApiError::PreconditionFailed);
            }
            if let Some(definition) = &body.definition {
                check_definition(conn, &ws, definition)?;
                rule.definition = serde_json::to_string(definition).map_err(ApiError::internal)?;
            }
            if let Some(name) = body.name {
                rule.name = name.trim().to_owned();
            }
            if let Some(enabled) = body.enabled {
                rule.enabled = enabled;
            }
            rule.version += 1;
            rule.updated_at = db::now();
            rule.save(conn, &user)?;
            if body.position.is_some() {
                reorder(conn, &ws, &id, body.position)?;
            }
            load(conn, &ws, &id)
        })
        .await?;
    with_etag(row, false)
}

/// Remove a rule and its history. The moderation log keeps what it did.
#[utoipa::path(
    tag = "inbox-rules",
    operation_id = "delete_inbox_rule",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("rule_id" = RuleId, Path, description = "Rule id"),
    ),
    responses((status = 204, description = "Removed"), ActionProblems)
)]
#[delete("/workspaces/{workspace_id}/inbox/rules/{rule_id}")]
pub async fn delete_inbox_rule(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, RuleId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, rule_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::RulesManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), rule_id.to_string());
    state
        .db
        .write(move |conn| {
            if !RuleRow::delete(conn, &ws, &id)? {
                return Err(ApiError::NotFound("rule"));
            }
            let first = RuleRow::all(conn, &ws)?.first().map(|r| r.id.clone());
            if let Some(first) = first {
                reorder(conn, &ws, &first, Some(0))?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every version of a rule, newest first.
#[utoipa::path(
    tag = "inbox-rules",
    operation_id = "list_inbox_rule_versions",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("rule_id" = RuleId, Path, description = "Rule id"),
    ),
    responses(
        (status = 200, description = "The versions, newest first", body = Vec<InboxRuleVersion>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/inbox/rules/{rule_id}/versions")]
pub async fn list_inbox_rule_versions(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, RuleId)>,
) -> ApiResult<web::Json<Vec<InboxRuleVersion>>> {
    let (workspace_id, rule_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), rule_id.to_string());
    let rows = state
        .db
        .read(move |conn| {
            let rule = load(conn, &ws, &id)?;
            Ok::<_, ApiError>(RuleVersionRow::of_rule(conn, &rule.id)?)
        })
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(InboxRuleVersion {
                definition: serde_json::from_str(&row.definition).map_err(ApiError::internal)?,
                version: row.version,
                name: row.name,
                enabled: row.enabled,
                changed_by: row.changed_by,
                changed_at: utc(row.changed_at),
            })
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(web::Json)
}

/// A rule to try, on a text and on the workspace's latest items.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "definition": {"when": {"type": "contains_words", "words": ["refund"]}, "actions": [{"type": "tag", "tag": "refund"}]},
    "text": "I want a REFUND now",
    "last": 1000
}))]
pub struct DryRunInboxRule {
    /// The rule's conditions and actions.
    pub definition: RuleDefinition,
    /// A text to try it on, as a mention with the fields below.
    pub text: Option<String>,
    /// The kind the text is taken as (default `mention`).
    pub kind: Option<ItemKind>,
    /// The text's language (default: detected).
    pub language: Option<String>,
    /// The platform the text is taken from (default `test`).
    pub platform: Option<String>,
    /// The author's followers.
    pub author_followers: Option<u64>,
    /// Also try it on the workspace's last N items (1–5,000).
    pub last: Option<u32>,
}

/// How a dry run went on the given text.
#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunText {
    /// Whether the rule matched.
    pub matched: bool,
    /// What it would have done.
    pub actions: Vec<RuleAction>,
    /// The sentiment score the text was given.
    pub sentiment: f64,
    /// The language it was taken as.
    pub language: Option<String>,
}

/// How a dry run went on the latest items.
#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunHistory {
    /// Items looked at.
    pub examined: usize,
    /// Items it would have matched.
    pub matched: usize,
    /// The first 100 of them, newest first.
    pub item_ids: Vec<String>,
}

/// What a dry run found.
#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunOutcome {
    /// On the text, when one was given.
    pub text: Option<DryRunText>,
    /// On the latest items, when `last` was given: "would have matched 37 of
    /// the last 1,000".
    pub history: Option<DryRunHistory>,
}

/// Try a rule without saving it: on a text, and on the workspace's latest
/// items (their stored sentiment and language; authors' lists and advocacy
/// as they are now are not looked up, so those conditions count as false).
#[utoipa::path(
    tag = "inbox-rules",
    operation_id = "dry_run_inbox_rule",
    request_body = DryRunInboxRule,
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "What the rule would have done", body = DryRunOutcome),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/inbox/rule-dry-runs")]
pub async fn dry_run_inbox_rule(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    body: Json<DryRunInboxRule>,
) -> ApiResult<web::Json<DryRunOutcome>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::InboxRead)
        .await?;
    let body = body.0;
    if let Err(violations) = body.definition.validate() {
        return Err(ApiError::Validation(
            violations
                .into_iter()
                .map(|v| FieldError::new(field_path(&v.pointer), v.message))
                .collect(),
        ));
    }
    if body.last.is_some_and(|n| n == 0 || n > MAX_DRY_RUN_ITEMS) {
        return Err(ApiError::invalid_field("last", "must be 1 to 5000"));
    }
    if body
        .text
        .as_ref()
        .is_some_and(|t| t.chars().count() > 20_000)
    {
        return Err(ApiError::invalid_field(
            "text",
            "must be at most 20000 characters",
        ));
    }
    let reference = RuleRef {
        id: uuid::Uuid::nil(),
        version: 0,
    };
    let compiled = CompiledRules::compile(&[(reference, body.definition.clone())])
        .map_err(|err| ApiError::invalid_field("definition", err.to_string()))?;
    let scorer = std::sync::Arc::clone(&state.inbox.scorer);
    let channel = ChannelId::new();
    let text = body.text.as_ref().map(|text| {
        let language = body
            .language
            .clone()
            .or_else(|| crate::domain::language::detect_language(text).map(str::to_owned));
        let sentiment = scorer.score(text, language.as_deref());
        let evaluation = compiled.evaluate(&ItemFacts {
            text,
            kind: body.kind.unwrap_or(ItemKind::Mention),
            channel_id: channel,
            platform: body.platform.as_deref().unwrap_or("test"),
            language: language.as_deref(),
            sentiment: Some(sentiment.score),
            author_followers: body.author_followers,
            author_is_advocate: false,
            author_lists: &[],
        });
        DryRunText {
            matched: !evaluation.matched.is_empty(),
            actions: evaluation.decisions.into_iter().map(|d| d.action).collect(),
            sentiment: sentiment.score,
            language,
        }
    });
    let history = match body.last {
        None => None,
        Some(last) => {
            let ws = access.workspace_id.to_string();
            let rows = state
                .db
                .read(move |conn| {
                    InboxItemRow::latest(conn, &ws, i64::from(last)).map_err(ApiError::from)
                })
                .await?;
            let mut matched = Vec::new();
            for row in &rows {
                let Ok(channel_id) = parse_stored::<ChannelId>(&row.channel_id) else {
                    continue;
                };
                let evaluation = compiled.evaluate(&ItemFacts {
                    text: &row.body,
                    kind: ItemKind::parse(&row.kind).unwrap_or(ItemKind::Mention),
                    channel_id,
                    platform: &row.platform,
                    language: row.lang.as_deref(),
                    sentiment: row.sentiment_score,
                    author_followers: row.author_followers.and_then(|f| u64::try_from(f).ok()),
                    author_is_advocate: false,
                    author_lists: &[],
                });
                if !evaluation.matched.is_empty() {
                    matched.push(row.id.clone());
                }
            }
            Some(DryRunHistory {
                examined: rows.len(),
                matched: matched.len(),
                item_ids: matched.into_iter().take(100).collect(),
            })
        }
    };
    Ok(web::Json(DryRunOutcome { text, history }))
}
