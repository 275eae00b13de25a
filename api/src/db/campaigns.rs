//! Campaigns of a workspace.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::campaigns;
use crate::domain::campaigns::{CampaignDraft, CampaignPlan, CampaignStatus, UtmDraft};

/// A campaign as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace it belongs to.
    pub workspace_id: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub objective: Option<String>,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (inclusive).
    pub ends_on: NaiveDate,
    /// Budget in the currency's minor unit; set together with the currency.
    pub budget_amount_minor: Option<i64>,
    /// ISO 4217 code of the budget.
    pub budget_currency: Option<String>,
    /// Default `utm_source`.
    pub utm_source: Option<String>,
    /// Default `utm_medium`.
    pub utm_medium: Option<String>,
    /// Default `utm_campaign`.
    pub utm_campaign: String,
    /// Default `utm_term`.
    pub utm_term: Option<String>,
    /// Default `utm_content`.
    pub utm_content: Option<String>,
    /// When it was archived, if it is.
    pub archived_at: Option<NaiveDateTime>,
    /// Bumped on every change; the `ETag`.
    pub version: i64,
    /// The member who made it.
    pub created_by: String,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// Everything about a campaign a member can change.
#[derive(Debug, Clone, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = campaigns, treat_none_as_null = true)]
pub struct CampaignChanges {
    /// Display name.
    pub name: String,
    /// What it is for.
    pub objective: Option<String>,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day.
    pub ends_on: NaiveDate,
    /// Budget amount.
    pub budget_amount_minor: Option<i64>,
    /// Budget currency.
    pub budget_currency: Option<String>,
    /// Default `utm_source`.
    pub utm_source: Option<String>,
    /// Default `utm_medium`.
    pub utm_medium: Option<String>,
    /// Default `utm_campaign`.
    pub utm_campaign: String,
    /// Default `utm_term`.
    pub utm_term: Option<String>,
    /// Default `utm_content`.
    pub utm_content: Option<String>,
    /// When it was archived, if it is.
    pub archived_at: Option<NaiveDateTime>,
}

impl CampaignChanges {
    /// The stored form of a checked campaign.
    pub fn from_plan(plan: CampaignPlan, archived_at: Option<NaiveDateTime>) -> Self {
        let (budget_amount_minor, budget_currency) = match plan.budget {
            Some(money) => (Some(money.amount_minor), Some(money.currency)),
            None => (None, None),
        };
        Self {
            name: plan.name.into_string(),
            objective: plan.objective,
            starts_on: plan.starts_on,
            ends_on: plan.ends_on,
            budget_amount_minor,
            budget_currency,
            utm_source: plan.utm.source,
            utm_medium: plan.utm.medium,
            utm_campaign: plan.utm.campaign,
            utm_term: plan.utm.term,
            utm_content: plan.utm.content,
            archived_at,
        }
    }
}

/// What a campaign list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    /// Only campaigns running on this day.
    pub active_on: Option<NaiveDate>,
    /// Only campaigns in this status, as of `today`.
    pub status: Option<CampaignStatus>,
    /// The day statuses are computed for.
    pub today: NaiveDate,
}

