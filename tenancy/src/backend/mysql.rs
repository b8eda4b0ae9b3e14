//! MySQL and MariaDB: one database per tenant on the shared pool.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use super::{
    Backend,
    migrate::{self, Migrate, Session},
};
use crate::{
    dialect::Dialect,
    error::{Error, Result},
    rewrite::{Catalogs, Route},
};

/// Shared tables live in the pool's own database (the one the URL selects);
/// tenant tables in the tenant's database. Every table reference is
/// qualified, so no statement depends on `USE`.
/// MySQL's system schemas and `DUAL`.
const CATALOGS: Catalogs = Catalogs {
    schemas: &["information_schema", "mysql", "performance_schema", "sys"],
    prefixes: &[],
    tables: &["dual"],
};

#[derive(Debug)]
pub(crate) struct MySql {
    shared_database: String,
}

impl MySql {
    pub(crate) async fn detect(db: &DatabaseConnection) -> Result<Self> {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::MySql,
                "SELECT DATABASE()",
            ))
            .await?;
        let shared_database: Option<String> = match row {
            Some(row) => row.try_get_by_index(0)?,
            None => None,
        };
        let shared_database = shared_database.ok_or_else(|| {
            Error::Config(
                "the mysql connection must select a database (it holds the shared tables)"
                    .to_owned(),
            )
        })?;
        Ok(MySql { shared_database })
    }
}

#[async_trait::async_trait]
impl Backend for MySql {
    fn route(&self, home: &str) -> Route {
        Route::qualified(Dialect::MySql, home, &self.shared_database).with_catalogs(CATALOGS)
    }

    fn shared_home(&self) -> &str {
        &self.shared_database
    }

    fn shared_route(&self) -> Route {
        Route::shared(Dialect::MySql, Some(&self.shared_database))
    }

    async fn create_home(&self, db: &DatabaseConnection, home: &str) -> Result<()> {
        let sql = format!(
            "CREATE DATABASE {} CHARACTER SET utf8mb4",
            Dialect::MySql.quote(home)
        );
        db.execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn migration_pool(
        &self,
        db: &DatabaseConnection,
        home: &str,
    ) -> Result<DatabaseConnection> {
        let options = db
            .get_mysql_connection_pool()
            .connect_options()
            .as_ref()
            .clone()
            .database(home);
        let pool = sea_orm::sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(super::sqlx_err)?;
        Ok(sea_orm::SqlxMySqlConnector::from_sqlx_mysql_pool(pool))
    }

    fn affinity_pools(
        &self,
        db: &DatabaseConnection,
        per_pool: u32,
        cache: usize,
    ) -> Vec<DatabaseConnection> {
        if db.is_mock_connection() {
            return Vec::new();
        }
        let set = |o: sea_orm::sqlx::mysql::MySqlConnectOptions, c| o.statement_cache_capacity(c);
        super::affinity_pools_of(db.get_mysql_connection_pool(), per_pool, cache, set)
            .into_iter()
            .map(sea_orm::SqlxMySqlConnector::from_sqlx_mysql_pool)
            .collect()
    }

    async fn drop_home(&self, db: &DatabaseConnection, home: &str) -> Result<()> {
        let sql = format!("DROP DATABASE IF EXISTS {}", Dialect::MySql.quote(home));
        db.execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn home_exists(&self, db: &DatabaseConnection, home: &str) -> Result<bool> {
        let stmt = Statement::from_sql_and_values(
            DbBackend::MySql,
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = ?",
            [home.into()],
        );
        Ok(db.query_one_raw(stmt).await?.is_some())
    }

    async fn shared_tables(&self, db: &DatabaseConnection) -> Result<Vec<String>> {
        let stmt = Statement::from_sql_and_values(
            DbBackend::MySql,
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = ?",
            [self.shared_database.clone().into()],
        );
        super::names(db, stmt).await
    }

    /// `max_connections` less `Threads_connected` (which, unlike the
    /// process list, counts every user's connections without the `PROCESS`
    /// privilege).
    async fn connection_headroom(&self, db: &DatabaseConnection) -> Result<Option<u64>> {
        let max = super::count(
            db,
            Statement::from_string(DbBackend::MySql, "SELECT CAST(@@max_connections AS SIGNED)"),
        )
        .await?;
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::MySql,
                "SHOW GLOBAL STATUS LIKE 'Threads_connected'",
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("Threads_connected".to_owned()))?;
        let open: String = row.try_get_by_index(1)?;
        let open: u64 = open
            .trim()
            .parse()
            .map_err(|_| DbErr::Type(format!("Threads_connected is not a number: {open:?}")))?;
        Ok(Some(max.saturating_sub(open)))
    }

    async fn table_count(&self, db: &DatabaseConnection, home: &str) -> Result<u64> {
        let stmt = Statement::from_sql_and_values(
            DbBackend::MySql,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ?",
            [home.into()],
        );
        super::count(db, stmt).await
    }
}

#[async_trait::async_trait]
impl Migrate for MySql {
    /// MySQL commits each DDL statement: a dedicated connection whose
    /// default database is the tenant's, serialized with `GET_LOCK`.
    fn session(&self, _transactional: bool) -> Session {
        Session::Dedicated
    }

    async fn lock(&self, conn: &DatabaseConnection, home: &str) -> Result<()> {
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::MySql,
            "SELECT GET_LOCK(?, 3600)",
            [format!("tenancy:{home}").into()],
        ))
        .await?;
        Ok(())
    }

    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    /// Error 1146 (`ER_NO_SUCH_TABLE`), SQLSTATE 42S02.
    fn is_missing_table(&self, err: &DbErr) -> bool {
        migrate::code(err).is_some_and(|code| code == "42S02" || code == "1146")
    }
}
