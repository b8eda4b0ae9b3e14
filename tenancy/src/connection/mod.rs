//! [`TenantConnection`], [`TenantTransaction`] and [`ContextualConnection`]:
//! SeaORM connections bound to one tenant.

mod contextual;
mod macros;
pub(crate) mod router;
mod transaction;

use std::{borrow::Cow, fmt, future::Future, pin::Pin, sync::Arc};

use sea_orm::{
    AccessMode, DatabaseConnection, DbErr, IsolationLevel, Statement, StreamTrait,
    TransactionError, TransactionOptions, TransactionTrait,
};
use tokio::sync::OnceCell;

pub use self::{contextual::ContextualConnection, transaction::TenantTransaction};
use self::{macros::routed_connection, router::Router, transaction::run_transaction};
use crate::{error::Error, tenancy::Tenancy, tenant_id::TenantId};

/// A SeaORM connection bound to one tenant.
///
/// It implements `ConnectionTrait`, `StreamTrait` and `TransactionTrait`, so
/// every SeaORM call that takes a `DatabaseConnection` takes it too. Each
/// statement is rewritten so that tenant-scoped tables resolve in this
/// tenant's home and shared tables in the shared home; nothing else changes,
/// and no session state (`search_path`, `USE`) is involved.
///
/// Get one from [`Tenancy::tenant`] (no I/O) or [`Tenancy::connect`] (checks
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
    db: Arc<OnceCell<DatabaseConnection>>,
    tenancy: Tenancy,
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
        db: Option<DatabaseConnection>,
        tenancy: Tenancy,
    ) -> Self {
        TenantConnection {
            tenant,
            router: Arc::new(router),
            db: Arc::new(OnceCell::new_with(db)),
            tenancy,
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

    /// The [`Tenancy`] this connection came from.
    pub fn tenancy(&self) -> &Tenancy {
        &self.tenancy
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

    /// The pool this tenant's statements run on (opened on first use for
    /// SQLite). Statements sent to it directly are **not** routed.
    ///
    /// # Errors
    /// A database error when the tenant's pool cannot be opened (SQLite: the
    /// tenant's file does not exist).
    pub async fn unrouted_pool(&self) -> Result<&DatabaseConnection, DbErr> {
        self.db
            .get_or_try_init(|| async {
                let backend = self.tenancy.backend();
                backend.tenant_pool(self.home()).await.map_err(DbErr::from)
            })
            .await
    }

    /// Checks that the tenant's pool can reach the database.
    ///
    /// # Errors
    /// The database error when it cannot.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.unrouted_pool().await?.ping().await
    }

    /// Runs `callback` in a transaction of this tenant: committed when it
    /// returns `Ok`, rolled back otherwise (the `AsyncFnOnce` counterpart of
    /// [`TransactionTrait::transaction`]).
    ///
    /// # Errors
    /// [`TransactionError::Connection`] when begin, commit or rollback fail;
    /// [`TransactionError::Transaction`] with the callback's error.
    pub async fn transaction_async<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> AsyncFnOnce(&'c TenantTransaction) -> Result<T, E> + Send,
        T: Send,
        E: fmt::Display + fmt::Debug + Send,
    {
        let txn = self.begin().await.map_err(TransactionError::Connection)?;
        run_transaction(txn, callback).await
    }

    pub(crate) fn wrap(&self, txn: sea_orm::DatabaseTransaction) -> TenantTransaction {
        TenantTransaction::new(self.tenant.clone(), self.router.clone(), txn)
    }
}

routed_connection!(TenantConnection, |this| this.unrouted_pool().await?);

impl StreamTrait for TenantConnection {
    type Stream<'a> = sea_orm::QueryStream;

    fn get_database_backend(&self) -> sea_orm::DbBackend {
        self.router.backend()
    }

    fn stream_raw<'a>(
        &'a self,
        stmt: Statement,
    ) -> Pin<Box<dyn Future<Output = Result<Self::Stream<'a>, DbErr>> + 'a + Send>> {
        Box::pin(async move {
            let stmt = self.router.statement(stmt)?;
            self.unrouted_pool().await?.stream_raw(stmt).await
        })
    }
}

#[async_trait::async_trait]
impl TransactionTrait for TenantConnection {
    type Transaction = TenantTransaction;

    async fn begin(&self) -> Result<TenantTransaction, DbErr> {
        Ok(self.wrap(self.unrouted_pool().await?.begin().await?))
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<TenantTransaction, DbErr> {
        let db = self.unrouted_pool().await?;
        Ok(self.wrap(db.begin_with_config(isolation_level, access_mode).await?))
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<TenantTransaction, DbErr> {
        let db = self.unrouted_pool().await?;
        Ok(self.wrap(db.begin_with_options(options).await?))
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c TenantTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: fmt::Display + fmt::Debug + Send,
    {
        let txn = self.begin().await.map_err(TransactionError::Connection)?;
        run_transaction(txn, async move |t| callback(t).await).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c TenantTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: fmt::Display + fmt::Debug + Send,
    {
        let txn = self
            .begin_with_config(isolation_level, access_mode)
            .await
            .map_err(TransactionError::Connection)?;
        run_transaction(txn, async move |t| callback(t).await).await
    }
}