impl CampaignRow {
    /// A new campaign at version 1.
    pub fn new(
        id: String,
        workspace_id: String,
        created_by: String,
        fields: CampaignChanges,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id,
            workspace_id,
            name: fields.name,
            objective: fields.objective,
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            budget_amount_minor: fields.budget_amount_minor,
            budget_currency: fields.budget_currency,
            utm_source: fields.utm_source,
            utm_medium: fields.utm_medium,
            utm_campaign: fields.utm_campaign,
            utm_term: fields.utm_term,
            utm_content: fields.utm_content,
            archived_at: fields.archived_at,
            version: 1,
            created_by,
            created_at: now,
            updated_at: now,
        }
    }

    /// The campaign's current values, as a draft a change is applied to.
    pub fn draft(&self) -> CampaignDraft {
        CampaignDraft {
            name: self.name.clone(),
            objective: self.objective.clone(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            budget: self.budget_amount_minor.zip(self.budget_currency.clone()),
            utm: UtmDraft {
                source: self.utm_source.clone(),
                medium: self.utm_medium.clone(),
                campaign: Some(self.utm_campaign.clone()),
                term: self.utm_term.clone(),
                content: self.utm_content.clone(),
            },
        }
    }

    /// The campaign's changeable fields as they are now.
    pub fn changes(&self) -> CampaignChanges {
        CampaignChanges {
            name: self.name.clone(),
            objective: self.objective.clone(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            budget_amount_minor: self.budget_amount_minor,
            budget_currency: self.budget_currency.clone(),
            utm_source: self.utm_source.clone(),
            utm_medium: self.utm_medium.clone(),
            utm_campaign: self.utm_campaign.clone(),
            utm_term: self.utm_term.clone(),
            utm_content: self.utm_content.clone(),
            archived_at: self.archived_at,
        }
    }

    /// The key lists are sorted and paged by: start day, then id.
    pub fn cursor_key(&self) -> String {
        format!("{}_{}", self.starts_on, self.id)
    }

    /// Reads a key made by [`Self::cursor_key`].
    pub fn parse_cursor_key(key: &str) -> Option<(NaiveDate, String)> {
        let (day, id) = key.split_once('_')?;
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
        Some((day, id.to_owned()))
    }

    /// Inserts a new campaign.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(campaigns::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A campaign by id within a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        campaigns::table
            .filter(campaigns::workspace_id.eq(workspace_id))
            .filter(campaigns::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A page of a workspace's campaigns, by start day then id, after `after`.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        filter: &CampaignFilter,
        after: Option<(NaiveDate, String)>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = campaigns::table
            .filter(campaigns::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .order((campaigns::starts_on.asc(), campaigns::id.asc()))
            .limit(limit)
            .into_boxed();
        if let Some(day) = filter.active_on {
            query = query
                .filter(campaigns::starts_on.le(day))
                .filter(campaigns::ends_on.ge(day));
        }
        let today = filter.today;
        query = match filter.status {
            None => query,
            Some(CampaignStatus::Archived) => query.filter(campaigns::archived_at.is_not_null()),
            Some(CampaignStatus::Planned) => query
                .filter(campaigns::archived_at.is_null())
                .filter(campaigns::starts_on.gt(today)),
            Some(CampaignStatus::Active) => query
                .filter(campaigns::archived_at.is_null())
                .filter(campaigns::starts_on.le(today))
                .filter(campaigns::ends_on.ge(today)),
            Some(CampaignStatus::Completed) => query
                .filter(campaigns::archived_at.is_null())
                .filter(campaigns::ends_on.lt(today)),
        };
        if let Some((day, id)) = after {
            query = query.filter(
                campaigns::starts_on
                    .gt(day)
                    .or(campaigns::starts_on.eq(day).and(campaigns::id.gt(id))),
            );
        }
        query.load(conn)
    }

    /// Writes `changes` if the campaign is still at version `expected`.
    /// Returns the updated row, or `None` when the version moved on.
    pub fn update(
        conn: &mut DbConn,
        id: &str,
        expected: i64,
        changes: &CampaignChanges,
    ) -> QueryResult<Option<Self>> {
        let updated = diesel::update(
            campaigns::table
                .filter(campaigns::id.eq(id))
                .filter(campaigns::version.eq(expected)),
        )
        .set((
            changes,
            campaigns::version.eq(campaigns::version + 1),
            campaigns::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Ok(None);
        }
        campaigns::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Deletes a campaign; its events stay, no longer part of a campaign,
    /// and its posts' metrics count under "no campaign" from now on.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<usize> {
        crate::db::metrics::groups::forget_campaign(conn, workspace_id, id)?;
        diesel::delete(
            campaigns::table
                .filter(campaigns::workspace_id.eq(workspace_id))
                .filter(campaigns::id.eq(id)),
        )
        .execute(conn)
    }
}
