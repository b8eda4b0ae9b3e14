//! The three strategies (a schema, a database or a file per tenant), behind
//! one trait chosen once per [`Tenancy`](crate::Tenancy) by [`detect`].
//!
//! This folder is the only place that writes dialect SQL: creating and
//! dropping homes, the install lock, which errors are worth a retry, and
//! (in [`migrate`]) what the migration runner needs from a dialect.

#[cfg(feature = "postgres")]
pub(crate) mod citus;
pub(crate) mod migrate;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::fmt;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};

pub(crate) use self::migrate::Session;
use crate::{
    cluster::{Lint, Move, Node, Transfer},
    dialect::Dialect,
    error::{Error, Result},
    rewrite::Route,
};

/// How tenants are laid out on one backend.
#[async_trait::async_trait]
pub(crate) trait Backend: migrate::Migrate + Send + Sync + fmt::Debug {
    /// How a tenant's statements are routed.
    fn route(&self, home: &str) -> Route;

    /// The schema, database or attached name of the shared home.
    fn shared_home(&self) -> &str;

    /// How statements on the shared pool reach shared tables.
    fn shared_route(&self) -> Route;

    /// Whether tenants have pools of their own (SQLite). When false, tenant
    /// statements run on the shared pool.
    fn pool_per_tenant(&self) -> bool {
        false
    }

    /// The pool of a tenant, for backends with [`Backend::pool_per_tenant`].
    async fn tenant_pool(&self, _home: &str) -> Result<DatabaseConnection> {
        Err(Error::Config(
            "this backend runs tenants on the shared pool".to_owned(),
        ))
    }

    /// The pools of tenant affinity (`connection/affinity.rs`): pools of
    /// `per_pool` connections, as many as `db`'s pool has connections for,
    /// with its settings, the prepared-statement cache raised to `cache`
    /// unless `db`'s is 0 (a pooler that cannot track prepared
    /// statements). Empty where tenants do not run on the shared pool.
    fn affinity_pools(
        &self,
        _db: &DatabaseConnection,
        _per_pool: u32,
        _cache: usize,
    ) -> Vec<DatabaseConnection> {
        Vec::new()
    }

    /// Whether creating a home can share a transaction with the registry row.
    fn transactional_ddl(&self) -> bool {
        false
    }

    /// The statement creating a home, when it is one statement on the shared pool.
    fn create_home_sql(&self, _home: &str) -> Option<String> {
        None
    }

    /// The statement dropping a home, for backends with transactional DDL.
    fn drop_home_sql(&self, _home: &str) -> Option<String> {
        None
    }

    /// Creates the home (for backends where it is not one SQL statement).
    async fn create_home(&self, db: &DatabaseConnection, home: &str) -> Result<()>;

    /// A connection of its own bound to the tenant's home, for
    /// [`Session::Dedicated`] and [`Session::DedicatedTransaction`] runs.
    async fn migration_pool(
        &self,
        _db: &DatabaseConnection,
        _home: &str,
    ) -> Result<DatabaseConnection> {
        Err(Error::Config(
            "this backend migrates tenants in a transaction".to_owned(),
        ))
    }

    /// Drops the home and everything in it.
    async fn drop_home(&self, db: &DatabaseConnection, home: &str) -> Result<()>;

    /// Whether the home exists.
    async fn home_exists(&self, db: &DatabaseConnection, home: &str) -> Result<bool>;

    /// How many tables the home holds (a statement that must reach it).
    async fn table_count(&self, db: &DatabaseConnection, home: &str) -> Result<u64>;

    /// The names of the tables and views in the shared home.
    async fn shared_tables(&self, db: &DatabaseConnection) -> Result<Vec<String>>;

    /// How many more connections the server accepts now: its
    /// `max_connections` less the connections open (every client's, ours
    /// included), read once. `None` where the server has no such limit.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    async fn connection_headroom(&self, db: &DatabaseConnection) -> Result<Option<u64>>;

    /// Serializes installations of the library's tables inside `txn`
    /// (PostgreSQL: concurrent `CREATE TABLE IF NOT EXISTS` can collide).
    async fn lock_install(&self, _txn: &DatabaseTransaction) -> Result<()> {
        Ok(())
    }

