//! Runs over many tenants: bounded concurrency, tenants already up to date
//! found in batches, a report per tenant.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use sea_orm_migration::MigratorTrait;

use super::{
    MigrateOptions, MigrationOutcome, MigrationReport, Migrations, OnFailure, TenantReport, Verb,
};
use crate::{error::Result, pace::paced, tenant::TenantStatus, tenant_id::TenantId};

impl<M: MigratorTrait> Migrations<M> {
    /// Runs `verb` in every active tenant (and suspended ones with
    /// [`MigrateOptions::include_suspended`]), as many at a time as `options` say,
    /// and reports each. [`Migrations::run_all_observed`] also calls back as
    /// each tenant finishes.
    ///
    /// # Errors
    /// A database error listing the tenants; per-tenant failures are in the
    /// [`MigrationReport`], not an `Err`.
    ///
    /// # Examples
    /// ```
    /// # include!("../../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::{MigrateOptions, OnFailure, Verb};
    /// tenancy.create("acme").await?;
    /// tenancy.create("globex").await?;
    /// let m = tenancy.migrations::<Migrator>();
    /// let options = MigrateOptions::default().concurrency(2).on_failure(OnFailure::Continue);
    /// let report = m.run_all(Verb::Up(None), options).await?;
    /// assert!(report.is_ok());
    /// assert_eq!(report.tenants.len(), 2);
    /// let ids = [tenancy.tenant_id("acme")?, tenancy.tenant_id("globex")?];
    /// assert!(m.status_many(&ids).await?.iter().all(|s| s.pending.is_empty()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run_all(&self, verb: Verb, options: MigrateOptions) -> Result<MigrationReport> {
        self.run_all_observed(verb, options, &|_, _| {}).await
    }

    /// [`Migrations::run_all`], calling `progress(report, total)` as each
    /// tenant finishes (for progress bars).
    ///
    /// # Errors
    /// As [`Migrations::run_all`].
    pub async fn run_all_observed(
        &self,
        verb: Verb,
        options: MigrateOptions,
        progress: &(dyn Fn(&TenantReport, usize) + Sync),
    ) -> Result<MigrationReport> {
        let tenants: Vec<TenantId> = self
            .tenancy
            .list()
            .await?
            .into_iter()
            .filter(|t| {
                t.status == TenantStatus::Active
                    || (options.include_suspended && t.status == TenantStatus::Suspended)
            })
            .map(|t| t.id)
            .collect();
        Ok(self
            .run_many_observed(tenants, verb, options, progress)
            .await)
    }

    /// Runs `verb` in the given tenants, as many at a time as `options` say.
    ///
    /// # Examples
    /// ```
    /// # include!("../../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::{MigrateOptions, MigrationOutcome, Verb};
    /// tenancy.create("acme").await?;
    /// tenancy.create("globex").await?;
    /// let m = tenancy.migrations::<Migrator>();
    /// let ids = vec![tenancy.tenant_id("acme")?, tenancy.tenant_id("globex")?];
    /// let report = m.run_many(ids.clone(), Verb::Up(None), MigrateOptions::default()).await;
    /// assert!(report.is_ok() && report.tenants.len() == 2);
    /// // Run again: nothing left to change in either tenant.
    /// let again = m.run_many(ids, Verb::Up(None), MigrateOptions::default()).await;
    /// for t in &again.tenants {
    ///     assert!(matches!(&t.outcome, MigrationOutcome::Ok { changed } if changed.is_empty()));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run_many(
        &self,
        tenants: Vec<TenantId>,
        verb: Verb,
        options: MigrateOptions,
    ) -> MigrationReport {
        self.run_many_observed(tenants, verb, options, &|_, _| {})
            .await
    }

    /// [`Migrations::run_many`], calling `progress(report, total)` as each
    /// tenant finishes.
    pub async fn run_many_observed(
        &self,
        tenants: Vec<TenantId>,
        verb: Verb,
        options: MigrateOptions,
        progress: &(dyn Fn(&TenantReport, usize) + Sync),
    ) -> MigrationReport {
        let total = tenants.len();
        // Up to date already: read in batches, not one round trip per tenant.
        let current = match verb {
            Verb::Up(None) => self.up_to_date(&tenants).await.unwrap_or_default(),
            _ => Vec::new(),
        };
        let (done, tenants): (Vec<TenantId>, Vec<TenantId>) =
            tenants.into_iter().partition(|t| current.contains(t));
        let ran = !tenants.is_empty();
        let abort = &AtomicBool::new(false);
        let one = |tenant: TenantId| async move {
            let started = Instant::now();
            if abort.load(Ordering::Relaxed) {
                return TenantReport {
                    tenant,
                    outcome: MigrationOutcome::Skipped,
                    elapsed: Duration::ZERO,
                };
            }
            let outcome = match self.run_id(&tenant, verb).await {
                Ok(changed) => MigrationOutcome::Ok { changed },
                Err((error, last_applied)) => {
                    if options.on_failure == OnFailure::Abort {
                        abort.store(true, Ordering::Relaxed);
                    }
                    tracing::warn!(tenant = %tenant, error = %error, "tenant migration failed");
                    MigrationOutcome::Failed {
                        error,
                        last_applied,
                    }
                }
            };
            let report = TenantReport {
                tenant,
                outcome,
                elapsed: started.elapsed(),
            };
            progress(&report, total);
            report
        };
        let mut pace = self
            .tenancy
            .pace(options.concurrency, options.max_concurrency);
        let mut reports = paced(&mut pace, tenants, one).await;
        reports.extend(done.into_iter().map(|tenant| TenantReport {
            tenant,
            outcome: MigrationOutcome::Ok {
                changed: Vec::new(),
            },
            elapsed: Duration::ZERO,
        }));
        reports.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        MigrationReport {
            tenants: reports,
            concurrency: if ran { pace.limit() } else { 0 },
        }
    }

    /// The tenants that have every known version applied. Not read where
    /// each tenant has a pool of its own (SQLite): opening every file to
    /// check costs as much as the run.
    async fn up_to_date(&self, tenants: &[TenantId]) -> Result<Vec<TenantId>> {
        if self.tenancy.backend().pool_per_tenant() {
            return Ok(Vec::new());
        }
        Ok(self
            .status_many(tenants)
            .await?
            .into_iter()
            .filter(|s| s.pending.is_empty())
            .map(|s| s.tenant)
            .collect())
    }
}
