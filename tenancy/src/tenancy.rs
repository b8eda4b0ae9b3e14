//! [`Tenancy`]: the entry point, and its builder.

use std::{
    fmt,
    num::NonZeroUsize,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sea_orm::{DatabaseConnection, EntityTrait};
use sea_orm_migration::MigratorTrait;

use crate::{
    backend::{self, Backend, BackendOptions},
    connection::{
        ContextualConnection, TenantConnection,
        router::{Router, StatementObserver},
    },
    domains::DomainCache,
    error::Result,
    events::{Hooks, Operation, TenantEvent},
    lifecycle,
    migrator::ErasedMigrator,
    registry::{Registry, Scope},
    tenant_id::{HomeFn, TenantId, TenantRules, ValidateFn},
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
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    backend: Box<dyn Backend>,
    registry: Arc<Registry>,
    rules: TenantRules,
    observer: Option<Arc<StatementObserver>>,
    shared: Arc<Router>,
    hooks: Hooks,
    statement_metrics: bool,
    migrator: Option<ErasedMigrator>,
    domains: DomainCache,
    /// Bumped by every lifecycle change this process makes, so caches of
    /// tenant status (the request layer's) drop what they hold.
    epoch: AtomicU64,
}

impl fmt::Debug for Tenancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tenancy")
            .field("backend", &self.inner.backend)
            .field("rules", &self.inner.rules)
            .finish_non_exhaustive()
    }
}

impl Tenancy {
    /// Starts configuring a `Tenancy` over `db`, which holds the shared
    /// tables (and, on PostgreSQL and MySQL, serves every tenant).
    pub fn builder(db: DatabaseConnection) -> TenancyBuilder {
        TenancyBuilder {
            db,
            rules: TenantRules::default(),
            options: BackendOptions::default(),
            tables: Vec::new(),
            observer: None,
            install: true,
            hooks: Hooks::default(),
            statement_metrics: false,
            migrator: None,
            domain_ttl: Duration::from_secs(30),
        }
    }

    /// Validates `name` with this tenancy's rules.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName).
    pub fn tenant_id(&self, name: &str) -> Result<TenantId> {
        self.inner.rules.validate(name)
    }

    /// The connection of tenant `name`. Cheap and without I/O: it neither
    /// checks the registry nor opens anything; a tenant that does not exist
    /// fails at its first statement (its tables are nowhere to be found),
    /// never falls back to another home. Use [`Tenancy::connect`] to check.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName).
    pub fn tenant(&self, name: &str) -> Result<TenantConnection> {
        self.tenant_by_id(self.tenant_id(name)?)
    }

    /// The connection of a validated tenant id.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName) when `id`
    /// does not pass this tenancy's (possibly stricter) rules.
    pub fn tenant_by_id(&self, id: TenantId) -> Result<TenantConnection> {
        let id = if self.inner.rules.is_default() {
            id
        } else {
            self.inner.rules.validate(id.as_str())?
        };
        let home = self.inner.rules.home(&id)?;
        let backend = &self.inner.backend;
        let router = Router {
            registry: self.inner.registry.clone(),
            route: backend.route(&home),
            tenant: Some(id.clone()),
            observer: self.inner.observer.clone(),
            statements: self
                .inner
                .statement_metrics
                .then(|| metrics::counter!("tenancy_statements_total", "tenant" => id.to_string())),
            home: home.into_boxed_str(),
        };
        let pool = (!backend.pool_per_tenant()).then(|| self.inner.db.clone());
        Ok(TenantConnection::new(id, router, pool, self.clone()))
    }

    /// The connection of tenant `name` after checking the registry.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName),
    /// [`Error::TenantNotFound`](crate::Error::TenantNotFound),
    /// [`Error::TenantSuspended`](crate::Error::TenantSuspended), or a database error.
    pub async fn connect(&self, name: &str) -> Result<TenantConnection> {
        let id = self.tenant_id(name)?;
        lifecycle::require_active(self, &id).await?;
        self.tenant_by_id(id)
    }