    /// Readies the shared home for tenants at build (Citus: the enum casts
    /// of [`Migrate::complete`] for the shared schema's types).
    async fn prepare_shared(&self, _db: &DatabaseConnection) -> Result<()> {
        Ok(())
    }

    /// The cluster operations, when tenants are spread over nodes (Citus).
    fn cluster(&self) -> Option<&dyn Cluster> {
        None
    }

    /// Whether the database chose `err`'s statement as a deadlock or
    /// serialization victim, so running it again may succeed.
    fn is_retryable(&self, err: &DbErr) -> bool {
        migrate::code(err).is_some_and(|code| code == "40001" || code == "40P01")
    }
}

/// A cluster whose nodes hold whole tenant homes (Citus schema-based
/// sharding): where they are, moving them.
#[async_trait::async_trait]
pub(crate) trait Cluster: Send + Sync {
    /// The nodes that hold tenants.
    async fn nodes(&self, db: &DatabaseConnection) -> Result<Vec<Node>>;

    /// The node of `home` (every distributed home when `None`); a home
    /// with no table yet has no placement.
    async fn placements(
        &self,
        db: &DatabaseConnection,
        home: Option<&str>,
    ) -> Result<Vec<(String, Node)>>;

    /// Moves `home` with all its tables to `to`.
    async fn move_home(
        &self,
        db: &DatabaseConnection,
        home: &str,
        to: &Node,
        transfer: Transfer,
    ) -> Result<()>;

    /// The moves [`Cluster::rebalance`] would make, one per home.
    async fn rebalance_plan(&self, db: &DatabaseConnection) -> Result<Vec<Move>>;

    /// Spreads homes evenly over the nodes; the moves made.
    async fn rebalance(&self, db: &DatabaseConnection, transfer: Transfer) -> Result<Vec<Move>>;

    /// What the cluster would refuse or get wrong; `shared` are the
    /// registered shared tables.
    async fn lint(&self, db: &DatabaseConnection, shared: &[&str]) -> Result<Vec<Lint>>;
}

/// The prepared-statement cache capacity in the `Debug` text of a sqlx
/// connect options value (sqlx has no getter); `None` when it is not there.
pub(crate) fn statement_cache_of(debug: &str) -> Option<usize> {
    let rest = debug.split("statement_cache_capacity: ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Pools of `per_pool` connections with `pool`'s options, as many as fit
/// in its size (at least one), connecting on first use; their statement
/// cache set to `cache` with `set_cache` unless `pool`'s is 0.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn affinity_pools_of<DB: sea_orm::sqlx::Database>(
    pool: &sea_orm::sqlx::Pool<DB>,
    per_pool: u32,
    cache: usize,
    set_cache: impl Fn(
        <DB::Connection as sea_orm::sqlx::Connection>::Options,
        usize,
    ) -> <DB::Connection as sea_orm::sqlx::Connection>::Options,
) -> Vec<sea_orm::sqlx::Pool<DB>> {
    let mut options = pool.connect_options().as_ref().clone();
    if statement_cache_of(&format!("{options:?}")).is_some_and(|c| c > 0) {
        options = set_cache(options, cache);
    }
    let per_pool = per_pool.max(1);
    let count = (pool.options().get_max_connections() / per_pool).max(1);
    (0..count)
        .map(|_| {
            pool.options()
                .clone()
                .max_connections(per_pool)
                .min_connections(0)
                .connect_lazy_with(options.clone())
        })
        .collect()
}

/// The most connections the shared pool opens (1 without a pool).
pub(crate) fn pool_size(db: &DatabaseConnection) -> usize {
    let max = match db.get_database_backend() {
        #[cfg(feature = "postgres")]
        sea_orm::DbBackend::Postgres => db
            .get_postgres_connection_pool()
            .options()
            .get_max_connections(),
        #[cfg(feature = "mysql")]
        sea_orm::DbBackend::MySql => db
            .get_mysql_connection_pool()
            .options()
            .get_max_connections(),
        _ => 1,
    };
    usize::try_from(max).unwrap_or(1).max(1)
}

/// Whether the database refused `err`'s statement for a reason that may not
/// hold next time, with the work rolled back: a serialization failure or
/// deadlock (`40001`, which MySQL's deadlock victims report too, `40P01`),
/// or SQLite's busy or locked database (result codes 5 and 6 and their
/// extended codes). Not MariaDB 11.6's snapshot-isolation conflict (1020,
/// SQLSTATE HY000, told apart only by its number).
pub(crate) fn is_conflict(err: &DbErr) -> bool {
    migrate::code(err).is_some_and(|code| {
        matches!(
            code.as_str(),
            "40001" | "40P01" | "5" | "6" | "261" | "262" | "517" | "773"
        )
    })
}

/// Whether `err` says the connection was lost or could not be had (the
/// server closed it, shut down, or the pool timed out): work not yet
/// committed is rolled back by the server.
pub(crate) fn is_lost_connection(err: &DbErr) -> bool {
    // A pool that timed out may have a connection next time; a closed one
    // will not.
    matches!(
        err,
        DbErr::Conn(_) | DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)
    ) || migrate::is_io_or_pool_timeout(err)
        || migrate::code(err).is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_str(), "57P01" | "57P02" | "57P03")
        })
}

