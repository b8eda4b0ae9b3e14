//! [`TenantConnection`], [`TenantTransaction`] and [`ContextualConnection`]:
//! SeaORM connections bound to one tenant.

mod affinity;
mod macros;
mod probe;
mod retry;
mod router;
mod transaction;

use std::{borrow::Cow, fmt, sync::Arc};

use sea_orm::{DatabaseConnection, DbErr, Statement};

use self::macros::{routed_connection, routed_transactions};
pub(crate) use self::{
    affinity::{Lease, Partitions},
    probe::{Probed, StatusProbe},
    router::Router,
    transaction::run_transaction,
};
pub use self::{
    retry::transaction_with_retry,
    router::{StatementEvent, StatementObserver},
    transaction::TenantTransaction,
};
use crate::{backend::Backend, error::Error, tenant::TenantStatus, tenant_id::TenantId};

/// How long after its creation a tenant whose statement finds no table is
/// taken to be settling (another process dropped and re-created it while
/// the statement ran) rather than broken.
const SETTLING: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// A SeaORM connection bound to one tenant.
///
/// It implements `ConnectionTrait`, `StreamTrait` and `TransactionTrait`, so
/// every SeaORM call that takes a `DatabaseConnection` takes it too. Each
/// statement is rewritten so that tenant-scoped tables resolve in this
/// tenant's home and shared tables in the shared home; nothing else changes,
/// and no session state (`search_path`, `USE`) is involved.
///
/// Get one from [`Tenancy::tenant`](crate::Tenancy::tenant) (no I/O) or
/// [`Tenancy::connect`](crate::Tenancy::connect) (checks
/// the registry). The tenant cannot change for the life of the value; clones
/// are cheap and share the pool.
///
/// # Examples
/// ```no_run
/// # async fn run(tenancy: tenancy::Tenancy) -> Result<(), Box<dyn std::error::Error>> {
/// use sea_orm::{ConnectionTrait, TransactionTrait};
/// let acme = tenancy.tenant("acme")?;
/// acme.execute_unprepared("DELETE FROM posts").await?; // acme's posts only
/// let txn = acme.begin().await?;                        // a TenantTransaction
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TenantConnection {
    tenant: TenantId,
    router: Arc<Router>,
    /// Where its statements run.
    pool: Pool,
    backend: Arc<dyn Backend>,
    /// The registry, asked when a statement finds no table in a home that
    /// exists (a tenant dropped and being re-created by another process).
    probe: Arc<dyn StatusProbe>,
}

/// Where a tenant's statements run.
#[derive(Clone)]
pub(crate) enum Pool {
    /// The shared pool (PostgreSQL, MySQL without affinity).
    Shared(DatabaseConnection),
    /// Tenant affinity: the pools, and the index of the tenant's home pool.
    Affine(Arc<Partitions>, usize),
    /// A pool of the tenant's own (SQLite), asked of the backend at every
    /// statement so that a dropped or re-created home is noticed.
    PerTenant,
}

impl fmt::Debug for TenantConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantConnection")
            .field("tenant", &self.tenant())
            .field("home", &self.home())
            .finish_non_exhaustive()
    }
}

impl TenantConnection {
    pub(crate) fn new(
        tenant: TenantId,
        router: Router,
        pool: Pool,
        backend: Arc<dyn Backend>,
        probe: Arc<dyn StatusProbe>,
    ) -> Self {
        TenantConnection {
            tenant,
            router: Arc::new(router),
            pool,
            backend,
            probe,
        }
    }

    /// The tenant every statement goes to.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The tenant's home: its schema (PostgreSQL), database (MySQL) or file
    /// stem (SQLite).
    pub fn home(&self) -> &str {
        &self.router.home
    }

