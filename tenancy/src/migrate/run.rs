//! One tenant's run: the algorithm, which never names a database. What a
//! dialect must do is asked of `backend::migrate::Migrate`:
//!
//! - [`Session::Shared`] (PostgreSQL): one transaction on the shared pool,
//!   bound to the tenant (a per-tenant lock, its schema first in the
//!   search path for this transaction only), the migrator driven with
//!   `&txn`. A failure leaves the tenant exactly as it was.
//! - [`Session::DedicatedTransaction`] (SQLite): one transaction on the
//!   tenant's own file, checked before commit.
//! - [`Session::Dedicated`] (MySQL, and PostgreSQL migrations that declare
//!   `use_transaction() == Some(false)`): a connection of its own bound to
//!   the tenant, serialized by a per-tenant lock. MySQL commits each DDL
//!   statement: a failed run stops at the last good migration, which the
//!   report gives.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, TransactionTrait};
use sea_orm_migration::{IntoSchemaManagerConnection, MigratorTrait};

use super::{Migrations, Verb, batch::Batching, up};
use crate::{
    backend::Session,
    error::{Error, Result},
    events::{Operation, TenantEvent},
    tenant_id::TenantId,
};

/// A failed run: the error, and the last applied version where it was read.
pub(super) type Failure = (Error, Option<String>);

/// Versions applied in a tenant, read from its migration table through
/// `conn` (which the session has bound to the tenant).
pub(super) async fn applied<M: MigratorTrait, C: ConnectionTrait>(conn: &C) -> Result<Vec<String>> {
    Ok(up::applied::<M, C>(conn).await?)
}

/// Runs `verb` on `conn`; the versions whose state it changed. `Up` goes
/// through [`up::up`] (the versions it applied are known, nothing is read
/// again); the other verbs through sea-orm-migration, the table read before
/// and after.
async fn apply<M: MigratorTrait, C>(
    conn: &C,
    verb: Verb,
    scope: up::Scope,
    batching: &Batching<'_>,
) -> std::result::Result<Vec<String>, DbErr>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
    for<'c> &'c C: IntoSchemaManagerConnection<'c>,
{
    if let Verb::Up(steps) = verb {
        return up::up::<M, C>(conn, steps, scope, batching)
            .await
            .map(|(_, done)| done);
    }
    let before = up::applied::<M, C>(conn).await?;
    match verb {
        Verb::Down(steps) => M::down(conn, steps).await?,
        Verb::Fresh => M::fresh(conn).await?,
        Verb::Refresh => M::refresh(conn).await?,
        Verb::Reset => M::reset(conn).await?,
        Verb::Up(_) => {}
    }
    let after = up::applied::<M, C>(conn).await?;
    Ok(changed(&before, &after))
}

/// The versions in `after` not in `before`, and the other way round.
fn changed(before: &[String], after: &[String]) -> Vec<String> {
    let mut out: Vec<String> = after
        .iter()
        .filter(|v| !before.contains(v))
        .chain(before.iter().filter(|v| !after.contains(v)))
        .cloned()
        .collect();
    out.dedup();
    out
}

/// Whether every migration of `M` can run in a transaction.
pub(super) fn transactional<M: MigratorTrait>() -> bool {
    M::migrations()
        .iter()
        .all(|m| m.use_transaction() != Some(false))
}

/// `err` as the failure of tenant `id`'s migration.
pub(super) fn failed(id: &TenantId, err: Error) -> Error {
    Error::Migration {
        tenant: id.to_string(),
        source: Box::new(err),
    }
}

