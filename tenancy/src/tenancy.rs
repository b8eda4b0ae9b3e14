//! [`Tenancy`], the hub: the state every capability shares, and the
//! connections it hands out. Capabilities (`lifecycle`, `domains`, `health`,
//! `migrate`, `context`) add `impl Tenancy` blocks from above; the builder
//! (`builder.rs`) composes it.

use std::{
    fmt,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

use crate::{
    backend::Backend,
    connection::{
        Partitions, Pool, Router, StatementObserver, TenantConnection, TenantTransaction,
    },
    error::Result,
    events::{Hooks, Operation, TenantEvent},
    pace::Pace,
    registry::Registry,
    retry::Retry,
    store::{DomainCache, Store},
    tenant::MigrationState,
    tenant_id::{TenantId, TenantRules},
};

/// Multi-tenancy over one SeaORM [`DatabaseConnection`].
///
/// Build it once at start-up with [`Tenancy::builder`], keep it in your
/// application state (clones are cheap), and ask it for a
/// [`TenantConnection`] per request.
///
/// The layout follows the backend: a schema per tenant on PostgreSQL, a
/// database per tenant on MySQL/MariaDB, a file per tenant on SQLite.
///
/// # Examples
/// ```no_run
/// # async fn run(db: sea_orm::DatabaseConnection) -> tenancy::Result<()> {
/// let tenancy = tenancy::Tenancy::builder(db).build().await?;
/// tenancy.create("acme").await?;
/// let acme = tenancy.tenant("acme")?; // cheap, no I/O
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Tenancy {
    state: Arc<State>,
}

/// What a [`Tenancy`] holds; assembled by the builder.
pub(crate) struct State {
    pub(crate) db: DatabaseConnection,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) registry: Arc<Registry>,
    pub(crate) rules: TenantRules,
    pub(crate) observer: Option<Arc<StatementObserver>>,
    pub(crate) store: Arc<Store>,
    /// Tenant affinity's pools, when on.
    pub(crate) partitions: Option<Arc<Partitions>>,
    pub(crate) hooks: Hooks,
    pub(crate) statement_metrics: bool,
    pub(crate) migrator: Option<Arc<dyn TenantMigrator>>,
    pub(crate) domains: DomainCache,
    /// Bumped by every lifecycle change this process makes, so caches of
    /// tenant status (the request layer's) drop what they hold.
    pub(crate) epoch: AtomicU64,
    /// How the library retries its own transient failures.
    pub(crate) retry: Retry,
    /// The application's seeder, run in every new tenant.
    pub(crate) seeder: Option<Arc<SeedFn>>,
}

/// A seeder registered with [`TenancyBuilder::seeder`](crate::TenancyBuilder::seeder):
/// fills a new tenant, in a transaction of it.
pub type SeedFn = dyn for<'c> Fn(&'c TenantTransaction) -> BoxFuture<'c, std::result::Result<(), sea_orm::DbErr>>
    + Send
    + Sync;

/// The application's tenant migrator registered on the builder, with its
/// type erased (implemented in `migrate/erased.rs`), for health checks and
/// on-demand creation.
pub(crate) trait TenantMigrator: Send + Sync + fmt::Debug {
    /// The latest version the migrator knows.
    fn latest(&self) -> Option<String>;

    /// Where `id` stands against the migrator.
    fn status<'a>(
        &'a self,
        t: &'a Tenancy,
        id: &'a TenantId,
    ) -> BoxFuture<'a, Result<MigrationState>>;

    /// Applies every pending migration of `id`; the versions applied.
    fn up<'a>(&'a self, t: &'a Tenancy, id: &'a TenantId) -> BoxFuture<'a, Result<Vec<String>>>;

    /// Creates `id` and migrates it as one unit; the versions applied.
    fn create_and_migrate<'a>(
        &'a self,
        t: &'a Tenancy,
        id: &'a TenantId,
    ) -> BoxFuture<'a, Result<Vec<String>>>;
}

impl fmt::Debug for Tenancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tenancy")
            .field("backend", &self.state.backend)
            .field("rules", &self.state.rules)
            .finish_non_exhaustive()
    }
}

impl Tenancy {
    pub(crate) fn from_state(state: State) -> Self {
        Tenancy {
            state: Arc::new(state),
        }
    }

    /// Validates `name` with this tenancy's rules.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName).
    pub fn tenant_id(&self, name: &str) -> Result<TenantId> {
        self.state.rules.validate(name)
    }

    /// The connection of tenant `name`. Cheap and without I/O: it neither
    /// checks the registry nor opens anything; a tenant that does not exist
    /// fails at its first statement (its tables are nowhere to be found),
    /// never falls back to another home. Use [`Tenancy::connect`] to check.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName).
    pub fn tenant(&self, name: &str) -> Result<TenantConnection> {
        self.connection(&self.tenant_id(name)?)
    }

