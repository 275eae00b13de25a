//! Workspace roles and the one table that says what each role may do.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A member's role in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the workspace: members, settings, everything else.
    Owner,
    /// The Social Media Manager: strategy, objectives, approvals.
    Strategist,
    /// Writes and schedules content, answers the community.
    CommunityManager,
    /// Works the inbox: triage, replies, moderation.
    Moderator,
    /// Reads numbers and reports.
    Analyst,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Strategist,
        Role::CommunityManager,
        Role::Moderator,
        Role::Analyst,
    ];

    /// The name stored in the database and used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Strategist => "strategist",
            Role::CommunityManager => "community_manager",
            Role::Moderator => "moderator",
            Role::Analyst => "analyst",
        }
    }

    /// Reads a stored role name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == raw)
    }

    /// Whether this role may do `permission`. This is the permission table.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Owner => true,
            Role::Strategist => !matches!(
                permission,
                P::WorkspaceDelete | P::MembersManage | P::PluginsManage
            ),
            Role::CommunityManager => matches!(
                permission,
                P::WorkspaceRead
                    | P::MembersRead
                    | P::ChannelsRead
                    | P::ChannelsManage
                    | P::PostsRead
                    | P::PostsWrite
                    | P::PostsSchedule
                    | P::MediaWrite
                    | P::CampaignsManage
                    | P::InboxRead
                    | P::InboxReply
                    | P::InboxModerate
                    | P::InboxAssign
                    | P::ContactsManage
                    | P::SavedRepliesManage
                    | P::MetricsRead
                    | P::ReportsExport
            ),
            Role::Moderator => matches!(
                permission,
                P::WorkspaceRead
                    | P::MembersRead
                    | P::ChannelsRead
                    | P::PostsRead
                    | P::InboxRead
                    | P::InboxReply
                    | P::InboxModerate
                    | P::InboxAssign
                    | P::ContactsManage
                    | P::MetricsRead
            ),
            Role::Analyst => matches!(
                permission,
                P::WorkspaceRead
                    | P::MembersRead
                    | P::ChannelsRead
                    | P::PostsRead
                    | P::InboxRead
                    | P::MetricsRead
                    | P::ReportsExport
                    | P::AuditRead
            ),
        }
    }

    /// Every permission this role holds.
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.allows(*p))
            .collect()
    }
}

/// Something a member (or an API token) may be allowed to do in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Permission {
    /// See the workspace itself.
    #[serde(rename = "workspace:read")]
    WorkspaceRead,
    /// Rename and configure the workspace.
    #[serde(rename = "workspace:update")]
    WorkspaceUpdate,
    /// Delete the workspace and everything in it.
    #[serde(rename = "workspace:delete")]
    WorkspaceDelete,
    /// List members and their roles.
    #[serde(rename = "members:read")]
    MembersRead,
    /// Invite people (as any role but owner).
    #[serde(rename = "members:invite")]
    MembersInvite,
    /// Change roles, remove members, invite owners.
    #[serde(rename = "members:manage")]
    MembersManage,
    /// Create and revoke API tokens.
    #[serde(rename = "api_tokens:manage")]
    ApiTokensManage,
    /// Enable plugins for the workspace.
    #[serde(rename = "plugins:manage")]
    PluginsManage,
    /// See connected channels.
    #[serde(rename = "channels:read")]
    ChannelsRead,
    /// Connect, reconnect and pause channels.
    #[serde(rename = "channels:manage")]
    ChannelsManage,
    /// Read posts, the calendar and the queue.
    #[serde(rename = "posts:read")]
    PostsRead,
    /// Draft and edit posts.
    #[serde(rename = "posts:write")]
    PostsWrite,
    /// Approve or reject submitted posts.
    #[serde(rename = "posts:approve")]
    PostsApprove,
    /// Schedule approved posts and publish them.
    #[serde(rename = "posts:schedule")]
    PostsSchedule,
    /// Upload to the media library.
    #[serde(rename = "media:write")]
    MediaWrite,
    /// Run campaigns and events.
    #[serde(rename = "campaigns:manage")]
    CampaignsManage,
    /// Read the inbox.
    #[serde(rename = "inbox:read")]
    InboxRead,
    /// Answer people from the inbox.
    #[serde(rename = "inbox:reply")]
    InboxReply,
    /// Hide, delete, block, mark as spam.
    #[serde(rename = "inbox:moderate")]
    InboxModerate,
    /// Assign inbox items to people and teams.
    #[serde(rename = "inbox:assign")]
    InboxAssign,
    /// Edit contacts and advocates.
    #[serde(rename = "contacts:manage")]
    ContactsManage,
    /// Edit saved replies.
    #[serde(rename = "saved_replies:manage")]
    SavedRepliesManage,
    /// Edit moderation rules and listening queries.
    #[serde(rename = "rules:manage")]
    RulesManage,
    /// Read metrics and reports.
    #[serde(rename = "metrics:read")]
    MetricsRead,
    /// Set objectives and KPIs.
    #[serde(rename = "objectives:manage")]
    ObjectivesManage,
    /// Export reports as CSV and charts.
    #[serde(rename = "reports:export")]
    ReportsExport,
    /// Configure outgoing webhooks.
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    /// Read the audit log.
    #[serde(rename = "audit:read")]
    AuditRead,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 28] = [
        Permission::WorkspaceRead,
        Permission::WorkspaceUpdate,
        Permission::WorkspaceDelete,
        Permission::MembersRead,
        Permission::MembersInvite,
        Permission::MembersManage,
        Permission::ApiTokensManage,
        Permission::PluginsManage,
        Permission::ChannelsRead,
        Permission::ChannelsManage,
        Permission::PostsRead,
        Permission::PostsWrite,
        Permission::PostsApprove,
        Permission::PostsSchedule,
        Permission::MediaWrite,
        Permission::CampaignsManage,
        Permission::InboxRead,
        Permission::InboxReply,
        Permission::InboxModerate,
        Permission::InboxAssign,
        Permission::ContactsManage,
        Permission::SavedRepliesManage,
        Permission::RulesManage,
        Permission::MetricsRead,
        Permission::ObjectivesManage,
        Permission::ReportsExport,
        Permission::WebhooksManage,
        Permission::AuditRead,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn only_owners_manage_members_and_delete_workspaces() {
        for role in Role::ALL {
            let owner = role == Role::Owner;
            assert_eq!(role.allows(Permission::MembersManage), owner, "{role:?}");
            assert_eq!(role.allows(Permission::WorkspaceDelete), owner, "{role:?}");
        }
    }

    #[test]
    fn approval_belongs_to_strategists_and_owners() {
        let approvers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.allows(Permission::PostsApprove))
            .collect();
        assert_eq!(approvers, vec![Role::Owner, Role::Strategist]);
    }

    #[test]
    fn analysts_only_read() {
        let perms = Role::Analyst.permissions();
        assert!(perms.contains(&Permission::MetricsRead));
        assert!(!perms.contains(&Permission::PostsWrite));
        assert!(!perms.contains(&Permission::InboxReply));
    }

    #[test]
    fn permission_list_is_complete_and_unique() {
        let names: std::collections::HashSet<String> = Permission::ALL
            .iter()
            .map(|p| serde_json::to_string(p).unwrap_or_default())
            .collect();
        assert_eq!(names.len(), Permission::ALL.len());
    }
}
