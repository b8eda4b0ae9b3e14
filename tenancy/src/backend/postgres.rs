//! PostgreSQL: one schema per tenant on the shared pool.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
};

use super::{
    Backend, Cluster, citus,
    migrate::{self, Migrate, Session},
};
use crate::{
    dialect::Dialect,
    error::Result,
    rewrite::{Catalogs, Route},
};

/// Shared tables live in `shared_schema` (default `public`); tenant tables in
/// the tenant's schema. Every table reference is qualified, so no statement
/// depends on `search_path`.
/// PostgreSQL's system catalogs: `pg_catalog` is searched first whatever
/// the search path, so unqualified `pg_*` names are its.
const CATALOGS: Catalogs = Catalogs {
    schemas: &["pg_catalog", "information_schema"],
    prefixes: &["pg_"],
    tables: &[],
};

#[derive(Debug)]
pub(crate) struct Postgres {
    shared_schema: String,
    /// Tenant schemas are distributed over a Citus cluster.
    citus: bool,
}

impl Postgres {
    pub(crate) fn new(shared_schema: Option<String>, citus: bool) -> Self {
        Postgres {
            shared_schema: shared_schema.unwrap_or_else(|| "public".to_owned()),
            citus,
        }
    }
}

#[async_trait::async_trait]
impl Backend for Postgres {
    fn route(&self, home: &str) -> Route {
        Route::qualified(Dialect::Postgres, home, &self.shared_schema).with_catalogs(CATALOGS)
    }

    fn shared_home(&self) -> &str {
        &self.shared_schema
    }

    fn shared_route(&self) -> Route {
        Route::shared(Dialect::Postgres, Some(&self.shared_schema))
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    /// On Citus the schema is distributed in the same transaction (one
    /// message: both statements).
    fn create_home_sql(&self, home: &str) -> Option<String> {
        let create = format!("CREATE SCHEMA {}", Dialect::Postgres.quote(home));
        Some(if self.citus {
            format!("{create}; {}", citus::distribute_sql(home))
        } else {
            create
        })
    }

    /// Locks every table of the schema at once (tables before the
    /// sequences and indexes `DROP .. CASCADE` would lock one by one), so
    /// a concurrent insert, which locks its table and then its sequence,
    /// waits for the drop instead of deadlocking with it; then drops.
    fn drop_home_sql(&self, home: &str) -> Option<String> {
        // `home` is a validated identifier: no quote of either kind in it.
        let schema = Dialect::Postgres.quote(home);
        Some(format!(
            "DO $tenancy$ DECLARE tables text; BEGIN \
             SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') INTO tables \
             FROM pg_catalog.pg_tables WHERE schemaname = '{home}'; \
             IF tables IS NOT NULL THEN \
             EXECUTE 'LOCK TABLE ' || tables || ' IN ACCESS EXCLUSIVE MODE'; END IF; \
             DROP SCHEMA IF EXISTS {schema} CASCADE; END $tenancy$"
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

    async fn shared_tables(&self, db: &DatabaseConnection) -> Result<Vec<String>> {
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = $1",
            [self.shared_schema.clone().into()],
        );
        super::names(db, stmt).await
    }

    async fn table_count(&self, db: &DatabaseConnection, home: &str) -> Result<u64> {
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            [home.into()],
        );
        super::count(db, stmt).await
    }

    /// `max_connections` less the slots reserved for superusers (and, from
    /// PostgreSQL 16, `reserved_connections`) and the client backends open.
    async fn connection_headroom(&self, db: &DatabaseConnection) -> Result<Option<u64>> {
        let stmt = Statement::from_string(
            DbBackend::Postgres,
            "SELECT (current_setting('max_connections')::int \
             - current_setting('superuser_reserved_connections')::int \
             - coalesce(current_setting('reserved_connections', true)::int, 0) \
             - (SELECT count(*) FROM pg_catalog.pg_stat_activity \
                WHERE backend_type = 'client backend'))::bigint",
        );
        Ok(Some(super::count(db, stmt).await?))
    }

    async fn lock_install(&self, txn: &DatabaseTransaction) -> Result<()> {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7300422916453021761)")
            .await?;
        Ok(())
    }

    async fn prepare_shared(&self, db: &DatabaseConnection) -> Result<()> {
        if self.citus {
            db.execute_unprepared(&citus::enum_casts_sql(&[&self.shared_schema]))
                .await?;
        }
        Ok(())
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
        let set = |o: sea_orm::sqlx::postgres::PgConnectOptions, c| o.statement_cache_capacity(c);
        super::affinity_pools_of(db.get_postgres_connection_pool(), per_pool, cache, set)
            .into_iter()
            .map(sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool)
            .collect()
    }

    fn cluster(&self) -> Option<&dyn Cluster> {
        self.citus.then_some(self as &dyn Cluster)
    }
}

/// The key of a tenant's migration lock.
fn lock_key(home: &str) -> sea_orm::Value {
    format!("tenancy:{home}").into()
}

#[async_trait::async_trait]
impl Migrate for Postgres {
    fn session(&self, transactional: bool) -> Session {
        if transactional {
            Session::Shared
        } else {
            Session::Dedicated
        }
    }

