//! [`TenantTransaction`]: a SeaORM transaction bound to one tenant.

use std::{fmt, sync::Arc};

use sea_orm::{DatabaseTransaction, DbErr, TransactionError, TransactionSession};

use super::{
    macros::{routed_connection, routed_transactions},
    router::Router,
};
use crate::tenant_id::TenantId;

/// A transaction of one tenant, from [`TenantConnection::begin`](sea_orm::TransactionTrait::begin)
/// or the `transaction` closures.
///
/// Statements are routed exactly as on the [`TenantConnection`](crate::TenantConnection).
/// Nested `begin` opens a savepoint and returns another `TenantTransaction`
/// of the same tenant, so SeaORM's nested saves stay in the tenant.
/// Dropping it without commit rolls back, as SeaORM's own transaction does.
pub struct TenantTransaction {
    tenant: TenantId,
    router: Arc<Router>,
    txn: DatabaseTransaction,
    /// Tenant affinity: the pool it runs on stays counted in use.
    _lease: Option<super::Lease>,
}

impl fmt::Debug for TenantTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantTransaction")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl TenantTransaction {
    pub(crate) fn new(
        tenant: TenantId,
        router: Arc<Router>,
        txn: DatabaseTransaction,
        lease: Option<super::Lease>,
    ) -> Self {
        TenantTransaction {
            tenant,
            router,
            txn,
            _lease: lease,
        }
    }

    /// The tenant every statement goes to.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Commits the transaction.
    ///
    /// # Errors
    /// The database error when the commit fails.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Rolls the transaction back.
    ///
    /// # Errors
    /// The database error when the rollback fails.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }

    /// Errors inside a transaction are the database's, as they are: the
    /// transaction keeps the tenant's home from being dropped under it.
    pub(crate) async fn explain(&self, _conn: &DatabaseTransaction, err: DbErr) -> DbErr {
        err
    }

    pub(super) fn wrap(&self, txn: DatabaseTransaction) -> TenantTransaction {
        TenantTransaction::new(self.tenant.clone(), self.router.clone(), txn, None)
    }

    /// A savepoint runs on this transaction's connection: nothing more to hold.
    fn wrap_held(&self, txn: DatabaseTransaction, _on: &DatabaseTransaction) -> TenantTransaction {
        self.wrap(txn)
    }
}

/// Runs `callback` on `txn`, then commits on `Ok` and rolls back on `Err`.
pub(crate) async fn run_transaction<F, T, E>(
    txn: TenantTransaction,
    callback: F,
) -> Result<T, TransactionError<E>>
where
    F: for<'c> AsyncFnOnce(&'c TenantTransaction) -> Result<T, E> + Send,
    T: Send,
    E: fmt::Display + fmt::Debug + Send,
{
    let result = callback(&txn).await;
    match result {
        Ok(value) => {
            txn.commit().await.map_err(TransactionError::Connection)?;
            Ok(value)
        }
        Err(err) => {
            txn.rollback().await.map_err(TransactionError::Connection)?;
            Err(TransactionError::Transaction(err))
        }
    }
}

routed_connection!(TenantTransaction, sea_orm::TransactionStream<'a>, |this| {
    &this.txn
});

#[async_trait::async_trait]
impl TransactionSession for TenantTransaction {
    async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

routed_transactions!(TenantTransaction, |this| &this.txn);
