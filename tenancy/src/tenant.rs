//! What a tenant is: its status, its registry entry and where its schema
//! stands against a migrator. Plain data, no I/O.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::tenant_id::TenantId;

/// Where a tenant is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TenantStatus {
    /// Serving.
    Active,
    /// Registered but refused by [`Tenancy::connect`](crate::Tenancy::connect).
    Suspended,
    /// Being created (or a create was interrupted): not yet usable.
    Provisioning,
    /// Being dropped (MySQL, SQLite), or a drop was interrupted: not usable;
    /// such a row (and any home left) is removed by hand.
    Dropping,
}

impl TenantStatus {
    /// The status as stored in the registry.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
            TenantStatus::Provisioning => "provisioning",
            TenantStatus::Dropping => "dropping",
        }
    }

    /// The status stored as `s` (anything unknown reads as provisioning:
    /// not usable).
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "active" => TenantStatus::Active,
            "suspended" => TenantStatus::Suspended,
            "dropping" => TenantStatus::Dropping,
            _ => TenantStatus::Provisioning,
        }
    }
}

/// A registered tenant, from [`Tenancy::list`](crate::Tenancy::list) and [`Tenancy::info`](crate::Tenancy::info).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TenantInfo {
    /// The tenant.
    pub id: TenantId,
    /// Its status.
    pub status: TenantStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Free-form JSON set at creation.
    pub metadata: serde_json::Value,
}

/// Spelled out at the call site of [`Tenancy::drop`](crate::Tenancy::drop), which deletes a
/// tenant's home and every row in it.
#[derive(Debug, Clone, Copy)]
pub struct Irreversibly;

/// Where a tenant's schema stands against the migrator.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationState {
    /// The tenant.
    pub tenant: TenantId,
    /// Versions applied and known to the migrator, in order.
    pub applied: Vec<String>,
    /// Versions the migrator has and the tenant has not applied.
    pub pending: Vec<String>,
    /// Versions applied in the tenant that the migrator does not know.
    pub unknown: Vec<String>,
}
