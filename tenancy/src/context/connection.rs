//! [`ContextualConnection`]: routes to the tenant of the current [`scope`](crate::scope).

use std::{fmt, future::Future, pin::Pin};

use sea_orm::{
    AccessMode, ConnectionTrait, DbBackend, DbErr, ExecResult, IsolationLevel, QueryResult,
    Statement, StreamTrait, TransactionError, TransactionOptions, TransactionTrait,
};

use super::{current, require_current};
use crate::{
    connection::{TenantConnection, TenantTransaction},
    tenancy::Tenancy,
};

/// A connection that resolves the tenant from the task-local
/// [`scope`](crate::scope) at each statement (and at `begin`, for the life
/// of the transaction). Outside a scope every call fails with
/// [`Error::NoTenant`](crate::Error::NoTenant) and nothing runs.
///
/// # Examples
/// ```no_run
/// # async fn run(tenancy: tenancy::Tenancy) -> Result<(), Box<dyn std::error::Error>> {
/// use sea_orm::ConnectionTrait;
/// let db = tenancy.contextual();
/// let acme = tenancy.tenant_id("acme")?;
/// tenancy::scope(acme, async {
///     db.execute_unprepared("DELETE FROM posts").await // acme's posts
/// })
/// .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ContextualConnection {
    tenancy: Tenancy,
}

impl fmt::Debug for ContextualConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextualConnection")
            .field("current", &current())
            .finish_non_exhaustive()
    }
}

impl Tenancy {
    /// A connection that follows the tenant of the current
    /// [`scope`](crate::scope) and fails with
    /// [`Error::NoTenant`](crate::Error::NoTenant) outside one.
    pub fn contextual(&self) -> ContextualConnection {
        ContextualConnection {
            tenancy: self.clone(),
        }
    }
}

impl ContextualConnection {
    /// The connection of the current tenant.
    ///
    /// # Errors
    /// [`Error::NoTenant`](crate::Error::NoTenant) outside a scope.
    pub fn resolve(&self) -> Result<TenantConnection, crate::error::Error> {
        self.tenancy.tenant_by_id(require_current()?)
    }

    fn conn(&self) -> Result<TenantConnection, DbErr> {
        self.resolve().map_err(DbErr::from)
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for ContextualConnection {
    fn get_database_backend(&self) -> DbBackend {
        self.tenancy.inner().get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.conn()?.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.conn()?.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.conn()?.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.conn()?.query_all_raw(stmt).await
    }
}

impl StreamTrait for ContextualConnection {
    type Stream<'a> = sea_orm::QueryStream;

    fn get_database_backend(&self) -> DbBackend {
        self.tenancy.inner().get_database_backend()
    }

    fn stream_raw<'a>(
        &'a self,
        stmt: Statement,
    ) -> Pin<Box<dyn Future<Output = Result<Self::Stream<'a>, DbErr>> + 'a + Send>> {
        Box::pin(async move {
            let conn = self.conn()?;
            let stmt = conn.route(stmt)?;
            let pool = conn.unrouted_pool().await?.clone();
            pool.stream_raw(stmt).await
        })
    }
}

#[async_trait::async_trait]
impl TransactionTrait for ContextualConnection {
    type Transaction = TenantTransaction;

    async fn begin(&self) -> Result<TenantTransaction, DbErr> {
        self.conn()?.begin().await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<TenantTransaction, DbErr> {
        self.conn()?
            .begin_with_config(isolation_level, access_mode)
            .await
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<TenantTransaction, DbErr> {
        self.conn()?.begin_with_options(options).await
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
        self.conn()?.transaction(callback).await
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
        self.conn()?
            .transaction_with_config(callback, isolation_level, access_mode)
            .await
    }
}
