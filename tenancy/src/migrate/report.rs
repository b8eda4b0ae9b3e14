//! What a migration run is asked to do, and what it reports.

use std::time::Duration;

use crate::{error::Error, tenant_id::TenantId};

/// What to do to a tenant's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verb {
    /// Apply pending migrations (`None`: all of them).
    Up(Option<u32>),
    /// Roll back applied migrations (`None`: all of them).
    Down(Option<u32>),
    /// Drop every table of the tenant, then apply every migration.
    Fresh,
    /// Roll back every migration, then apply every migration.
    Refresh,
    /// Roll back every migration.
    Reset,
}

/// Whether a run over several tenants goes on after a tenant fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnFailure {
    /// Attempt every tenant and list the failures (the default).
    #[default]
    Continue,
    /// Start no further tenant after the first failure.
    Abort,
}

/// Options of a run over several tenants
/// ([`Migrations::run_all`](crate::Migrations::run_all),
/// [`Migrations::run_many`](crate::Migrations::run_many)).
///
/// # Examples
/// ```
/// use tenancy::{MigrateOptions, OnFailure};
/// let options = MigrateOptions::default().concurrency(8).on_failure(OnFailure::Abort);
/// assert_eq!(options.concurrency, 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrateOptions {
    /// Tenants migrated at a time (default 4, at least 1).
    pub concurrency: usize,
    /// What a failed tenant does to the rest (default: continue).
    pub on_failure: OnFailure,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            concurrency: 4,
            on_failure: OnFailure::Continue,
        }
    }
}

impl MigrateOptions {
    /// Sets [`MigrateOptions::concurrency`] (at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets [`MigrateOptions::on_failure`].
    pub fn on_failure(mut self, on_failure: OnFailure) -> Self {
        self.on_failure = on_failure;
        self
    }
}

/// How one tenant fared.
#[derive(Debug)]
#[non_exhaustive]
pub enum MigrationOutcome {
    /// Migrated: the versions applied by this run (or rolled back, for `down`).
    Ok {
        /// Versions whose state this run changed.
        changed: Vec<String>,
    },
    /// Failed; on PostgreSQL and SQLite the tenant is unchanged.
    Failed {
        /// Why.
        error: Error,
        /// The last applied version after the failure.
        last_applied: Option<String>,
    },
    /// Not attempted (an earlier failure with [`OnFailure::Abort`]).
    Skipped,
}

/// The result of a run for one tenant.
#[derive(Debug)]
#[non_exhaustive]
pub struct TenantReport {
    /// The tenant.
    pub tenant: TenantId,
    /// What happened.
    pub outcome: MigrationOutcome,
    /// How long it took.
    pub elapsed: Duration,
}

/// The result of a run over several tenants.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct MigrationReport {
    /// One entry per tenant, in tenant order.
    pub tenants: Vec<TenantReport>,
}

impl MigrationReport {
    /// The tenants that failed.
    pub fn failed(&self) -> impl Iterator<Item = &TenantReport> {
        self.tenants
            .iter()
            .filter(|t| matches!(t.outcome, MigrationOutcome::Failed { .. }))
    }

    /// Whether every tenant succeeded.
    pub fn is_ok(&self) -> bool {
        self.tenants
            .iter()
            .all(|t| matches!(t.outcome, MigrationOutcome::Ok { .. }))
    }
}