    /// A connection that follows the tenant of the current
    /// [`scope`](crate::scope) and fails with
    /// [`Error::NoTenant`](crate::Error::NoTenant) outside one.
    pub fn contextual(&self) -> ContextualConnection {
        ContextualConnection::new(self.clone())
    }

    /// The wrapped connection, which sees the shared home. Statements on it
    /// are not routed: tenant tables are not reachable through it.
    pub fn inner(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// The home (schema, database or file stem) of a tenant.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName).
    pub fn home_of(&self, name: &str) -> Result<String> {
        let id = self.tenant_id(name)?;
        self.inner.rules.home(&id)
    }

    /// The tenant-scoped tables this tenancy routes, sorted.
    pub fn tenant_tables(&self) -> Vec<&str> {
        self.inner.registry.tenant_tables()
    }

    /// The shared home: schema (PostgreSQL), database (MySQL) or the name the
    /// shared file is attached under (SQLite).
    pub fn shared_schema(&self) -> &str {
        self.inner.backend.shared_home()
    }

    pub(crate) fn backend(&self) -> &dyn Backend {
        &*self.inner.backend
    }

    pub(crate) fn rules(&self) -> &TenantRules {
        &self.inner.rules
    }

    pub(crate) fn shared_router(&self) -> &Router {
        &self.inner.shared
    }

    pub(crate) fn domain_cache(&self) -> &DomainCache {
        &self.inner.domains
    }

    pub(crate) fn migrator(&self) -> Option<&ErasedMigrator> {
        self.inner.migrator.as_ref()
    }

    /// Changes with every lifecycle operation this process runs.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Acquire)
    }

    /// Runs lifecycle operation `op` on `tenant` with its span, metrics and
    /// hooks (see [`crate::events`]), and invalidates status caches.
    pub(crate) async fn observe<T>(
        &self,
        op: Operation,
        tenant: &TenantId,
        fut: impl Future<Output = Result<T>>,
        on_ok: impl FnOnce(&T) -> Vec<TenantEvent>,
    ) -> Result<T> {
        let result = self.inner.hooks.observe(op, tenant, fut, on_ok).await;
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        self.inner.domains.clear();
        result
    }
}

/// Configures a [`Tenancy`]; from [`Tenancy::builder`].
pub struct TenancyBuilder {
    db: DatabaseConnection,
    rules: TenantRules,
    options: BackendOptions,
    tables: Vec<(String, Scope)>,
    observer: Option<Arc<StatementObserver>>,
    install: bool,
    hooks: Hooks,
    statement_metrics: bool,
    migrator: Option<ErasedMigrator>,
    domain_ttl: Duration,
}

impl fmt::Debug for TenancyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenancyBuilder")
            .field("rules", &self.rules)
            .field("options", &self.options)
            .field("tables", &self.tables)
            .finish_non_exhaustive()
    }
}

impl TenancyBuilder {
    /// PostgreSQL: the schema of shared tables (default `public`).
    pub fn shared_schema(mut self, schema: impl Into<String>) -> Self {
        self.options.shared_schema = Some(schema.into());
        self
    }

    /// The prefix from tenant id to home name (default `tenant_`): tenant
    /// `acme` lives in schema/database/file `tenant_acme`.
    pub fn home_prefix(mut self, prefix: &str) -> Self {
        self.rules = self.rules.with_prefix(prefix);
        self
    }

    /// A template from tenant id to home name, replacing the prefix. Its
    /// output is validated like a name (ASCII letters, digits, `_`, `-`).
    pub fn home_template(
        mut self,
        template: impl Fn(&TenantId) -> String + Send + Sync + 'static,
    ) -> Self {
        let template: Arc<HomeFn> = Arc::new(template);
        self.rules = self.rules.with_home(template);
        self
    }

    /// A custom name rule replacing `^[a-z][a-z0-9_]{0,47}$`. It can narrow,
    /// never widen, the floor every name passes: ASCII letters, digits, `_`
    /// and `-`, at most 63 bytes, not reserved.
    pub fn validate_names(
        mut self,
        rule: impl Fn(&str) -> std::result::Result<(), &'static str> + Send + Sync + 'static,
    ) -> Self {
        let rule: Arc<ValidateFn> = Arc::new(rule);
        self.rules = self.rules.with_validation(rule);
        self
    }

