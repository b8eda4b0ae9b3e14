//! `tenancy_tenants`: one row per tenant, its status and metadata.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};

pub(super) use self::record::Entity;
use super::Store;
use crate::{
    error::Result,
    tenant::{TenantInfo, TenantStatus},
    tenant_id::TenantId,
};

mod record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenancy_tenants")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub(crate) id: i32,
        #[sea_orm(unique)]
        pub(crate) name: String,
        pub(crate) status: String,
        pub(crate) created_at: ChronoDateTimeUtc,
        pub(crate) metadata: Json,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use record::{ActiveModel, Column};

/// A registry row as stored: the name is not yet validated.
pub(crate) type TenantRow = record::Model;

impl TenantRow {
    /// The row as a [`TenantInfo`], given the id its name validates to.
    pub(crate) fn into_info(self, id: TenantId) -> TenantInfo {
        TenantInfo {
            id,
            status: TenantStatus::parse(&self.status),
            created_at: self.created_at,
            metadata: self.metadata,
        }
    }

    /// Its status.
    pub(crate) fn status(&self) -> TenantStatus {
        TenantStatus::parse(&self.status)
    }
}

/// A row to insert.
#[derive(Debug, Clone)]
pub(crate) struct NewTenant<'a> {
    pub(crate) id: &'a TenantId,
    pub(crate) status: TenantStatus,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) metadata: &'a serde_json::Value,
}

impl Store {
    /// The row of `id`.
    pub(crate) async fn tenant<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &TenantId,
    ) -> Result<Option<TenantRow>> {
        let query = Entity::find().filter(Column::Name.eq(id.as_str()));
        Ok(self.select(conn, query).await?.into_iter().next())
    }

    /// Reads one row: the registry is there and answers.
    pub(crate) async fn registry_readable(&self) -> Result<()> {
        let query = Entity::find().limit(1);
        self.select(self.db(), query).await.map(drop)
    }

    /// Every row, by name.
    pub(crate) async fn tenants(&self) -> Result<Vec<TenantRow>> {
        let query = Entity::find().order_by_asc(Column::Name);
        self.select(self.db(), query).await
    }

    /// At most `limit` rows by name, after `after`: one page.
    pub(crate) async fn tenants_after(
        &self,
        after: Option<&TenantId>,
        limit: u64,
    ) -> Result<Vec<TenantRow>> {
        let mut query = Entity::find().order_by_asc(Column::Name).limit(limit);
        if let Some(after) = after {
            query = query.filter(Column::Name.gt(after.as_str()));
        }
        self.select(self.db(), query).await
    }

    /// How many rows there are.
    pub(crate) async fn count_tenants(&self) -> Result<u64> {
        use sea_orm::FromQueryResult;
        #[derive(Debug, FromQueryResult)]
        struct Count {
            n: i64,
        }
        let query = Entity::find()
            .select_only()
            .column_as(Column::Id.count(), "n")
            .into_model::<Count>();
        let stmt = self
            .router
            .statement(query.into_statement(self.db().get_database_backend()))?;
        let count = Count::find_by_statement(stmt).one(self.db()).await?;
        Ok(count.map_or(0, |c| u64::try_from(c.n).unwrap_or(0)))
    }

    /// Inserts a row on `conn` (a duplicate name is a unique violation).
    pub(crate) async fn insert_tenant<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: &NewTenant<'_>,
    ) -> Result<()> {
        self.exec(conn, &insert(row)).await.map(drop)
    }

    /// [`Store::insert_tenant`] on the pool, retried on deadlocks.
    pub(crate) async fn insert_tenant_retrying(&self, row: &NewTenant<'_>) -> Result<()> {
        self.exec_retrying(&insert(row)).await.map(drop)
    }

    /// Deletes the row of `id` (whatever its status); the rows deleted.
    pub(crate) async fn delete_tenant<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &TenantId,
    ) -> Result<u64> {
        let query = Entity::delete_many().filter(Column::Name.eq(id.as_str()));
        self.exec(conn, &query).await
    }

    /// Deletes the row of `id` only while it has status `status`.
    pub(crate) async fn delete_tenant_in(
        &self,
        id: &TenantId,
        status: TenantStatus,
    ) -> Result<u64> {
        let query = Entity::delete_many()
            .filter(Column::Name.eq(id.as_str()))
            .filter(Column::Status.eq(status.as_str()));
        self.exec_retrying(&query).await
    }

    /// Moves the row of `id` from one of `from` to `to`; the rows changed.
    pub(crate) async fn set_status(
        &self,
        id: &TenantId,
        from: &[TenantStatus],
        to: TenantStatus,
    ) -> Result<u64> {
        let query = Entity::update_many()
            .col_expr(Column::Status, Expr::value(to.as_str()))
            .filter(Column::Name.eq(id.as_str()))
            .filter(Column::Status.is_in(from.iter().map(|s| s.as_str())));
        self.exec_retrying(&query).await
    }

    /// Replaces the metadata of `id` when its status is one of `of`; the
    /// rows changed.
    pub(crate) async fn set_metadata(
        &self,
        id: &TenantId,
        of: &[TenantStatus],
        metadata: serde_json::Value,
    ) -> Result<u64> {
        let query = Entity::update_many()
            .col_expr(Column::Metadata, Expr::value(metadata))
            .filter(Column::Name.eq(id.as_str()))
            .filter(Column::Status.is_in(of.iter().map(|s| s.as_str())));
        self.exec_retrying(&query).await
    }
}

fn insert(row: &NewTenant<'_>) -> sea_orm::Insert<ActiveModel> {
    Entity::insert(ActiveModel {
        name: Set(row.id.to_string()),
        status: Set(row.status.as_str().to_owned()),
        created_at: Set(row.created_at),
        metadata: Set(row.metadata.clone()),
        ..Default::default()
    })
}

impl crate::connection::StatusProbe for Store {
    fn status<'a>(
        &'a self,
        id: &'a TenantId,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<crate::connection::Probed>> + Send + 'a>>
    {
        Box::pin(async move {
            let row = self.tenant(self.db(), id).await?;
            Ok(row.map(|row| (row.status(), row.created_at)))
        })
    }
}
