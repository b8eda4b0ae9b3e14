//! [`Retry::transaction`]: a closure in a transaction, run again in a new
//! one when the database refused it for a transient reason.

use std::{future::Future, pin::Pin};

use sea_orm::{AccessMode, DbErr, IsolationLevel, TransactionSession, TransactionTrait};

use crate::{backend, retry::Retry};

/// The work of one attempt, on its transaction.
type Attempt<'c, T> = Pin<Box<dyn Future<Output = Result<T, DbErr>> + Send + 'c>>;

impl Retry {
    /// Runs `work` in a transaction of `conn` (a
    /// [`TenantConnection`](crate::TenantConnection), a
    /// `DatabaseConnection`, any SeaORM `TransactionTrait`) and commits; when
    /// the database refuses it as a serialization failure or deadlock, a
    /// busy SQLite file, or the connection is lost before `COMMIT`, rolls
    /// back and runs `work` again in a new transaction, after a pause, up to
    /// [`Retry::retries`] times.
    ///
    /// `work` may run more than once: keep effects outside the database
    /// (emails, calls to other services) out of it. Not retried: errors of
    /// the work itself, and a connection lost during `COMMIT`, whose
    /// outcome is unknown.
    ///
    /// Give it a connection, not a transaction: inside one, each attempt
    /// is a savepoint, and a deadlock or serialization failure has already
    /// ended (MySQL) or doomed (PostgreSQL) the outer transaction, so
    /// running the work again there cannot succeed.
    ///
    /// # Errors
    /// The error of the last attempt.
    ///
    /// # Examples
    /// ```
    /// # include!("../../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (shared, _dir) = setup().await;
    /// # let db = shared.inner().clone();
    /// use sea_orm::ConnectionTrait;
    /// use tenancy::{Retry, Scope, Tenancy};
    /// let tenancy = Tenancy::builder(db).table("notes", Scope::Tenant).build().await?;
    /// tenancy.migrations::<Migrator>().create_and_migrate("acme").await?;
    /// let acme = tenancy.tenant("acme")?;
    /// let inserted = Retry::default()
    ///     .transaction(&acme, |txn| {
    ///         Box::pin(async move {
    ///             txn.execute_unprepared("INSERT INTO notes (id) VALUES (7)").await?;
    ///             Ok(7)
    ///         })
    ///     })
    ///     .await?;
    /// assert_eq!(inserted, 7);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn transaction<C, T, F>(&self, conn: &C, work: F) -> Result<T, DbErr>
    where
        C: TransactionTrait,
        T: Send,
        F: for<'c> FnMut(&'c C::Transaction) -> Attempt<'c, T> + Send,
    {
        self.transaction_with(conn, None, work).await
    }

    /// [`Retry::transaction`] at an isolation level (`Serializable` is the
    /// usual partner of a retry on PostgreSQL).
    ///
    /// # Errors
    /// As [`Retry::transaction`].
    pub async fn transaction_with<C, T, F>(
        &self,
        conn: &C,
        isolation: Option<IsolationLevel>,
        mut work: F,
    ) -> Result<T, DbErr>
    where
        C: TransactionTrait,
        T: Send,
        F: for<'c> FnMut(&'c C::Transaction) -> Attempt<'c, T> + Send,
    {
        let mut attempt = 0;
        loop {
            let err = match conn.begin_with_config(isolation, None::<AccessMode>).await {
                Err(e) => e,
                Ok(txn) => match work(&txn).await {
                    Err(e) => {
                        // Best effort: a lost connection has rolled it back.
                        let _rolled_back = txn.rollback().await;
                        e
                    }
                    Ok(value) => match txn.commit().await {
                        Ok(()) => return Ok(value),
                        // Refused at commit (serialization): rolled back.
                        Err(e) if backend::is_conflict(&e) => e,
                        // Lost during commit: it may have committed.
                        Err(e) => return Err(e),
                    },
                },
            };
            let transient = backend::is_conflict(&err) || backend::is_lost_connection(&err);
            if !transient || attempt >= self.retries {
                return Err(err);
            }
            attempt += 1;
            tracing::debug!(error = %err, attempt, "transient failure: running the transaction again");
            self.wait(attempt).await;
        }
    }
}

/// [`Retry::transaction`] with the default policy ([`Retry::default`]).
///
/// # Errors
/// As [`Retry::transaction`].
pub async fn transaction_with_retry<C, T, F>(conn: &C, work: F) -> Result<T, DbErr>
where
    C: TransactionTrait,
    T: Send,
    F: for<'c> FnMut(&'c C::Transaction) -> Attempt<'c, T> + Send,
{
    Retry::default().transaction(conn, work).await
}
