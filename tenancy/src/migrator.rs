//! The application's tenant migrator, registered with
//! [`TenancyBuilder::migrator`](crate::TenancyBuilder::migrator) and kept
//! without its type, for health checks and on-demand creation.

use futures_util::future::BoxFuture;
use sea_orm_migration::MigratorTrait;

use crate::{error::Result, migrate::MigrationState, tenancy::Tenancy, tenant_id::TenantId};

/// A migrator `M` with its type erased.
pub(crate) struct ErasedMigrator {
    versions: fn() -> Vec<String>,
    status: fn(Tenancy, TenantId) -> BoxFuture<'static, Result<MigrationState>>,
    create_and_migrate: fn(Tenancy, TenantId) -> BoxFuture<'static, Result<Vec<String>>>,
}

impl std::fmt::Debug for ErasedMigrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErasedMigrator")
            .field("versions", &(self.versions)())
            .finish_non_exhaustive()
    }
}

fn versions<M: MigratorTrait>() -> Vec<String> {
    M::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

fn status<M: MigratorTrait + 'static>(
    t: Tenancy,
    id: TenantId,
) -> BoxFuture<'static, Result<MigrationState>> {
    Box::pin(async move { t.migrations::<M>().status(id.as_str()).await })
}

fn create_and_migrate<M: MigratorTrait + 'static>(
    t: Tenancy,
    id: TenantId,
) -> BoxFuture<'static, Result<Vec<String>>> {
    Box::pin(async move { t.migrations::<M>().create_and_migrate(id.as_str()).await })
}

impl ErasedMigrator {
    pub(crate) fn of<M: MigratorTrait + 'static>() -> Self {
        ErasedMigrator {
            versions: versions::<M>,
            status: status::<M>,
            create_and_migrate: create_and_migrate::<M>,
        }
    }

    /// The latest version the migrator knows.
    pub(crate) fn latest(&self) -> Option<String> {
        (self.versions)().pop()
    }

    pub(crate) fn status(
        &self,
        t: &Tenancy,
        id: &TenantId,
    ) -> BoxFuture<'static, Result<MigrationState>> {
        (self.status)(t.clone(), id.clone())
    }
}

impl Tenancy {
    /// Creates tenant `name` and runs the migrator registered with
    /// [`TenancyBuilder::migrator`](crate::TenancyBuilder::migrator) in it,
    /// as one unit (see
    /// [`Migrations::create_and_migrate`](crate::Migrations::create_and_migrate));
    /// with no migrator registered, the same as [`Tenancy::create`].
    /// Returns the versions applied.
    ///
    /// # Errors
    /// As [`Tenancy::create`], or [`Error::Migration`](crate::Error::Migration).
    pub async fn create_and_migrate(&self, name: &str) -> Result<Vec<String>> {
        match &self.migrator() {
            Some(m) => (m.create_and_migrate)(self.clone(), self.tenant_id(name)?).await,
            None => self.create(name).await.map(|_| Vec::new()),
        }
    }
}