    /// A per-tenant advisory lock (two runners never apply a version twice)
    /// and `SET LOCAL search_path`, both ending with the transaction.
    /// One round trip: both statements in one simple-query message.
    async fn bind(&self, txn: &DatabaseTransaction, home: &str) -> Result<()> {
        let sql = format!(
            "SELECT pg_advisory_xact_lock(hashtext('tenancy:{}')); SET LOCAL search_path TO {}, {}",
            // A validated home has no quote; doubled all the same.
            home.replace('\'', "''"),
            Dialect::Postgres.quote(home),
            Dialect::Postgres.quote(&self.shared_schema)
        );
        txn.execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn lock(&self, conn: &DatabaseConnection, home: &str) -> Result<()> {
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_lock(hashtext($1))",
            [lock_key(home)],
        ))
        .await?;
        Ok(())
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    /// Citus: the enum casts it needs ([`citus::enum_casts_sql`]) for the
    /// types the migrations made in the tenant's schema or the shared one.
    async fn complete(&self, txn: &DatabaseTransaction, home: &str) -> Result<()> {
        if self.citus {
            txn.execute_unprepared(&citus::enum_casts_sql(&[home, &self.shared_schema]))
                .await?;
        }
        Ok(())
    }

    /// Not on Citus: the coordinator forwards a DDL statement of a
    /// several-statement message to the worker with the rest of the message,
    /// which the worker refuses ("cannot insert multiple commands into a
    /// prepared statement"), so every batch failed and ran again one
    /// statement at a time: twice the work, and each tenant took two of
    /// Citus's colocation ids, which place schemas round-robin, so tenants
    /// created one after another all landed on the same worker.
    fn batch_insert(&self, insert: &sea_orm::sea_query::InsertStatement) -> Option<String> {
        (!self.citus).then(|| insert.to_string(sea_orm::sea_query::PostgresQueryBuilder))
    }

    /// SQLSTATE classes 22 (data), 23 (integrity constraint), 42 (syntax or
    /// access rule), 2B (dependent objects) and P0 (raised by PL/pgSQL).
    fn is_statement_error(&self, err: &DbErr) -> bool {
        migrate::code(err).is_some_and(|code| {
            ["22", "23", "42", "2B", "P0"]
                .iter()
                .any(|class| code.starts_with(class))
        })
    }

    /// SQLSTATE 42P01, `undefined_table`.
    fn is_missing_table(&self, err: &DbErr) -> bool {
        migrate::code(err).is_some_and(|code| code == "42P01")
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sqlx::postgres::PgConnectOptions;

    use super::{Postgres, migrate::Migrate};

    /// A Citus coordinator refuses several DDL statements in one message:
    /// migrations go a statement at a time there.
    #[test]
    fn migrations_are_batched_on_postgres_not_on_citus() {
        let mut insert = sea_orm::sea_query::Query::insert();
        insert
            .into_table("seaql_migrations")
            .columns(["version"])
            .values_panic(["m1".into()]);
        assert!(Postgres::new(None, false).batch_insert(&insert).is_some());
        assert!(Postgres::new(None, true).batch_insert(&insert).is_none());
    }

    /// sqlx has no getter for the cache: its `Debug` text is read, and a
    /// change there must fail here, not turn a pooler's 0 into 512.
    #[test]
    fn the_statement_cache_is_read_from_the_options() {
        let options = PgConnectOptions::new();
        assert_eq!(
            super::super::statement_cache_of(&format!("{options:?}")),
            Some(100)
        );
        let none = options.statement_cache_capacity(0);
        assert_eq!(
            super::super::statement_cache_of(&format!("{none:?}")),
            Some(0)
        );
        #[cfg(feature = "mysql")]
        {
            let mysql =
                sea_orm::sqlx::mysql::MySqlConnectOptions::new().statement_cache_capacity(7);
            assert_eq!(
                super::super::statement_cache_of(&format!("{mysql:?}")),
                Some(7)
            );
        }
    }
}
