//! A workspace's inbox settings: when the team works, how fast it answers,
//! when negative volume counts as a spike, and whose replies need approval.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::business_hours::{BusinessHours, SlaTargets};
use super::crisis::SpikePolicy;
use super::roles::Role;

/// The inbox settings of a workspace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxSettings {
    /// When the team works: SLA clocks run only then. Empty `open` means
    /// always (24/7).
    #[serde(default)]
    pub business_hours: BusinessHours,
    /// First-response and resolution targets per priority, in business minutes.
    #[serde(default)]
    pub sla: SlaTargets,
    /// When an hour's negative items count as a spike.
    #[serde(default)]
    pub spike_policy: SpikePolicy,
    /// Roles whose replies wait for approval by a member who may approve
    /// posts before they are sent. Empty: nobody's.
    #[serde(default)]
    pub reply_approval_roles: Vec<Role>,
}
