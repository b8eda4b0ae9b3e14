//! The two ways of multi-tenancy the fan-out bench compares against, built
//! here on the same SeaORM statements.
//!
//! - [`SearchPath`] ([`UseDb`] on MySQL): one pool; each operation checks
//!   out a connection, sends `SET search_path TO "tenant_x", public` (`USE
//!   tenant_x`), then runs unqualified
//!   statements on that connection (django-tenants, Apartment).
//! - [`PoolLru`]: a pool per tenant whose connections have the tenant's
//!   `search_path`, at most `capacity` pools open, the least recently used
//!   closed first (drizzle-multitenant).

use std::sync::{Arc, Mutex};

use lru::LruCache;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement,
    sea_query::Values,
    sqlx::{self, AssertSqlSafe, MySql, MySqlPool, PgPool, Postgres, pool::PoolConnection},
};
use sea_query_sqlx::SqlxValues;

use crate::setup::PoolSpec;

fn db_err(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))
}

fn query<DB>(stmt: &Statement) -> sqlx::query::Query<'_, DB, SqlxValues>
where
    DB: sqlx::Database,
    SqlxValues: for<'q> sqlx::IntoArguments<DB>,
{
    let values = stmt
        .values
        .as_ref()
        .map_or_else(|| Values(Vec::new()), Clone::clone);
    sqlx::query_with(AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

/// A connection checked out of a pool and pointed at a tenant with session
/// state; SeaORM statements run on it exactly as on a `DatabaseConnection`
/// (same sqlx calls, same row decoding).
pub(crate) struct Pinned<DB: sqlx::Database> {
    conn: tokio::sync::Mutex<PoolConnection<DB>>,
    backend: DbBackend,
}

/// PostgreSQL: `SET search_path TO "tenant_x", public` per checkout.
pub(crate) type SearchPath = Pinned<Postgres>;

impl SearchPath {
    /// Checks out a connection and points it at `home`, then `public`.
    pub(crate) async fn checkout(pool: &PgPool, home: &str) -> Result<Self, DbErr> {
        Pinned::new(
            pool,
            DbBackend::Postgres,
            format!("SET search_path TO \"{home}\", public"),
        )
        .await
    }
}

/// MySQL: `USE tenant_x` per checkout.
pub(crate) type UseDb = Pinned<MySql>;

impl UseDb {
    /// Checks out a connection and makes `home` its current database.
    pub(crate) async fn checkout(pool: &MySqlPool, home: &str) -> Result<Self, DbErr> {
        Pinned::new(pool, DbBackend::MySql, format!("USE `{home}`")).await
    }
}

impl<DB: sqlx::Database> Pinned<DB>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    async fn new(pool: &sqlx::Pool<DB>, backend: DbBackend, set: String) -> Result<Self, DbErr> {
        let mut conn = pool.acquire().await.map_err(db_err)?;
        sqlx::raw_sql(AssertSqlSafe(set))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        Ok(Pinned {
            conn: tokio::sync::Mutex::new(conn),
            backend,
        })
    }
}

#[async_trait::async_trait]
impl<DB: sqlx::Database> ConnectionTrait for Pinned<DB>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    SqlxValues: for<'q> sqlx::IntoArguments<DB>,
    QueryResult: From<DB::Row>,
    ExecResult: From<DB::QueryResult>,
{
    fn get_database_backend(&self) -> DbBackend {
        self.backend
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let mut conn = self.conn.lock().await;
        let done = query::<DB>(&stmt)
            .execute(&mut **conn)
            .await
            .map_err(db_err)?;
        Ok(done.into())
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut conn = self.conn.lock().await;
        let done = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&mut **conn)
            .await
            .map_err(db_err)?;
        Ok(done.into())
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut conn = self.conn.lock().await;
        let row = query::<DB>(&stmt)
            .fetch_optional(&mut **conn)
            .await
            .map_err(db_err)?;
        Ok(row.map(Into::into))
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut conn = self.conn.lock().await;
        let rows = query::<DB>(&stmt)
            .fetch_all(&mut **conn)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// Per-tenant pools in an LRU.
pub(crate) struct PoolLru {
    url: String,
    per_pool: u32,
    statement_cache: usize,
    pools: Mutex<LruCache<usize, DatabaseConnection>>,
}

impl PoolLru {
    /// At most `capacity` pools of `per_pool` connections each.
    pub(crate) fn new(url: &str, capacity: usize, per_pool: u32, statement_cache: usize) -> Self {
        let capacity =
            std::num::NonZeroUsize::new(capacity.max(1)).unwrap_or(std::num::NonZeroUsize::MIN);
        PoolLru {
            url: url.to_owned(),
            per_pool,
            statement_cache,
            pools: Mutex::new(LruCache::new(capacity)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<usize, DatabaseConnection>> {
        self.pools.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pool of tenant number `tenant` living in `home`, opened when
    /// missing (evicting and closing the least recently used one).
    pub(crate) async fn get(&self, tenant: usize, home: &str) -> Result<DatabaseConnection, DbErr> {
        if let Some(db) = self.lock().get(&tenant) {
            return Ok(db.clone());
        }
        let spec = PoolSpec {
            statement_cache: self.statement_cache,
            app: "tenancy-bench-lru",
            search_path: Some(format!("\"{home}\",public")),
            ..PoolSpec::new(&self.url, self.per_pool)
        };
        let db = spec
            .open()
            .await
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        let evicted = self.lock().push(tenant, db.clone());
        if let Some((old, pool)) = evicted
            && old != tenant
        {
            // Closing waits for connections in use; new checkouts of a
            // closed pool fail, so only this map hands pools out.
            tokio::spawn(async move { pool.close().await });
        }
        Ok(db)
    }

    /// Closes every pool.
    pub(crate) async fn close(&self) {
        let pools: Vec<_> = self.lock().iter().map(|(_, db)| db.clone()).collect();
        self.lock().clear();
        for db in pools {
            let _closed = db.close().await;
        }
    }
}
