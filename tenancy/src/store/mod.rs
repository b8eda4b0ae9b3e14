//! The library's own tables in the shared home (`tenancy_tenants`,
//! `tenancy_domains`): every statement goes through [`Store::exec`] or
//! [`Store::select`], which route it like any shared-table statement.

mod cache;
mod domains;
mod tenants;

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryTrait, Schema, Select,
    TransactionTrait,
};

pub(crate) use self::{
    cache::DomainCache,
    domains::Domain,
    tenants::{NewTenant, TenantRow},
};
use crate::{
    backend::{self, Backend},
    connection::Router,
    error::Result,
    retry::Retry,
};

/// The library's tables, reached through the shared pool.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    db: DatabaseConnection,
    router: Arc<Router>,
    backend: Arc<dyn Backend>,
    retry: Retry,
}

impl Store {
    pub(crate) fn new(
        db: DatabaseConnection,
        router: Arc<Router>,
        backend: Arc<dyn Backend>,
        retry: Retry,
    ) -> Self {
        Store {
            db,
            router,
            backend,
            retry,
        }
    }

    /// The shared pool.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Routes and runs `query` on `conn`; the rows it affected.
    pub(crate) async fn exec<C: ConnectionTrait>(
        &self,
        conn: &C,
        query: &impl QueryTrait,
    ) -> Result<u64> {
        let stmt = self
            .router
            .statement(query.build(conn.get_database_backend()))?;
        Ok(conn.execute_raw(stmt).await?.rows_affected())
    }

    /// [`Store::exec`] on the pool, outside any transaction, retried by the
    /// builder's [`Retry`] policy when the database refuses it as a
    /// deadlock victim or busy (MySQL's gap locks make concurrent creates
    /// and drops of one name collide). One statement in autocommit: a
    /// refused one did nothing.
    pub(crate) async fn exec_retrying(&self, query: &impl QueryTrait) -> Result<u64> {
        let mut attempt = 0;
        loop {
            match self.exec(&self.db, query).await {
                Err(crate::error::Error::Db(e))
                    if attempt < self.retry.retries && backend::is_conflict(&e) =>
                {
                    attempt += 1;
                    self.retry.wait(attempt).await;
                }
                other => return other,
            }
        }
    }

    /// Routes and runs `query` on `conn`; the models it selects.
    pub(crate) async fn select<E, C>(&self, conn: &C, query: Select<E>) -> Result<Vec<E::Model>>
    where
        E: EntityTrait,
        E::Model: FromQueryResult,
        C: ConnectionTrait,
    {
        let stmt = self
            .router
            .statement(query.build(conn.get_database_backend()))?;
        Ok(E::find().from_raw_sql(stmt).all(conn).await?)
    }

    /// Creates the library's tables when missing, one installer at a time.
    pub(crate) async fn install(&self) -> Result<()> {
        let backend = self.db.get_database_backend();
        let schema = Schema::new(backend);
        let txn = self.db.begin().await?;
        self.backend.lock_install(&txn).await?;
        for mut create in [
            schema.create_table_from_entity(tenants::Entity),
            schema.create_table_from_entity(domains::Entity),
        ] {
            let stmt = self
                .router
                .statement(backend.build(create.if_not_exists()))?;
            txn.execute_raw(stmt).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
