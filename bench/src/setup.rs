//! Connections: a pool of a given size and statement cache, on a database
//! that is created when missing.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectOptions, Database, DatabaseConnection, EntityTrait,
    QueryFilter, Set,
};
use tenancy_tests::{Kind, connect_server, install_shared, plan};

use crate::measure::Result;

/// Makes sure the database of `url` exists and holds the shared tables.
pub(crate) async fn prepare(kind: Kind, url: &str) -> Result<()> {
    let db = connect_server(kind, url).await?;
    install_shared(&db).await?;
    db.close().await?;
    Ok(())
}

/// How a bench pool is opened.
#[derive(Debug, Clone)]
pub(crate) struct PoolSpec<'a> {
    pub(crate) url: &'a str,
    pub(crate) size: u32,
    /// sqlx's per-connection prepared statement cache (sqlx default 100).
    pub(crate) statement_cache: usize,
    /// PostgreSQL `application_name`, to find the server processes.
    pub(crate) app: &'a str,
    /// PostgreSQL `search_path` set on every new connection.
    pub(crate) search_path: Option<String>,
}

impl<'a> PoolSpec<'a> {
    pub(crate) fn new(url: &'a str, size: u32) -> Self {
        PoolSpec {
            url,
            size,
            statement_cache: 100,
            app: "tenancy-bench",
            search_path: None,
        }
    }

    /// Opens the pool. Statement logging is off (SeaORM turns it on by
    /// default), for every variant alike.
    pub(crate) async fn open(&self) -> Result<DatabaseConnection> {
        let mut options = ConnectOptions::new(self.url);
        let cache = self.statement_cache;
        options
            .max_connections(self.size)
            .min_connections(0)
            .sqlx_logging(false)
            .set_application_name(self.app)
            .map_sqlx_postgres_opts(move |o| o.statement_cache_capacity(cache))
            .map_sqlx_mysql_opts(move |o| o.statement_cache_capacity(cache));
        if let Some(path) = &self.search_path {
            options.set_schema_search_path(path);
        }
        Ok(Database::connect(options).await?)
    }
}

/// The shared plan named `name`, inserted when missing.
pub(crate) async fn plan_id(db: &DatabaseConnection, name: &str) -> Result<i32> {
    if let Some(found) = plan::Entity::find()
        .filter(plan::Column::Name.eq(name))
        .one(db)
        .await?
    {
        return Ok(found.id);
    }
    let made = plan::ActiveModel {
        name: Set(name.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(made.id)
}

/// Drops every tenant whose name starts with `prefix`, `concurrency` at a
/// time; how many.
pub(crate) async fn drop_prefixed(
    tenancy: &tenancy::Tenancy,
    prefix: &str,
    concurrency: usize,
) -> Result<usize> {
    use futures_util::{StreamExt, TryStreamExt, stream};
    let names: Vec<String> = tenancy
        .list()
        .await?
        .into_iter()
        .map(|t| t.id.to_string())
        .filter(|n| n.starts_with(prefix))
        .collect();
    stream::iter(names.iter())
        .map(|n| tenancy.drop(n, tenancy::Irreversibly))
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    Ok(names.len())
}
