//! Scaling out with Citus: the same application on a cluster, each tenant
//! schema placed whole on one worker ("schema-based sharding").
//!
//! Point the `DatabaseConnection` at the coordinator and the builder
//! detects the `citus` extension (or force it with
//! [`TenancyBuilder::citus`](crate::TenancyBuilder::citus)): every tenant
//! schema is then distributed when it is made, migrations run through the
//! coordinator, and the methods here say where tenants live and move them.
//! A worker is refused at build. In the shared migrator, make the shared
//! tables that tenant tables join or point at reference tables with
//! [`reference_table`] (a no-op on plain PostgreSQL, MySQL and SQLite), and
//! run [`Tenancy::cluster_lint`] in CI to find what the cluster would refuse.

pub use crate::cluster::{Lint, Move, Node, Transfer};
use crate::{
    backend::Cluster,
    error::{Error, Result},
    registry::{DOMAINS_TABLE, TENANTS_TABLE},
    tenancy::Tenancy,
    tenant::TenantStatus,
    tenant_id::TenantId,
};

/// Makes `table` (`name`, or `schema.name`) a Citus reference table, a copy
/// on every node, so that tenant tables can join it on their worker and
/// hold foreign keys into it. Call it from the shared migrator after
/// creating the table: `Ok(true)` when it became one now, `Ok(false)` when
/// it already was or the database is not a Citus cluster (so the same
/// migration runs on plain PostgreSQL, MySQL and SQLite).
///
/// # Errors
/// [`Error::Config`] when the table does not exist; a database error.
///
/// # Examples
/// ```no_run
/// use sea_orm_migration::prelude::*;
///
/// # struct Migration;
/// # impl MigrationName for Migration { fn name(&self) -> &str { "m1" } }
/// #[async_trait::async_trait]
/// impl MigrationTrait for Migration {
///     async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
///         manager
///             .create_table(
///                 Table::create()
///                     .table("billing_plans")
///                     .col(ColumnDef::new("id").big_integer().primary_key().auto_increment())
///                     .col(ColumnDef::new("name").string().not_null())
///                     .to_owned(),
///             )
///             .await?;
///         tenancy::citus::reference_table(manager.get_connection(), "billing_plans")
///             .await
///             .map_err(|e| DbErr::Migration(e.to_string()))?;
///         Ok(())
///     }
/// }
/// ```
pub async fn reference_table<C>(conn: &C, table: &str) -> Result<bool>
where
    C: sea_orm::ConnectionTrait + ?Sized,
{
    #[cfg(feature = "postgres")]
    {
        crate::backend::citus::reference_table(conn, table).await
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = (conn, table);
        Ok(false)
    }
}

impl Tenancy {
    /// Whether tenants are spread over a Citus cluster.
    pub fn is_distributed(&self) -> bool {
        self.backend().cluster().is_some()
    }

    fn cluster(&self) -> Result<&dyn Cluster> {
        self.backend().cluster().ok_or_else(|| {
            Error::Config("tenants are not distributed: this is not a Citus coordinator".to_owned())
        })
    }

    /// The nodes that hold tenants (the coordinator holds none).
    ///
    /// # Errors
    /// [`Error::Config`] when tenants are not distributed; a database error.
    pub async fn nodes(&self) -> Result<Vec<Node>> {
        self.cluster()?.nodes(self.inner()).await
    }

    /// The node that holds tenant `name`; `None` while its home has no
    /// table yet (Citus places a schema with its first table).
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`],
    /// [`Error::Config`] when tenants are not distributed; a database error.
    pub async fn placement(&self, name: &str) -> Result<Option<Node>> {
        let id = self.tenant_id(name)?;
        let cluster = self.cluster()?;
        if !self.exists_id(&id).await? {
            return Err(id.not_found());
        }
        let home = self.home(&id)?;
        let mut rows = cluster.placements(self.inner(), Some(&home)).await?;
        Ok(rows.pop().map(|(_, node)| node))
    }

    /// The node of every registered tenant that has one, by name.
    ///
    /// # Errors
    /// [`Error::Config`] when tenants are not distributed; a database error.
    pub async fn placements(&self) -> Result<Vec<(TenantId, Node)>> {
        let cluster = self.cluster()?;
        let homes = cluster.placements(self.inner(), None).await?;
        let mut out = Vec::new();
        for tenant in self.list().await? {
            let home = self.home(&tenant.id)?;
            if let Ok(i) = homes.binary_search_by(|(h, _)| h.as_str().cmp(&home)) {
                out.push((tenant.id, homes[i].1.clone()));
            }
        }
        Ok(out)
    }

    /// Moves tenant `name`, every table and row, to node `to`
    /// (`citus_schema_move`); its statements keep working through the
    /// coordinator. Nothing to do when it is there already.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`] (also for a
    /// tenant being created or dropped), [`Error::Config`] when tenants are
    /// not distributed, `to` is not a node holding tenants, or the tenant
    /// has no table yet; a database error.
    pub async fn move_tenant(&self, name: &str, to: &Node, transfer: Transfer) -> Result<()> {
        let id = self.tenant_id(name)?;
        let cluster = self.cluster()?;
        let db = self.inner();
        let status = self.info_id(&id).await?.map(|t| t.status);
        if !matches!(status, Some(TenantStatus::Active | TenantStatus::Suspended)) {
            return Err(id.not_found());
        }
        if !cluster.nodes(db).await?.contains(to) {
            return Err(Error::Config(format!(
                "{to} is not a node that holds tenants"
            )));
        }
        let home = self.home(&id)?;
        match cluster.placements(db, Some(&home)).await?.pop() {
            None => Err(Error::Config(format!(
                "tenant {id} has no table yet: nothing to move"
            ))),
            Some((_, at)) if at == *to => Ok(()),
            Some(_) => cluster.move_home(db, &home, to, transfer).await,
        }
    }

    /// The moves [`Tenancy::rebalance`] would make now, one per tenant.
    ///
    /// # Errors
    /// [`Error::Config`] when tenants are not distributed; a database error.
    pub async fn rebalance_plan(&self) -> Result<Vec<Move>> {
        self.cluster()?.rebalance_plan(self.inner()).await
    }

    /// Spreads the tenants evenly over the nodes (Citus's rebalancer,
    /// synchronous); the moves it made. Citus refuses to start while a
    /// shard move or copy is under way: the error says so; run it again.
    ///
    /// # Errors
    /// [`Error::Config`] when tenants are not distributed; a database error.
    pub async fn rebalance(&self, transfer: Transfer) -> Result<Vec<Move>> {
        self.cluster()?.rebalance(self.inner(), transfer).await
    }

    /// What the cluster refuses or gets wrong in the current schema (see
    /// [`Lint`]): shared tables that are not reference tables, foreign keys
    /// from shared tables into tenants, `integer` sequence keys and
    /// triggers in tenant tables. Empty when all is well; run it in CI
    /// against a migrated cluster.
    ///
    /// # Errors
    /// [`Error::Config`] when tenants are not distributed; a database error.
    pub async fn cluster_lint(&self) -> Result<Vec<Lint>> {
        // The library's own tables are read on the coordinator only.
        let mut shared = self.shared_tables();
        shared.retain(|t| ![TENANTS_TABLE, DOMAINS_TABLE].contains(t));
        self.cluster()?.lint(self.inner(), &shared).await
    }
}
