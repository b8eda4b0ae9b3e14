//! Health checks of tenants: registered, home present and reachable, tables,
//! migration version against the registered migrator, latency.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};
use serde::Serialize;

use crate::{error::Result, tenancy::Tenancy, tenant::TenantStatus, tenant_id::TenantId};

/// How healthy a tenant, or the whole tenancy, is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum HealthStatus {
    /// Serving, and migrated to the latest known version.
    Ok,
    /// Serving, but behind (or ahead of) the migrator, or suspended.
    Degraded,
    /// Not serving: unregistered, home missing, unreachable or too slow.
    Unhealthy,
}

/// Why a tenant is not [`HealthStatus::Ok`]; serialized as its stable
/// snake_case code, never database text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthProblem {
    /// `tenant_not_found`: not registered (or being created or dropped).
    TenantNotFound,
    /// `home_missing`: registered, but its schema, database or file is gone.
    HomeMissing,
    /// `unreachable`: a statement could not reach the registry or the home.
    Unreachable,
    /// `timeout`: the check took longer than [`HealthOptions::timeout`].
    Timeout,
    /// `migrations_pending`: behind (or ahead of) the registered migrator.
    MigrationsPending,
    /// `suspended`: suspended in the registry.
    Suspended,
}

impl HealthProblem {
    /// The stable code, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthProblem::TenantNotFound => "tenant_not_found",
            HealthProblem::HomeMissing => "home_missing",
            HealthProblem::Unreachable => "unreachable",
            HealthProblem::Timeout => "timeout",
            HealthProblem::MigrationsPending => "migrations_pending",
            HealthProblem::Suspended => "suspended",
        }
    }
}

/// The health of one tenant, from [`Tenancy::health`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TenantHealth {
    /// The tenant.
    pub tenant: TenantId,
    /// The verdict.
    pub status: HealthStatus,
    /// Registered, and its home (schema, database, file) exists.
    pub exists: bool,
    /// A statement reached its home.
    pub reachable: bool,
    /// Its registry status (`active`, `suspended`), when registered.
    pub tenant_status: Option<TenantStatus>,
    /// Tables in its home.
    pub tables: Option<u64>,
    /// The latest migration applied that the migrator knows.
    pub applied_version: Option<String>,
    /// The migrator's latest migration (with
    /// [`TenancyBuilder::migrator`](crate::TenancyBuilder::migrator)).
    pub latest_version: Option<String>,
    /// Migrations the tenant has not applied.
    pub pending: Option<usize>,
    /// Round trip of the statement that reached the home, in milliseconds.
    pub ping_ms: Option<f64>,
    /// Why it is not ok.
    pub problem: Option<HealthProblem>,
}

impl TenantHealth {
    fn new(tenant: TenantId) -> Self {
        TenantHealth {
            tenant,
            status: HealthStatus::Unhealthy,
            exists: false,
            reachable: false,
            tenant_status: None,
            tables: None,
            applied_version: None,
            latest_version: None,
            pending: None,
            ping_ms: None,
            problem: None,
        }
    }

    fn fail(mut self, status: HealthStatus, problem: HealthProblem) -> Self {
        self.status = status;
        self.problem = Some(problem);
        self
    }
}

/// The shared home's part of a [`HealthReport`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SharedHealth {
    /// The shared pool answered.
    pub reachable: bool,
    /// Its round trip in milliseconds.
    pub ping_ms: Option<f64>,
}

/// Every tenant's health, from [`Tenancy::health_all`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct HealthReport {
    /// `unhealthy` when the shared home or any tenant is; `degraded` when
    /// any tenant is; `ok` otherwise.
    pub status: HealthStatus,
    /// When the check started.
    pub checked_at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub elapsed_ms: f64,
    /// The shared home.
    pub shared: SharedHealth,
    /// Tenants per status.
    pub counts: HealthCounts,
    /// Each tenant, by name.
    pub tenants: Vec<TenantHealth>,
}

/// How many tenants are in each [`HealthStatus`].
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[non_exhaustive]
pub struct HealthCounts {
    /// Healthy tenants.
    pub ok: usize,
    /// Degraded tenants.
    pub degraded: usize,
    /// Unhealthy tenants.
    pub unhealthy: usize,
}

/// Options of [`Tenancy::health_all`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct HealthOptions {
    /// Tenants checked at a time (default 8).
    pub concurrency: usize,
    /// Time allowed for one tenant's check before it counts as unhealthy
    /// (default 2 s).
    pub timeout: Duration,
    /// Only the shared home and the registry, no tenant (default `false`):
    /// one round trip whatever the number of tenants, and no tenant names
    /// in the report, for a load balancer's probe.
    pub shallow: bool,
}

impl Default for HealthOptions {
    fn default() -> Self {
        HealthOptions {
            concurrency: 8,
            timeout: Duration::from_secs(2),
            shallow: false,
        }
    }
}

impl HealthOptions {
    /// Sets [`HealthOptions::shallow`].
    pub fn shallow(mut self, shallow: bool) -> Self {
        self.shallow = shallow;
        self
    }

