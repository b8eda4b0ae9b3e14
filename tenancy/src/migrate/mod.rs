//! Per-tenant migrations: the application's `sea-orm-migration` migrator
//! replayed in one tenant (`run.rs`, the algorithm; the dialect half is
//! `backend::migrate`), a list or all of them (`many.rs`), read back
//! (`status.rs`), and run as part of creating a tenant (`create.rs`).

mod batch;
mod create;
mod erased;
mod many;
mod report;
mod run;
mod status;
mod up;

use std::marker::PhantomData;

use sea_orm_migration::MigratorTrait;

pub(crate) use self::erased::ErasedMigrator;
pub use self::report::{
    MigrateOptions, MigrationOutcome, MigrationReport, OnFailure, TenantReport, Verb,
};
use crate::{error::Result, tenancy::Tenancy};

/// The tenant migrator `M` bound to a [`Tenancy`]; from [`Tenancy::migrations`].
pub struct Migrations<M> {
    tenancy: Tenancy,
    _migrator: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for Migrations<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrations").finish_non_exhaustive()
    }
}

impl<M> Clone for Migrations<M> {
    fn clone(&self) -> Self {
        Migrations {
            tenancy: self.tenancy.clone(),
            _migrator: PhantomData,
        }
    }
}

impl Tenancy {
    /// The per-tenant runner of migrator `M`.
    pub fn migrations<M: MigratorTrait>(&self) -> Migrations<M> {
        Migrations {
            tenancy: self.clone(),
            _migrator: PhantomData,
        }
    }

    /// Creates tenant `name` and runs the migrator registered with
    /// [`TenancyBuilder::migrator`](crate::TenancyBuilder::migrator) in it,
    /// as one unit (see [`Migrations::create_and_migrate`]); with no
    /// migrator registered, the same as [`Tenancy::create`]. Returns the
    /// versions applied.
    ///
    /// # Errors
    /// As [`Tenancy::create`], or [`Error::Migration`](crate::Error::Migration).
    ///
    /// # Examples
    /// ```
    /// # include!("../../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (shared, _dir) = setup().await;
    /// # let db = shared.inner().clone();
    /// use tenancy::Tenancy;
    /// let tenancy = Tenancy::builder(db).migrator::<Migrator>().build().await?;
    /// assert_eq!(tenancy.create_and_migrate("acme").await?, ["m20260101_000001_notes"]);
    /// let status = tenancy.migrations::<Migrator>().status("acme").await?;
    /// assert!(status.pending.is_empty());
    /// assert!(tenancy.create_and_migrate("acme").await.unwrap_err().is_exists());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_and_migrate(&self, name: &str) -> Result<Vec<String>> {
        self.create_and_migrate_id(&self.tenant_id(name)?).await
    }

    /// [`Tenancy::create_and_migrate`] for a validated tenant.
    pub(crate) async fn create_and_migrate_id(
        &self,
        id: &crate::tenant_id::TenantId,
    ) -> Result<Vec<String>> {
        match self.migrator() {
            Some(m) => m.create_and_migrate(self, id).await,
            None => self
                .create_of(id, serde_json::Value::Object(Default::default()))
                .await
                .map(|_| Vec::new()),
        }
    }
}