impl<M: MigratorTrait> Migrations<M> {
    /// Runs `verb` in tenant `name`, which must be registered.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`], or
    /// [`Error::Migration`] with the migrator's error.
    ///
    /// # Examples
    /// ```
    /// # include!("../../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::Verb;
    /// tenancy.create("acme").await?;
    /// let m = tenancy.migrations::<Migrator>();
    /// assert_eq!(m.run("acme", Verb::Up(None)).await?, ["m20260101_000001_notes"]);
    /// assert!(m.run("acme", Verb::Up(None)).await?.is_empty()); // nothing pending
    /// assert!(m.status("acme").await?.pending.is_empty());
    /// m.run("acme", Verb::Down(None)).await?;
    /// assert_eq!(m.status("acme").await?.pending.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run(&self, name: &str, verb: Verb) -> Result<Vec<String>> {
        let id = self.tenancy.tenant_id(name)?;
        if !self.tenancy.exists_id(&id).await? {
            return Err(Error::TenantNotFound {
                tenant: id.to_string(),
            });
        }
        self.run_id(&id, verb).await.map_err(|(e, _)| e)
    }

    /// Runs `verb` in a validated tenant (observed: span, metrics, hooks).
    pub(super) async fn run_id(
        &self,
        id: &TenantId,
        verb: Verb,
    ) -> std::result::Result<Vec<String>, Failure> {
        let mut last = None;
        let run = async {
            self.run_unobserved(id, verb).await.map_err(|(e, l)| {
                last = l;
                failed(id, e)
            })
        };
        let migrated = |changed: &Vec<String>| {
            vec![TenantEvent::Migrated {
                tenant: id.clone(),
                changed: changed.clone(),
            }]
        };
        let result = self
            .tenancy
            .observe(Operation::Migrate, id, run, migrated)
            .await;
        result.map_err(|e| (e, last))
    }

    async fn run_unobserved(
        &self,
        id: &TenantId,
        verb: Verb,
    ) -> std::result::Result<Vec<String>, Failure> {
        let t = &self.tenancy;
        let backend = t.backend();
        let db = t.inner();
        let home = t.home(id).map_err(|e| (e, None))?;
        match backend.session(transactional::<M>()) {
            Session::Shared => {
                let attempt = async |batching: &Batching<'_>| {
                    let txn = db.begin().await.map_err(|e| (Error::Db(e), None))?;
                    if let Err(e) = backend.bind(&txn, &home).await {
                        return Err((e, None));
                    }
                    self.in_transaction(id, txn, verb, batching).await
                };
                // Batched first; a failed batch (rolled back) is run again
                // one statement at a time, which names the statement that
                // failed. A deadlock victim (rolled back too) runs again.
                let mut retries = 0;
                loop {
                    let batching = Batching::on(backend);
                    let result = match attempt(&batching).await {
                        Err(_) if batching.failed() => attempt(&Batching::off()).await,
                        done => done,
                    };
                    match result {
                        Err((Error::Db(e), _))
                            if retries < t.retry().retries && backend.is_retryable(&e) =>
                        {
                            retries += 1;
                            tracing::debug!(tenant = %id, error = %e, retries, "migration chosen as a deadlock victim: running it again");
                            t.retry().wait(retries).await;
                        }
                        done => break done,
                    }
                }
            }
            Session::DedicatedTransaction => {
                let conn = backend
                    .migration_pool(db, &home)
                    .await
                    .map_err(|e| (e, None))?;
                let result = match backend.begin(&conn).await {
                    Ok(txn) => self.in_transaction(id, txn, verb, &Batching::off()).await,
                    Err(e) => Err((e, None)),
                };
                close(&conn).await;
                result
            }
            Session::Dedicated => {
                let conn = backend
                    .migration_pool(db, &home)
                    .await
                    .map_err(|e| (e, None))?;
                let result = async {
                    backend.lock(&conn, &home).await.map_err(|e| (e, None))?;
                    match apply::<M, _>(&conn, verb, up::Scope::Connection, &Batching::off()).await
                    {
                        Ok(changed) if changed.is_empty() => Ok(changed),
                        Ok(changed) => {
                            let complete = async {
                                let txn = conn.begin().await?;
                                backend.complete(&txn, &home).await?;
                                txn.commit().await?;
                                Ok::<_, Error>(())
                            };
                            complete.await.map_err(|e| (e, changed.last().cloned()))?;
                            Ok(changed)
                        }
                        Err(e) => {
                            // Each version was recorded as it was applied.
                            let after = applied::<M, _>(&conn).await.ok();
                            Err((Error::Db(e), after.and_then(|a| a.last().cloned())))
                        }
                    }
                }
                .await;
                close(&conn).await;
                result
            }
        }
    }

    /// Runs `verb` in a transaction bound to the tenant: committed when it
    /// succeeds, rolled back (the tenant unchanged) when it fails.
    async fn in_transaction(
        &self,
        id: &TenantId,
        txn: DatabaseTransaction,
        verb: Verb,
        batching: &Batching<'_>,
    ) -> std::result::Result<Vec<String>, Failure> {
        let result = async {
            let changed = apply::<M, _>(&txn, verb, up::Scope::Transaction, batching).await?;
            let backend = self.tenancy.backend();
            if !changed.is_empty() {
                backend.complete(&txn, &self.tenancy.home(id)?).await?;
            }
            backend.check(&txn).await?;
            Ok::<_, Error>(changed)
        }
        .await;
        match result {
            Ok(changed) => {
                txn.commit().await.map_err(|e| (Error::Db(e), None))?;
                Ok(changed)
            }
            Err(e) => {
                if let Err(rollback) = txn.rollback().await {
                    tracing::warn!(tenant = %id, error = %rollback, "rollback of a failed migration failed");
                }
                // A failed batch is retried by the caller: no report yet.
                let last = if batching.failed() {
                    None
                } else {
                    self.last_applied(id).await
                };
                Err((e, last))
            }
        }
    }
}

/// Closes a connection the run opened; a failure to close is only logged.
async fn close(conn: &sea_orm::DatabaseConnection) {
    if let Err(e) = conn.close_by_ref().await {
        tracing::warn!(error = %e, "closing a migration connection failed");
    }
}
