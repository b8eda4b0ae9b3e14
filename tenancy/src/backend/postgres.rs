//! PostgreSQL: one schema per tenant on the shared pool.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use super::Backend;
use crate::{
    error::Result,
    rewrite::{Dialect, Route},
};

/// Shared tables live in `shared_schema` (default `public`); tenant tables in
/// the tenant's schema. Every table reference is qualified, so no statement
/// depends on `search_path`.
#[derive(Debug)]
pub(crate) struct Postgres {
    shared_schema: String,
}

impl Postgres {
    pub(crate) fn new(shared_schema: Option<String>) -> Self {
        Postgres {
            shared_schema: shared_schema.unwrap_or_else(|| "public".to_owned()),
        }
    }
}

#[async_trait::async_trait]
impl Backend for Postgres {
    fn route(&self, home: &str) -> Route {
        Route::new(Dialect::Postgres, home, true, Some(&self.shared_schema))
    }

    fn shared_home(&self) -> &str {
        &self.shared_schema
    }

    fn shared_route(&self) -> Route {
        Route::new(Dialect::Postgres, "", false, Some(&self.shared_schema))
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    fn create_home_sql(&self, home: &str) -> Option<String> {
        Some(format!("CREATE SCHEMA {}", Dialect::Postgres.quote(home)))
    }

    fn drop_home_sql(&self, home: &str) -> Option<String> {
        Some(format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            Dialect::Postgres.quote(home)
        ))
    }

    async fn create_home(&self, db: &DatabaseConnection, home: &str) -> Result<()> {
        if let Some(sql) = self.create_home_sql(home) {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn drop_home(&self, db: &DatabaseConnection, home: &str) -> Result<()> {
        if let Some(sql) = self.drop_home_sql(home) {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    /// For migrations that cannot run in a transaction (`CREATE INDEX
    /// CONCURRENTLY`): a dedicated one-connection pool whose `search_path`
    /// is the tenant's schema, then the shared one. Never the shared pool.
    async fn migration_pool(
        &self,
        db: &DatabaseConnection,
        home: &str,
    ) -> Result<DatabaseConnection> {
        let search_path = format!(
            "{},{}",
            Dialect::Postgres.quote(home),
            Dialect::Postgres.quote(&self.shared_schema)
        );
        let options = db
            .get_postgres_connection_pool()
            .connect_options()
            .as_ref()
            .clone()
            .options([("search_path", search_path.as_str())]);
        let pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(super::sqlx_err)?;
        Ok(sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(
            pool,
        ))
    }

    async fn home_exists(&self, db: &DatabaseConnection, home: &str) -> Result<bool> {
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
            [home.into()],
        );
        Ok(db.query_one_raw(stmt).await?.is_some())
    }

    async fn table_count(&self, db: &DatabaseConnection, home: &str) -> Result<u64> {
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            [home.into()],
        );
        super::count(db, stmt).await
    }
}
