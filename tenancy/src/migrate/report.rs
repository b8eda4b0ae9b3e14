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
/// By default the run chooses how many tenants it migrates at a time while
/// it goes: it starts at two, doubles while a doubling buys at least a
/// tenth more tenants per second, and settles on the best level as soon as
/// it does not, never above [`MigrateOptions::max_concurrency`]. Where a
/// migrate-all stops scaling is the server's business (its cores, how fast
/// it commits), not the pool's: on a 2-core PostgreSQL two at a time is as
/// fast as eight.
///
/// # Examples
/// ```
/// use tenancy::{MigrateOptions, OnFailure};
/// let options = MigrateOptions::default().concurrency(8).on_failure(OnFailure::Abort);
/// assert_eq!(options.concurrency, Some(8));
/// let chosen = MigrateOptions::default().max_concurrency(4);
/// assert_eq!((chosen.concurrency, chosen.max_concurrency), (None, Some(4)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MigrateOptions {
    /// Tenants migrated at a time: `Some(n)` exactly `n` (at least 1);
    /// `None` (the default) chosen while the run goes.
    pub concurrency: Option<usize>,
    /// The most tenants at a time when the run chooses (`None`, the
    /// default: half the shared pool, at least 1; 8 where each tenant has
    /// its own pool, as on SQLite).
    pub max_concurrency: Option<usize>,
    /// What a failed tenant does to the rest (default: continue).
    pub on_failure: OnFailure,
    /// [`Migrations::run_all`](crate::Migrations::run_all) migrates
    /// suspended tenants too (default: active ones only; a suspended
    /// tenant is migrated by [`Tenancy::resume`](crate::Tenancy::resume)
    /// when the builder knows the migrator).
    pub include_suspended: bool,
}

impl MigrateOptions {
    /// Sets [`MigrateOptions::concurrency`]: exactly `concurrency` tenants
    /// at a time (at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = Some(concurrency.max(1));
        self
    }

    /// Sets [`MigrateOptions::max_concurrency`] and lets the run choose
    /// its concurrency up to it (at least 1).
    pub fn max_concurrency(mut self, max: usize) -> Self {
        self.concurrency = None;
        self.max_concurrency = Some(max.max(1));
        self
    }

    /// Sets [`MigrateOptions::include_suspended`].
    pub fn include_suspended(mut self, include: bool) -> Self {
        self.include_suspended = include;
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
    /// Tenants migrated at a time when the run ended: the level it chose,
    /// or the one asked for (0 when no tenant needed a run).
    pub concurrency: usize,
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
