//! Where tenants stand against the migrator, read from their migration
//! tables (one tenant, or many in batches).

use sea_orm_migration::MigratorTrait;

use super::Migrations;
use crate::{error::Result, tenant::MigrationState, tenant_id::TenantId};

/// The name of `M`'s migration table (`seaql_migrations` unless `M`
/// overrides it).
fn table<M: MigratorTrait>() -> String {
    M::migration_table_name().to_string()
}

/// The state of `tenant` given the versions recorded in its table.
fn state<M: MigratorTrait>(tenant: TenantId, rows: Vec<String>) -> MigrationState {
    let known: Vec<String> = M::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    MigrationState {
        tenant,
        applied: known.iter().filter(|v| rows.contains(v)).cloned().collect(),
        pending: known
            .iter()
            .filter(|v| !rows.contains(v))
            .cloned()
            .collect(),
        unknown: rows.into_iter().filter(|v| !known.contains(v)).collect(),
    }
}

impl<M: MigratorTrait> Migrations<M> {
    /// Where tenant `name` stands against the migrator.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName) or a
    /// database error.
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
    /// assert_eq!(m.status("acme").await?.pending, ["m20260101_000001_notes"]);
    /// m.run("acme", Verb::Up(None)).await?;
    /// let state = m.status("acme").await?;
    /// assert!(state.pending.is_empty() && state.unknown.is_empty());
    /// assert_eq!(state.applied, ["m20260101_000001_notes"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status(&self, name: &str) -> Result<MigrationState> {
        self.state_of(&self.tenancy.tenant_id(name)?).await
    }

    /// Where `id` stands against the migrator.
    pub(crate) async fn state_of(&self, id: &TenantId) -> Result<MigrationState> {
        let t = &self.tenancy;
        let home = t.home(id)?;
        let rows = t.backend().applied(t.inner(), &home, &table::<M>()).await?;
        Ok(state::<M>(id.clone(), rows))
    }

    /// The last version applied in `id`, where it can be read.
    pub(super) async fn last_applied(&self, id: &TenantId) -> Option<String> {
        self.state_of(id).await.ok()?.applied.pop()
    }

    /// Where each of `tenants` stands against the migrator. On PostgreSQL
    /// and MySQL this is one catalog query and one `UNION ALL` per 500
    /// tenants, not a round trip per tenant; on SQLite each file is read.
    ///
    /// # Errors
    /// A database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::Verb;
    /// tenancy.create("acme").await?;
    /// tenancy.create("globex").await?;
    /// let m = tenancy.migrations::<Migrator>();
    /// m.run("acme", Verb::Up(None)).await?;
    /// let ids = [tenancy.tenant_id("acme")?, tenancy.tenant_id("globex")?];
    /// let states = m.status_many(&ids).await?; // in the order asked
    /// assert!(states[0].pending.is_empty());
    /// assert_eq!(states[1].pending, ["m20260101_000001_notes"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status_many(&self, tenants: &[TenantId]) -> Result<Vec<MigrationState>> {
        let t = &self.tenancy;
        let homes = tenants
            .iter()
            .map(|id| t.home(id))
            .collect::<Result<Vec<_>>>()?;
        let mut applied = t
            .backend()
            .applied_many(t.inner(), &homes, &table::<M>())
            .await?;
        Ok(tenants
            .iter()
            .zip(homes)
            .map(|(id, home)| state::<M>(id.clone(), applied.remove(&home).unwrap_or_default()))
            .collect())
    }
}
