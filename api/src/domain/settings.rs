//! Workspace settings the content model depends on: the calendar's time
//! zone and who needs approval.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::roles::Role;

/// An IANA time zone name, checked against the tz database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(Tz);

impl TimeZone {
    /// Parses `Europe/Madrid`, `UTC`...
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        raw.trim()
            .parse::<Tz>()
            .map(Self)
            .map_err(|_| "must be an IANA time zone name such as Europe/Madrid")
    }

    /// The zone.
    pub fn tz(self) -> Tz {
        self.0
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

/// Who needs someone else's approval before a post can be scheduled, and
/// how many approvals it takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"roles": ["community_manager"], "approvals_required": 1}))]
pub struct ApprovalPolicy {
    /// Roles whose posts go through review. By default community managers.
    pub roles: Vec<Role>,
    /// Distinct approvers needed (1–5). Nobody approves their own post.
    pub approvals_required: u32,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self {
            roles: vec![Role::CommunityManager],
            approvals_required: 1,
        }
    }
}

impl ApprovalPolicy {
    /// Most approvals a workspace may require.
    pub const MAX_APPROVALS: u32 = 5;

    /// Checks a policy from a request.
    pub fn check(&self) -> Result<(), &'static str> {
        if !(1..=Self::MAX_APPROVALS).contains(&self.approvals_required) {
            return Err("must be between 1 and 5");
        }
        Ok(())
    }

    /// Whether a post submitted by someone in `role` needs approval.
    pub fn needs_approval(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_checked_against_the_database() {
        assert_eq!(
            TimeZone::parse("Europe/Madrid").unwrap().name(),
            "Europe/Madrid"
        );
        assert_eq!(TimeZone::parse(" UTC ").unwrap().name(), "UTC");
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        assert!(TimeZone::parse("").is_err());
    }

    #[test]
    fn community_managers_need_approval_by_default() {
        let policy = ApprovalPolicy::default();
        assert!(policy.needs_approval(Role::CommunityManager));
        assert!(!policy.needs_approval(Role::Strategist));
        assert!(!policy.needs_approval(Role::Owner));
        assert!(policy.check().is_ok());
        let none = ApprovalPolicy {
            roles: vec![],
            approvals_required: 0,
        };
        assert!(none.check().is_err());
    }
}