    /// Sets [`HealthOptions::concurrency`].
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets [`HealthOptions::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Tenancy {
    /// Checks tenant `name`: registered, home present, a statement reaches
    /// it (table count, timed), and its migrations against the migrator
    /// registered with [`TenancyBuilder::migrator`](crate::TenancyBuilder::migrator).
    /// Problems are in the result, not errors.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName).
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::{HealthProblem, HealthStatus};
    /// tenancy.create("acme").await?;
    /// let acme = tenancy.health("acme").await?;
    /// assert_eq!((acme.status, acme.exists, acme.reachable), (HealthStatus::Ok, true, true));
    /// let ghost = tenancy.health("ghost").await?;
    /// assert_eq!(ghost.problem, Some(HealthProblem::TenantNotFound));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn health(&self, name: &str) -> Result<TenantHealth> {
        Ok(self.check(self.tenant_id(name)?).await)
    }

    async fn check(&self, id: TenantId) -> TenantHealth {
        let mut h = TenantHealth::new(id.clone());
        let info = match self.info_id(&id).await {
            Ok(Some(info))
                if matches!(info.status, TenantStatus::Active | TenantStatus::Suspended) =>
            {
                info
            }
            Ok(_) => return h.fail(HealthStatus::Unhealthy, HealthProblem::TenantNotFound),
            Err(_) => return h.fail(HealthStatus::Unhealthy, HealthProblem::Unreachable),
        };
        h.tenant_status = Some(info.status);
        let home = match self.home(&id) {
            Ok(home) => home,
            Err(_) => return h.fail(HealthStatus::Unhealthy, HealthProblem::TenantNotFound),
        };
        match self.backend().home_exists(self.inner(), &home).await {
            Ok(true) => h.exists = true,
            Ok(false) => return h.fail(HealthStatus::Unhealthy, HealthProblem::HomeMissing),
            Err(_) => return h.fail(HealthStatus::Unhealthy, HealthProblem::Unreachable),
        }
        let started = Instant::now();
        match self.backend().table_count(self.inner(), &home).await {
            Ok(tables) => {
                h.reachable = true;
                h.tables = Some(tables);
                h.ping_ms = Some(millis(started.elapsed()));
            }
            Err(_) => return h.fail(HealthStatus::Unhealthy, HealthProblem::Unreachable),
        }
        h.status = HealthStatus::Ok;
        if let Some(migrator) = self.migrator() {
            h.latest_version = migrator.latest();
            match migrator.status(self, &id).await {
                Ok(state) => {
                    h.applied_version = state.applied.last().cloned();
                    h.pending = Some(state.pending.len());
                    if !state.pending.is_empty() || !state.unknown.is_empty() {
                        h = h.fail(HealthStatus::Degraded, HealthProblem::MigrationsPending);
                    }
                }
                Err(_) => return h.fail(HealthStatus::Unhealthy, HealthProblem::Unreachable),
            }
        }
        if info.status == TenantStatus::Suspended && h.status == HealthStatus::Ok {
            h = h.fail(HealthStatus::Degraded, HealthProblem::Suspended);
        }
        h
    }

    /// Checks every registered tenant, `options.concurrency` at a time,
    /// each within `options.timeout`, and the shared home.
    ///
    /// # Errors
    /// None for problems of tenants or of the database (they make the
    /// report unhealthy); the `Result` is kept for future checks.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::HealthOptions;
    /// tenancy.create("acme").await?;
    /// tenancy.create("globex").await?;
    /// let report = tenancy.health_all(HealthOptions::default().concurrency(4)).await?;
    /// assert!(report.is_serving());
    /// assert_eq!((report.counts.ok, report.tenants.len()), (2, 2));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn health_all(&self, options: HealthOptions) -> Result<HealthReport> {
        let checked_at = Utc::now();
        let started = Instant::now();
        let ping = Instant::now();
        // The registry read is the ping: it must reach the shared home.
        let reachable = if options.shallow {
            self.store().registry_readable().await.is_ok()
        } else {
            self.inner().ping().await.is_ok()
        };
        let shared = SharedHealth {
            reachable,
            ping_ms: reachable.then(|| millis(ping.elapsed())),
        };
        let tenants = if reachable && !options.shallow {
            self.list().await.unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut checks: Vec<TenantHealth> = stream::iter(tenants)
            .map(|info| async move {
                let id = info.id;
                match tokio::time::timeout(options.timeout, self.check(id.clone())).await {
                    Ok(health) => health,
                    Err(_) => {
                        TenantHealth::new(id).fail(HealthStatus::Unhealthy, HealthProblem::Timeout)
                    }
                }
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
        checks.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        let mut counts = HealthCounts::default();
        for check in &checks {
            match check.status {
                HealthStatus::Ok => counts.ok += 1,
                HealthStatus::Degraded => counts.degraded += 1,
                HealthStatus::Unhealthy => counts.unhealthy += 1,
            }
        }
        let worst = checks.iter().map(|c| c.status).max();
        let status = match (reachable, worst) {
            (false, _) => HealthStatus::Unhealthy,
            (true, None) => HealthStatus::Ok,
            (true, Some(worst)) => worst,
        };
        Ok(HealthReport {
            status,
            checked_at,
            elapsed_ms: millis(started.elapsed()),
            shared,
            counts,
            tenants: checks,
        })
    }
}

impl HealthReport {
    /// Whether nothing is unhealthy (the HTTP answer is 200, else 503).
    pub fn is_serving(&self) -> bool {
        self.status != HealthStatus::Unhealthy
    }
}
