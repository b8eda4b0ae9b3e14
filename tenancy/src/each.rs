//! A job in every tenant (Apartment's `Tenant.each`): bounded concurrency,
//! a status filter, progress, and a report per tenant.

use std::{
    future::Future,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use crate::{
    connection::TenantConnection,
    context,
    error::{Error, Result},
    migrate::OnFailure,
    pace::paced,
    tenancy::Tenancy,
    tenant::TenantStatus,
    tenant_id::TenantId,
};

/// Options of [`Tenancy::each`].
///
/// # Examples
/// ```
/// use tenancy::{EachOptions, OnFailure, TenantStatus};
/// let options = EachOptions::default()
///     .statuses([TenantStatus::Active, TenantStatus::Suspended])
///     .concurrency(4)
///     .on_failure(OnFailure::Abort);
/// assert_eq!(options.statuses.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EachOptions {
    /// Tenants worked on at a time: `Some(n)` exactly `n`; `None` (the
    /// default) chosen while the run goes, as for migrations
    /// ([`MigrateOptions`](crate::MigrateOptions)).
    pub concurrency: Option<usize>,
    /// The most at a time when the run chooses (default: half the shared
    /// pool; 8 where each tenant has its own pool).
    pub max_concurrency: Option<usize>,
    /// The tenants whose registry status is one of these (default: active
    /// only).
    pub statuses: Vec<TenantStatus>,
    /// What a failed tenant does to the rest (default: continue).
    pub on_failure: OnFailure,
}

impl Default for EachOptions {
    fn default() -> Self {
        EachOptions {
            concurrency: None,
            max_concurrency: None,
            statuses: vec![TenantStatus::Active],
            on_failure: OnFailure::Continue,
        }
    }
}

impl EachOptions {
    /// Exactly `n` tenants at a time (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// Chosen while the run goes, at most `max` at a time (at least 1).
    pub fn max_concurrency(mut self, max: usize) -> Self {
        self.concurrency = None;
        self.max_concurrency = Some(max.max(1));
        self
    }

    /// The tenants whose status is one of `statuses`.
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = TenantStatus>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// Sets [`EachOptions::on_failure`].
    pub fn on_failure(mut self, on_failure: OnFailure) -> Self {
        self.on_failure = on_failure;
        self
    }
}

/// How the job fared in one tenant.
#[derive(Debug)]
#[non_exhaustive]
pub enum JobOutcome<T> {
    /// Done; what the job returned.
    Ok(T),
    /// The job failed.
    Failed(Error),
    /// Not started (an earlier failure with [`OnFailure::Abort`]).
    Skipped,
}

/// The result of the job in one tenant.
#[derive(Debug)]
#[non_exhaustive]
pub struct JobResult<T> {
    /// The tenant.
    pub tenant: TenantId,
    /// What happened.
    pub outcome: JobOutcome<T>,
    /// How long it took.
    pub elapsed: Duration,
}

/// The result of [`Tenancy::each`], in the shape of a
/// [`MigrationReport`](crate::MigrationReport).
#[derive(Debug)]
#[non_exhaustive]
pub struct JobReport<T> {
    /// One entry per tenant, in tenant order.
    pub tenants: Vec<JobResult<T>>,
    /// Tenants worked on at a time when the run ended (0: no tenant).
    pub concurrency: usize,
}

impl<T> JobReport<T> {
    /// The tenants where the job failed.
    pub fn failed(&self) -> impl Iterator<Item = &JobResult<T>> {
        self.tenants
            .iter()
            .filter(|t| matches!(t.outcome, JobOutcome::Failed(_)))
    }

    /// Whether the job succeeded in every tenant.
    pub fn is_ok(&self) -> bool {
        self.tenants
            .iter()
            .all(|t| matches!(t.outcome, JobOutcome::Ok(_)))
    }
}

impl Tenancy {
    /// Runs `job` once in every tenant whose status `options` select (active
    /// ones by default), each with a [`TenantConnection`] of its own and
    /// inside [`scope`](crate::scope) of its tenant, a bounded number at a
    /// time; reports each. For scheduled per-tenant work (reports, clean-up,
    /// billing), and data fixes.
    ///
    /// # Errors
    /// A database error reading the registry; a tenant's failure is in the
    /// report, not an `Err`.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::EachOptions;
    /// tenancy.create("acme").await?;
    /// tenancy.create("globex").await?;
    /// let report = tenancy
    ///     .each(EachOptions::default(), async |conn| Ok(conn.tenant().to_string()))
    ///     .await?;
    /// assert!(report.is_ok());
    /// assert_eq!(report.tenants.len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn each<F, Fut, T>(&self, options: EachOptions, job: F) -> Result<JobReport<T>>
    where
        F: Fn(TenantConnection) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.each_observed(options, job, &|_, _| {}).await
    }

    /// [`Tenancy::each`], calling `progress(result, total)` as each tenant
    /// finishes (for progress bars).
    ///
    /// # Errors
    /// As [`Tenancy::each`].
    pub async fn each_observed<F, Fut, T>(
        &self,
        options: EachOptions,
        job: F,
        progress: &(dyn Fn(&JobResult<T>, usize) + Sync),
    ) -> Result<JobReport<T>>
    where
        F: Fn(TenantConnection) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let tenants: Vec<TenantId> = self
            .list()
            .await?
            .into_iter()
            .filter(|t| options.statuses.contains(&t.status))
            .map(|t| t.id)
            .collect();
        let total = tenants.len();
        let abort = &AtomicBool::new(false);
        let job = &job;
        let one = |tenant: TenantId| async move {
            let started = Instant::now();
            if abort.load(Ordering::Relaxed) {
                return JobResult {
                    tenant,
                    outcome: JobOutcome::Skipped,
                    elapsed: Duration::ZERO,
                };
            }
            let run = async {
                let conn = self.connection(&tenant)?;
                context::scope(tenant.clone(), job(conn)).await
            };
            let outcome = match run.await {
                Ok(value) => JobOutcome::Ok(value),
                Err(error) => {
                    if options.on_failure == OnFailure::Abort {
                        abort.store(true, Ordering::Relaxed);
                    }
                    tracing::warn!(tenant = %tenant, error = %error, "tenant job failed");
                    JobOutcome::Failed(error)
                }
            };
            let result = JobResult {
                tenant,
                outcome,
                elapsed: started.elapsed(),
            };
            progress(&result, total);
            result
        };
        let mut pace = self.pace(options.concurrency, options.max_concurrency);
        let mut tenants = paced(&mut pace, tenants, one).await;
        tenants.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        Ok(JobReport {
            concurrency: if total == 0 { 0 } else { pace.limit() },
            tenants,
        })
    }
}
