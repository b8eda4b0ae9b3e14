//! Everything dialect-specific, behind one trait chosen once per [`Tenancy`](crate::Tenancy).

mod mysql;
mod postgres;
mod sqlite;

use std::fmt;

use sea_orm::{DatabaseConnection, DbBackend};

pub(crate) use self::sqlite::SqliteOptions;
use crate::{
    error::{Error, Result},
    rewrite::Route,
};

/// How tenants are laid out on one backend.
#[async_trait::async_trait]
pub(crate) trait Backend: Send + Sync + fmt::Debug {
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

    /// A connection bound to the tenant's home for migrations, on backends
    /// without transactional DDL (MySQL: a one-connection pool whose default
    /// database is the tenant's; SQLite: the tenant's own pool).
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
}

/// `count(*)` of the one row `sql` returns.
pub(crate) async fn count(db: &DatabaseConnection, stmt: sea_orm::Statement) -> Result<u64> {
    use sea_orm::ConnectionTrait;
    let row = db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("count".to_owned()))?;
    let n: i64 = row.try_get_by_index(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A sqlx error from a pool this crate opens, as the `DbErr` SeaORM gives.
pub(crate) fn sqlx_err(err: sea_orm::sqlx::Error) -> Error {
    Error::Db(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
        std::sync::Arc::new(err),
    )))
}

/// Backend-specific settings from the builder.
#[derive(Debug, Default, Clone)]
pub(crate) struct BackendOptions {
    pub(crate) shared_schema: Option<String>,
    pub(crate) sqlite: SqliteOptions,
}

/// Chooses the backend from the connection.
pub(crate) async fn detect(
    db: &DatabaseConnection,
    options: BackendOptions,
) -> Result<Box<dyn Backend>> {
    Ok(match db.get_database_backend() {
        DbBackend::Postgres => Box::new(postgres::Postgres::new(options.shared_schema)),
        DbBackend::MySql => Box::new(mysql::MySql::detect(db).await?),
        DbBackend::Sqlite => Box::new(sqlite::Sqlite::detect(db, options.sqlite).await?),
        other => {
            return Err(Error::Config(format!(
                "unsupported database backend {}",
                other.as_str()
            )));
        }
    })
}