    /// The SQL this connection would send for `sql`, without running it.
    ///
    /// # Errors
    /// [`Error::CrossTenantReference`] when `sql` names a tenant table in
    /// another tenant's home.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(tenancy: tenancy::Tenancy) -> tenancy::Result<()> {
    /// let acme = tenancy.tenant("acme")?;
    /// // On PostgreSQL: SELECT * FROM "tenant_acme".posts
    /// println!("{}", acme.routed_sql("SELECT * FROM posts")?);
    /// # Ok(()) }
    /// ```
    pub fn routed_sql<'a>(&self, sql: &'a str) -> Result<Cow<'a, str>, Error> {
        self.router.sql(sql)
    }

    /// The pool this tenant's statements run on (a clone: cheap). On SQLite
    /// the tenant's own pool, opened on first use and checked at every call
    /// against the tenant's file, so a home dropped or re-created by another
    /// process is never served from a stale pool. Statements sent to it
    /// directly are **not** routed.
    ///
    /// # Errors
    /// [`Error::TenantNotFound`] (as a `DbErr`) when the tenant's file is
    /// gone (SQLite); a database error when its pool cannot be opened.
    pub async fn unrouted_pool(&self) -> Result<DatabaseConnection, DbErr> {
        Ok(self.lease().await?.clone())
    }

    /// The pool for one statement or transaction (with affinity, counted
    /// in use until the lease drops).
    pub(crate) async fn lease(&self) -> Result<Lease, DbErr> {
        match &self.pool {
            Pool::Shared(db) => Ok(Lease::uncounted(db.clone())),
            Pool::Affine(pools, home) => Ok(pools.lease(*home)),
            Pool::PerTenant => self
                .backend
                .tenant_pool(self.home())
                .await
                .map(Lease::uncounted)
                .map_err(|e| self.own_error(e).into()),
        }
    }

    /// `err` with a missing home reported as this tenant not found.
    fn own_error(&self, err: Error) -> Error {
        match err {
            Error::TenantNotFound { .. } => Error::TenantNotFound {
                tenant: self.tenant.to_string(),
            },
            other => other,
        }
    }

    /// A statement failed: when it could not find a table, the tenant's
    /// current state decides the answer. Its home gone (dropped by this or
    /// another process), or its registry row gone or dropping: the tenant
    /// is not found; its row provisioning, or active but made less than
    /// [`SETTLING`] ago (re-created by another process while the statement
    /// ran against the previous home): [`Error::TenantProvisioning`], retry
    /// shortly; suspended: [`Error::TenantSuspended`]. Only for a tenant
    /// active for longer is the database's error returned (a table really
    /// missing from a serving tenant), so callers can answer 404, 403 or
    /// 503 instead of a database error.
    ///
    /// A deadlock or serialization victim is answered "not found" when the
    /// tenant is being dropped (the drop it lost to), and is the database's
    /// error otherwise.
    pub(crate) async fn explain(&self, pool: &DatabaseConnection, err: DbErr) -> DbErr {
        let missing = self.backend.is_missing_table(&err);
        if !missing && !self.backend.is_retryable(&err) {
            return err;
        }
        let tenant = self.tenant.to_string();
        if missing {
            match self.backend.home_exists(pool, self.home()).await {
                Ok(false) => return Error::TenantNotFound { tenant }.into(),
                Ok(true) => {}
                Err(_) => return err,
            }
        }
        match self.probe.status(&self.tenant).await {
            Ok(None | Some((TenantStatus::Dropping, _))) => Error::TenantNotFound { tenant }.into(),
            Ok(_) | Err(_) if !missing => err,
            Ok(Some((TenantStatus::Active, created))) => {
                if chrono::Utc::now().signed_duration_since(created) < SETTLING {
                    Error::TenantProvisioning { tenant }.into()
                } else {
                    err
                }
            }
            Ok(Some((TenantStatus::Suspended, _))) => Error::TenantSuspended { tenant }.into(),
            Ok(Some((TenantStatus::Provisioning, _))) => {
                Error::TenantProvisioning { tenant }.into()
            }
            Err(_) => err,
        }
    }

    /// Checks that the tenant's pool can reach the database.
    ///
    /// # Errors
    /// The database error when it cannot.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.unrouted_pool().await?.ping().await
    }

    /// `stmt` as this connection sends it.
    pub(crate) fn route(&self, stmt: Statement) -> Result<Statement, DbErr> {
        self.router.statement(stmt)
    }

    /// `txn` (begun on this tenant's pool) as a transaction of this tenant.
    pub(crate) fn wrap(&self, txn: sea_orm::DatabaseTransaction) -> TenantTransaction {
        TenantTransaction::new(self.tenant.clone(), self.router.clone(), txn, None)
    }

    /// [`TenantConnection::wrap`], the transaction holding the lease of
    /// its pool until it ends.
    fn wrap_held(&self, txn: sea_orm::DatabaseTransaction, lease: Lease) -> TenantTransaction {
        TenantTransaction::new(self.tenant.clone(), self.router.clone(), txn, Some(lease))
    }
}

routed_connection!(TenantConnection, sea_orm::QueryStream, |this| this
    .lease()
    .await?);

routed_transactions!(TenantConnection, |this| this.lease().await?);