    /// Registers a table by name, for entities without the derive.
    pub fn table(mut self, table: impl Into<String>, scope: Scope) -> Self {
        self.tables.push((table.into(), scope));
        self
    }

    /// Registers an entity without the derive (the explicit path).
    pub fn entity<E: EntityTrait + Default>(self, scope: Scope) -> Self {
        let table = E::default().table_name().to_owned();
        self.table(table, scope)
    }

    /// SQLite: the directory of tenant files (default: `tenants/` beside
    /// the shared file).
    pub fn sqlite_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.options.sqlite.dir = Some(dir.into());
        self
    }

    /// SQLite: how many tenant pools stay open (default 64, least recently
    /// used closed first).
    pub fn sqlite_open_tenants(mut self, pools: NonZeroUsize) -> Self {
        self.options.sqlite.pools = pools;
        self
    }

    /// SQLite: connections per tenant pool (default 4).
    pub fn sqlite_connections_per_tenant(mut self, connections: u32) -> Self {
        self.options.sqlite.connections_per_tenant = connections;
        self
    }

    /// Calls `observer` with every statement a tenant connection routes,
    /// before it is sent (logging, auditing, tests).
    pub fn on_statement(
        mut self,
        observer: impl Fn(&crate::StatementEvent<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Calls `hook` after each tenant is created, dropped, migrated,
    /// suspended or resumed, and when one of those fails; hooks run in the
    /// order they were added, on the task that ran the operation, so keep
    /// them quick (spawn for slow work).
    pub fn on_event(mut self, hook: impl Fn(&TenantEvent) + Send + Sync + 'static) -> Self {
        self.hooks.push(Arc::new(hook));
        self
    }

    /// Counts statements per tenant in the `tenancy_statements_total`
    /// metric, labelled with the tenant (default off: one label value per
    /// tenant can be many time series).
    pub fn statement_metrics(mut self, enabled: bool) -> Self {
        self.statement_metrics = enabled;
        self
    }

    /// The application's tenant migrator: health checks compare each
    /// tenant with its latest version, and [`Tenancy::create_and_migrate`]
    /// (also used for on-demand creation) runs it.
    pub fn migrator<M: MigratorTrait + 'static>(mut self) -> Self {
        self.migrator = Some(ErasedMigrator::of::<M>());
        self
    }

    /// How long a custom-domain lookup is cached (default 30 s). Changes
    /// made through this process's [`Tenancy::add_domain`] and
    /// [`Tenancy::remove_domain`] take effect at once.
    pub fn domain_cache_ttl(mut self, ttl: Duration) -> Self {
        self.domain_ttl = ttl;
        self
    }

    /// Whether `build` creates the tenant registry table when missing
    /// (default `true`).
    pub fn install_registry(mut self, install: bool) -> Self {
        self.install = install;
        self
    }

    /// Detects the backend, freezes the table registry and installs the
    /// tenant registry table.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) for an unsupported backend, a
    /// MySQL connection with no database selected, an in-memory SQLite
    /// database, or a table registered as both tenant and shared; database
    /// errors from the installation.
    pub async fn build(self) -> Result<Tenancy> {
        let registry = Arc::new(Registry::collect(&self.tables)?);
        let backend = backend::detect(&self.db, self.options).await?;
        let shared = Arc::new(Router {
            registry: registry.clone(),
            route: backend.shared_route(),
            tenant: None,
            home: Box::from(""),
            observer: self.observer.clone(),
            statements: None,
        });
        let tenancy = Tenancy {
            inner: Arc::new(Inner {
                db: self.db,
                backend,
                registry,
                rules: self.rules,
                observer: self.observer,
                shared,
                hooks: self.hooks,
                statement_metrics: self.statement_metrics,
                migrator: self.migrator,
                domains: DomainCache::new(self.domain_ttl),
                epoch: AtomicU64::new(0),
            }),
        };
        if self.install {
            lifecycle::install(&tenancy).await?;
        }
        Ok(tenancy)
    }
}
