//! [`TenancyBuilder`]: detects the backend, collects the table registry,
//! installs the library's tables and composes the [`Tenancy`] hub.

mod affinity;

use std::{
    fmt,
    num::NonZeroUsize,
    path::PathBuf,
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use sea_orm::{DatabaseConnection, EntityTrait};

pub use self::affinity::Affinity;
use sea_orm_migration::MigratorTrait;

use crate::{
    backend::{self, Backend, BackendOptions},
    connection::{Partitions, Router, StatementEvent, StatementObserver, TenantTransaction},
    error::Result,
    events::{Hooks, TenantEvent},
    migrate::ErasedMigrator,
    registry::{Registry, Scope},
    retry::Retry,
    store::{DomainCache, Store},
    tenancy::{SeedFn, State, Tenancy, TenantMigrator},
    tenant_id::{HomeFn, TenantId, TenantRules, ValidateFn},
};

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
            strict: true,
            affinity: Affinity::default(),
            retry: Retry::default(),
            seeder: None,
        }
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
    migrator: Option<Arc<dyn TenantMigrator>>,
    domain_ttl: Duration,
    strict: bool,
    affinity: Affinity,
    retry: Retry,
    seeder: Option<Arc<SeedFn>>,
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

    /// PostgreSQL: lay tenants out for a Citus cluster (`true`: refuse to
    /// build without the `citus` extension; `false`: plain schemas, and
    /// [`build`](Self::build) does not read the database to find out). By
    /// default, whenever the database has the extension, which `build`
    /// reads once (so the server must be reachable); a Citus worker is
    /// refused: connect to the coordinator. See [`crate::citus`].
    pub fn citus(mut self, citus: bool) -> Self {
        self.options.citus = Some(citus);
        self
    }

    /// How tenant statements are spread over connections (see
    /// [`Affinity`]; on by default, [`Affinity::OFF`] to run them on the
    /// shared pool).
    pub fn affinity(mut self, affinity: Affinity) -> Self {
        self.affinity = affinity;
        self
    }

    /// SQLite: the directory of tenant files (default: `tenants/` beside
    /// the shared file).
    pub fn sqlite_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.options.sqlite_dir = Some(dir.into());
        self
    }

    /// SQLite: how many tenant pools stay open (default 64, least recently
    /// used closed first).
    pub fn sqlite_open_tenants(mut self, pools: NonZeroUsize) -> Self {
        self.options.sqlite_pools = pools;
        self
    }

    /// SQLite: connections per tenant pool (default 4).
    pub fn sqlite_connections_per_tenant(mut self, connections: u32) -> Self {
        self.options.sqlite_connections = connections;
        self
    }

    /// Calls `observer` with every statement a tenant connection routes,
    /// before it is sent (logging, auditing, tests).
    pub fn on_statement(
        mut self,
        observer: impl Fn(&StatementEvent<'_>) + Send + Sync + 'static,
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

    /// How the library retries its own registry writes and the migrations
    /// the database picks as deadlock victims (default
    /// [`Retry::default`]: 8 retries, 10 ms doubling up to 1 s).
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
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
        self.migrator = Some(Arc::new(ErasedMigrator::<M>::new()));
        self
    }

    /// Fills every new tenant: `seed` runs in a transaction of the tenant
    /// as the last step of [`Migrations::create_and_migrate`](crate::Migrations::create_and_migrate)
    /// (and so of on-demand creation in the request layer), before any
    /// seed given to `create_and_migrate_with`; when it fails, the tenant
    /// is not created. It runs once per tenant, so it need not be
    /// idempotent; a seed run again later over existing tenants must be.
    ///
    /// # Examples
    /// ```
    /// # include!("../../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (shared, _dir) = setup().await;
    /// # let db = shared.inner().clone();
    /// use sea_orm::{ConnectionTrait, Statement};
    /// use tenancy::{Scope, Tenancy};
    /// let tenancy = Tenancy::builder(db)
    ///     .table("notes", Scope::Tenant)
    ///     .seeder(|txn| Box::pin(async move {
    ///         txn.execute_unprepared("INSERT INTO notes (id) VALUES (1)").await?;
    ///         Ok(())
    ///     }))
    ///     .build()
    ///     .await?;
    /// tenancy.migrations::<Migrator>().create_and_migrate("acme").await?;
    /// let acme = tenancy.connect("acme").await?;
    /// let notes = Statement::from_string(acme.get_database_backend(), "SELECT id FROM notes");
    /// assert_eq!(acme.query_all_raw(notes).await?.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn seeder<F>(mut self, seed: F) -> Self
    where
        F: for<'c> Fn(
                &'c TenantTransaction,
            ) -> futures_util::future::BoxFuture<
                'c,
                std::result::Result<(), sea_orm::DbErr>,
            > + Send
            + Sync
            + 'static,
    {
        self.seeder = Some(Arc::new(seed));
        self
    }

    /// How long a custom-domain lookup is cached (default 30 s). Changes
    /// made through this process's [`Tenancy::add_domain`] and
    /// [`Tenancy::remove_domain`] take effect at once.
    pub fn domain_cache_ttl(mut self, ttl: Duration) -> Self {
        self.domain_ttl = ttl;
        self
    }

    /// Strict routing (default `true`): a statement naming, in table
    /// position, a table that is neither tenant-scoped nor shared is refused
    /// with [`Error::UnregisteredTable`](crate::Error::UnregisteredTable)
    /// before anything is sent. `false` passes such tables through as
    /// written (wherever the session finds them): for gradual adoption
    /// only, since one forgotten `#[derive(TenantScoped)]` then puts every
    /// tenant's rows in one shared table. To pass one table through, keep
    /// strict routing and register it as
    /// [`Scope::Passthrough`](crate::Scope::Passthrough).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Whether `build` creates the tenant registry table when missing
    /// (default `true`).
    pub fn install_registry(mut self, install: bool) -> Self {
        self.install = install;
        self
    }

    /// Detects the backend, freezes the table registry and installs the
    /// library's tables (the tenant registry and the custom domains).
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) for an unsupported backend, a
    /// MySQL connection with no database selected, an in-memory SQLite
    /// database, or a table registered as both tenant and shared; database
    /// errors from the installation.
    pub async fn build(self) -> Result<Tenancy> {
        let registry = Arc::new(Registry::collect(&self.tables, self.strict)?);
        let backend = backend::detect(&self.db, self.options).await?;
        let router = Router::shared(
            registry.clone(),
            backend.shared_route(),
            self.observer.clone(),
        );
        let store = Store::new(
            self.db.clone(),
            Arc::new(router),
            backend.clone(),
            self.retry,
        );
        if self.install {
            store.install().await?;
        }
        backend.prepare_shared(&self.db).await?;
        check_shared_home(&self.db, &*backend, &registry).await;
        let partitions = if self.affinity.enabled {
            let pools = backend.affinity_pools(
                &self.db,
                self.affinity.per_pool,
                self.affinity.statement_cache,
            );
            Partitions::new(pools, self.affinity.per_pool, self.affinity.spill_at).map(Arc::new)
        } else {
            None
        };
        Ok(Tenancy::from_state(State {
            partitions,
            db: self.db,
            backend,
            registry,
            rules: self.rules,
            observer: self.observer,
            store: Arc::new(store),
            hooks: self.hooks,
            statement_metrics: self.statement_metrics,
            migrator: self.migrator,
            domains: DomainCache::new(self.domain_ttl),
            epoch: AtomicU64::new(0),
            retry: self.retry,
            seeder: self.seeder,
        }))
    }
}

/// Warns (`tracing`, target `tenancy`) about registered tables that are not
/// where they should be: a shared table missing from the shared home, or a
/// tenant table that also exists there (a table meant per tenant that some
/// migration put in the shared home). Tenant homes are not read: there may
/// be thousands.
async fn check_shared_home(db: &DatabaseConnection, backend: &dyn Backend, registry: &Registry) {
    let present = match backend.shared_tables(db).await {
        Ok(present) => present,
        Err(e) => {
            tracing::debug!(target: "tenancy", error = %e, "could not list the shared home's tables");
            return;
        }
    };
    let home = backend.shared_home();
    for table in registry.tables(Scope::Shared) {
        if !present.iter().any(|p| p == table) {
            tracing::warn!(target: "tenancy", table, home, "shared table {table} is registered but missing from the shared home {home}");
        }
    }
    for table in registry.tables(Scope::Tenant) {
        if present.iter().any(|p| p == table) {
            tracing::warn!(target: "tenancy", table, home, "tenant table {table} also exists in the shared home {home}: tenant tables belong in tenant homes");
        }
    }
}
