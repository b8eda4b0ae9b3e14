//! Creating a tenant and migrating it as one unit.

use sea_orm::{DbErr, TransactionTrait};
use sea_orm_migration::MigratorTrait;

use super::{
    Migrations, Verb,
    batch::Batching,
    run::{failed, transactional},
    up,
};
use crate::{
    backend::Session,
    connection::{TenantConnection, TenantTransaction},
    error::{Error, Result},
    events::{Operation, TenantEvent},
    tenancy::SeedFn,
    tenant_id::TenantId,
};

/// The type of "no seed" (never called).
pub(crate) type NoSeed = for<'c> fn(
    &'c TenantTransaction,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = std::result::Result<(), DbErr>> + Send + 'c>,
>;

/// The registered seeder, then `seed`, on `txn`.
async fn seed_with<F>(
    registered: Option<&SeedFn>,
    seed: Option<F>,
    txn: &TenantTransaction,
) -> std::result::Result<(), DbErr>
where
    F: for<'c> AsyncFnOnce(&'c TenantTransaction) -> std::result::Result<(), DbErr> + Send,
{
    if let Some(registered) = registered {
        registered(txn).await?;
    }
    if let Some(seed) = seed {
        seed(txn).await?;
    }
    Ok(())
}

impl<M: MigratorTrait> Migrations<M> {
    /// Creates tenant `name` and migrates it, as one unit: on PostgreSQL the
    /// registry row, the schema and every migration share one transaction;
    /// elsewhere a failure drops what was made. Nothing half-made survives.
    ///
    /// # Errors
    /// As [`Tenancy::create`](crate::Tenancy::create), or [`Error::Migration`].
    ///
    /// # Examples
    /// ```
    /// # include!("../../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// let m = tenancy.migrations::<Migrator>();
    /// let applied = m.create_and_migrate("acme").await?;
    /// assert_eq!(applied, ["m20260101_000001_notes"]);
    /// assert!(tenancy.exists("acme").await?);
    /// // A failed seed leaves no tenant behind.
    /// let failed = m
    ///     .create_and_migrate_with("globex", async |_txn| {
    ///         Err(sea_orm::DbErr::Custom("no seed today".into()))
    ///     })
    ///     .await;
    /// assert!(failed.is_err());
    /// assert!(!tenancy.exists("globex").await? && !tenancy.home_exists("globex").await?);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_and_migrate(&self, name: &str) -> Result<Vec<String>> {
        self.create_and_migrate_id(&self.tenancy.tenant_id(name)?, None::<NoSeed>)
            .await
    }

    /// [`Migrations::create_and_migrate`], then `seed` in a transaction of
    /// the new tenant, in the same unit: when seeding fails, the tenant is
    /// not created.
    ///
    /// # Errors
    /// As [`Tenancy::create`](crate::Tenancy::create), or
    /// [`Error::Migration`] (also for a failed seed).
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
    /// let tenancy = Tenancy::builder(db).table("notes", Scope::Tenant).build().await?;
    /// let m = tenancy.migrations::<Migrator>();
    /// m.create_and_migrate_with("acme", async |txn| {
    ///     txn.execute_unprepared("INSERT INTO notes (id) VALUES (1)").await?;
    ///     Ok(())
    /// })
    /// .await?;
    /// let acme = tenancy.connect("acme").await?;
    /// let notes = Statement::from_string(acme.get_database_backend(), "SELECT id FROM notes");
    /// assert_eq!(acme.query_all_raw(notes).await?.len(), 1); // the seeded row
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_and_migrate_with<F>(&self, name: &str, seed: F) -> Result<Vec<String>>
    where
        F: for<'c> AsyncFnOnce(&'c TenantTransaction) -> std::result::Result<(), DbErr> + Send,
    {
        self.create_and_migrate_id(&self.tenancy.tenant_id(name)?, Some(seed))
            .await
    }

    /// [`Migrations::create_and_migrate_with`] for a validated tenant.
    pub(crate) async fn create_and_migrate_id<F>(
        &self,
        id: &TenantId,
        seed: Option<F>,
    ) -> Result<Vec<String>>
    where
        F: for<'c> AsyncFnOnce(&'c TenantTransaction) -> std::result::Result<(), DbErr> + Send,
    {
        let t = &self.tenancy;
        let conn = t.connection(id)?;
        if t.backend().session(transactional::<M>()) == Session::Shared {
            let events = |versions: &Vec<String>| {
                vec![
                    TenantEvent::Created { tenant: id.clone() },
                    TenantEvent::Migrated {
                        tenant: id.clone(),
                        changed: versions.clone(),
                    },
                ]
            };
            let unit = self.create_and_migrate_in_transaction(id, &conn, seed);
            return t.observe(Operation::Create, id, unit, events).await;
        }
        // The row stays `provisioning` until the migrations and the seed
        // are done; a failure removes the home and the row.
        let mut versions = Vec::new();
        t.create_prepared(id, async || {
            versions = self.run_id(id, Verb::Up(None)).await.map_err(|(e, _)| e)?;
            if t.seeder().is_some() || seed.is_some() {
                let seeding = conn.begin().await?;
                seed_with(t.seeder(), seed, &seeding)
                    .await
                    .map_err(|e| failed(id, Error::Db(e)))?;
                seeding.commit().await?;
            }
            Ok(())
        })
        .await?;
        Ok(versions)
    }

    /// [`Session::Shared`]: the registry row, the home, every migration and
    /// the seed in one transaction.
    async fn create_and_migrate_in_transaction<F>(
        &self,
        id: &TenantId,
        conn: &TenantConnection,
        seed: Option<F>,
    ) -> Result<Vec<String>>
    where
        F: for<'c> AsyncFnOnce(&'c TenantTransaction) -> std::result::Result<(), DbErr> + Send,
    {
        let t = &self.tenancy;
        let home = t.home(id)?;
        let mut seed = seed;
        // A seed runs once: a run that got as far as the seed is not retried.
        let seeded = std::sync::atomic::AtomicBool::new(false);
        let mut attempt = async |batching: &Batching<'_>| -> Result<Vec<String>> {
            let txn = t.inner().begin().await?;
            t.create_in(&txn, id).await?;
            let result = async {
                t.backend().bind(&txn, &home).await?;
                let (_, versions) =
                    up::up::<M, _>(&txn, None, up::Scope::FreshHome, batching).await?;
                if !versions.is_empty() {
                    t.backend().complete(&txn, &home).await?;
                }
                if t.seeder().is_some() || seed.is_some() {
                    seeded.store(true, std::sync::atomic::Ordering::Relaxed);
                    let seeding = conn.wrap(txn.begin().await?);
                    seed_with(t.seeder(), seed.take(), &seeding).await?;
                    seeding.commit().await?;
                }
                Ok::<_, Error>(versions)
            }
            .await;
            match result {
                Ok(versions) => {
                    txn.commit().await?;
                    Ok(versions)
                }
                Err(e) => {
                    if let Err(rollback) = txn.rollback().await {
                        tracing::warn!(tenant = %id, error = %rollback, "rollback of a failed create failed");
                    }
                    Err(failed(id, e))
                }
            }
        };
        // Batched first; a failed batch (nothing of it kept) is run again
        // one statement at a time, which names the statement that failed.
        // A deadlock victim (rolled back: no row, no home) runs again.
        let backend = t.backend();
        let mut retries = 0;
        loop {
            let batching = Batching::on(backend);
            let result = match attempt(&batching).await {
                Err(_) if batching.failed() => attempt(&Batching::off()).await,
                done => done,
            };
            match result {
                Err(Error::Migration { source, .. })
                    if retries < t.retry().retries
                        && !seeded.load(std::sync::atomic::Ordering::Relaxed)
                        && matches!(&*source, Error::Db(e) if backend.is_retryable(e)) =>
                {
                    retries += 1;
                    t.retry().wait(retries).await;
                }
                done => break done,
            }
        }
    }
}