    /// The connection of a validated tenant id.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName) when `id`
    /// does not pass this tenancy's (possibly stricter) rules.
    pub fn tenant_by_id(&self, id: TenantId) -> Result<TenantConnection> {
        self.connection(&self.recheck(id)?)
    }

    /// `id` checked against this tenancy's rules (it may have passed
    /// other rules, or only the floor when deserialized).
    pub(crate) fn recheck(&self, id: TenantId) -> Result<TenantId> {
        self.state.rules.check(&id)?;
        Ok(id)
    }

    /// The connection of `id`, which passed this tenancy's rules.
    pub(crate) fn connection(&self, id: &TenantId) -> Result<TenantConnection> {
        let home = self.home(id)?;
        let state = &self.state;
        let router = Router {
            registry: state.registry.clone(),
            route: state.backend.route(&home),
            tenant: Some(id.clone()),
            observer: state.observer.clone(),
            statements: state
                .statement_metrics
                .then(|| metrics::counter!("tenancy_statements_total", "tenant" => id.to_string())),
            home: home.into_boxed_str(),
        };
        let pool = if state.backend.pool_per_tenant() {
            Pool::PerTenant
        } else if let Some(partitions) = &state.partitions {
            let index = partitions.home_of(&router.home);
            Pool::Affine(partitions.clone(), index)
        } else {
            Pool::Shared(state.db.clone())
        };
        Ok(TenantConnection::new(
            id.clone(),
            router,
            pool,
            state.backend.clone(),
            state.store.clone(),
        ))
    }

    /// The wrapped connection, which sees the shared home. Statements on it
    /// are not routed: tenant tables are not reachable through it.
    pub fn inner(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// The home (schema, database or file stem) of a tenant.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName).
    pub fn home_of(&self, name: &str) -> Result<String> {
        self.home(&self.tenant_id(name)?)
    }

    /// The home of `id`.
    pub(crate) fn home(&self, id: &TenantId) -> Result<String> {
        self.state.rules.home(id)
    }

    /// The tenant-scoped tables this tenancy routes, sorted.
    pub fn tenant_tables(&self) -> Vec<&str> {
        self.state.registry.tenant_tables()
    }

    /// The shared tables this tenancy knows, sorted.
    pub(crate) fn shared_tables(&self) -> Vec<&str> {
        self.state.registry.tables(crate::registry::Scope::Shared)
    }

    /// The shared home: schema (PostgreSQL), database (MySQL) or the name the
    /// shared file is attached under (SQLite).
    pub fn shared_home(&self) -> &str {
        self.state.backend.shared_home()
    }

    pub(crate) fn backend(&self) -> &dyn Backend {
        &*self.state.backend
    }

    /// How a run over many tenants paces itself: exactly `concurrency`, or
    /// chosen as it goes, at most `max` (default [`Tenancy::work_ceiling`]).
    pub(crate) fn pace(&self, concurrency: Option<usize>, max: Option<usize>) -> Pace {
        match concurrency {
            Some(n) => Pace::fixed(n),
            None => Pace::adaptive(max.unwrap_or_else(|| self.work_ceiling())),
        }
    }

    /// The most tenants a run over many works on at a time when it chooses
    /// (half the shared pool, at least 1; 8 where each tenant has a pool of
    /// its own).
    pub(crate) fn work_ceiling(&self) -> usize {
        if self.backend().pool_per_tenant() {
            8
        } else {
            (crate::backend::pool_size(self.inner()) / 2).max(1)
        }
    }

    /// The application's seeder, if one is registered.
    pub(crate) fn seeder(&self) -> Option<&SeedFn> {
        self.state.seeder.as_deref()
    }

    /// How the library retries its own transient failures.
    pub(crate) fn retry(&self) -> &Retry {
        &self.state.retry
    }

    pub(crate) fn store(&self) -> &Store {
        &self.state.store
    }

    pub(crate) fn domain_cache(&self) -> &DomainCache {
        &self.state.domains
    }

    pub(crate) fn migrator(&self) -> Option<&dyn TenantMigrator> {
        self.state.migrator.as_deref()
    }

    /// Changes with every lifecycle operation this process runs.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn epoch(&self) -> u64 {
        self.state.epoch.load(Ordering::Acquire)
    }

    /// Runs lifecycle operation `op` on `tenant` with its span, metrics and
    /// hooks (see `events.rs`), and invalidates status caches.
    pub(crate) async fn observe<T>(
        &self,
        op: Operation,
        tenant: &TenantId,
        fut: impl Future<Output = Result<T>>,
        on_ok: impl FnOnce(&T) -> Vec<TenantEvent>,
    ) -> Result<T> {
        let result = self.state.hooks.observe(op, tenant, fut, on_ok).await;
        self.state.epoch.fetch_add(1, Ordering::AcqRel);
        self.state.domains.clear();
        result
    }
}
