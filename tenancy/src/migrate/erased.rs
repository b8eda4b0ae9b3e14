//! The migrator registered with
//! [`TenancyBuilder::migrator`](crate::TenancyBuilder::migrator), its type
//! erased behind the hub's `TenantMigrator`.

use std::marker::PhantomData;

use futures_util::future::BoxFuture;
use sea_orm_migration::MigratorTrait;

use crate::{
    error::Result,
    tenancy::{Tenancy, TenantMigrator},
    tenant::MigrationState,
    tenant_id::TenantId,
};

/// Migrator `M`, as a `TenantMigrator`.
pub(crate) struct ErasedMigrator<M>(PhantomData<fn() -> M>);

impl<M> ErasedMigrator<M> {
    pub(crate) fn new() -> Self {
        ErasedMigrator(PhantomData)
    }
}

impl<M: MigratorTrait + 'static> std::fmt::Debug for ErasedMigrator<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErasedMigrator")
            .field("latest", &self.latest())
            .finish()
    }
}

impl<M: MigratorTrait + 'static> TenantMigrator for ErasedMigrator<M> {
    fn latest(&self) -> Option<String> {
        M::migrations().last().map(|m| m.name().to_owned())
    }

    fn status<'a>(
        &'a self,
        t: &'a Tenancy,
        id: &'a TenantId,
    ) -> BoxFuture<'a, Result<MigrationState>> {
        Box::pin(async move { t.migrations::<M>().state_of(id).await })
    }

    fn up<'a>(&'a self, t: &'a Tenancy, id: &'a TenantId) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            t.migrations::<M>()
                .run_id(id, super::Verb::Up(None))
                .await
                .map_err(|(e, _)| e)
        })
    }

    fn create_and_migrate<'a>(
        &'a self,
        t: &'a Tenancy,
        id: &'a TenantId,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            t.migrations::<M>()
                .create_and_migrate_id(id, None::<super::create::NoSeed>)
                .await
        })
    }
}