/// `count(*)` of the one row `stmt` returns.
pub(crate) async fn count(db: &DatabaseConnection, stmt: sea_orm::Statement) -> Result<u64> {
    use sea_orm::ConnectionTrait;
    let row = db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("count".to_owned()))?;
    let n: i64 = row.try_get_by_index(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The first column of every row `stmt` returns, as strings.
pub(crate) async fn names(
    db: &DatabaseConnection,
    stmt: sea_orm::Statement,
) -> Result<Vec<String>> {
    use sea_orm::ConnectionTrait;
    let rows = db.query_all_raw(stmt).await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect())
}

/// A sqlx error from a pool this crate opens, as the `DbErr` SeaORM gives.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub(crate) fn sqlx_err(err: sea_orm::sqlx::Error) -> Error {
    Error::Db(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
        std::sync::Arc::new(err),
    )))
}

/// Backend-specific settings from the builder (kept whatever the enabled
/// features, so the builder's methods are the same in every build).
#[derive(Debug, Clone)]
pub(crate) struct BackendOptions {
    /// PostgreSQL: the schema of shared tables.
    pub(crate) shared_schema: Option<String>,
    /// SQLite: directory of tenant files; default: `tenants/` beside the
    /// shared file.
    pub(crate) sqlite_dir: Option<std::path::PathBuf>,
    /// SQLite: how many tenant pools stay open.
    pub(crate) sqlite_pools: std::num::NonZeroUsize,
    /// SQLite: connections per tenant pool.
    pub(crate) sqlite_connections: u32,
    /// PostgreSQL: lay tenants out for Citus (`None`: when the database
    /// has the extension).
    pub(crate) citus: Option<bool>,
}

impl Default for BackendOptions {
    fn default() -> Self {
        BackendOptions {
            shared_schema: None,
            sqlite_dir: None,
            sqlite_pools: std::num::NonZeroUsize::new(64).unwrap_or(std::num::NonZeroUsize::MIN),
            sqlite_connections: 4,
            citus: None,
        }
    }
}

/// Chooses the backend from the connection.
pub(crate) async fn detect(
    db: &DatabaseConnection,
    options: BackendOptions,
) -> Result<std::sync::Arc<dyn Backend>> {
    Ok(match Dialect::of(db.get_database_backend())? {
        #[cfg(feature = "postgres")]
        Dialect::Postgres => std::sync::Arc::new(postgres::Postgres::new(
            options.shared_schema,
            citus::detect(db, options.citus).await?,
        )),
        #[cfg(feature = "mysql")]
        Dialect::MySql => std::sync::Arc::new(mysql::MySql::detect(db).await?),
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => std::sync::Arc::new(sqlite::Sqlite::detect(db, &options).await?),
        #[allow(unreachable_patterns)]
        other => {
            return Err(Error::Config(format!(
                "this build of tenancy has no {other:?} support: enable its cargo feature"
            )));
        }
    })
}
