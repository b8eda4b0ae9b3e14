//! Opening the shared pool: without creating a SQLite file for a
//! read-only command, and with the cause when the server cannot be reached.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use sea_orm_migration::SchemaManager;

use super::error::CliError;
use crate::registry::TENANTS_TABLE;

/// Connects; for a read-only command, without creating a SQLite file.
pub(super) async fn connect(
    url: Option<String>,
    verbose: bool,
    read_only: bool,
) -> Result<DatabaseConnection, CliError> {
    let url = url.ok_or(CliError::NoUrl)?;
    let mut options = ConnectOptions::new(url.clone());
    options.sqlx_logging(verbose);
    #[cfg(feature = "sqlite")]
    if read_only && url.starts_with("sqlite:") {
        // `mode=rwc` would create the file: a missing file has no registry.
        let file = url
            .parse::<sea_orm::sqlx::sqlite::SqliteConnectOptions>()
            .map(|o| o.get_filename().to_path_buf());
        if file.is_ok_and(|f| !f.is_file()) {
            return Err(CliError::NoRegistry);
        }
        options.map_sqlx_sqlite_opts(|o| o.create_if_missing(false));
    }
    // sqlx's pool retries a refused connection until its acquire timeout
    // and then reports only that it timed out: wait 10 s, not 30, and say
    // why with one direct attempt.
    options
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10));
    let db = match Database::connect(options).await {
        Ok(db) => db,
        Err(err) if is_pool_timeout(&err) => {
            return Err(CliError::Unreachable {
                cause: first_attempt(&url).await,
            });
        }
        Err(err) => return Err(err.into()),
    };
    if read_only && !SchemaManager::new(&db).has_table(TENANTS_TABLE).await? {
        return Err(CliError::NoRegistry);
    }
    Ok(db)
}

/// Whether `err` is sqlx's "pool timed out" (the cause hidden behind it).
fn is_pool_timeout(err: &sea_orm::DbErr) -> bool {
    matches!(
        err,
        sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))
            if matches!(**e, sea_orm::sqlx::Error::PoolTimedOut)
    )
}

/// Why one direct connection to `url` fails, as text.
async fn first_attempt(url: &str) -> String {
    use sea_orm::sqlx::Connection;
    let attempt = async {
        #[cfg(feature = "postgres")]
        if url.starts_with("postgres") {
            return sea_orm::sqlx::PgConnection::connect(url).await.map(drop);
        }
        #[cfg(feature = "mysql")]
        if url.starts_with("mysql") || url.starts_with("mariadb") {
            return sea_orm::sqlx::MySqlConnection::connect(url).await.map(drop);
        }
        Err(sea_orm::sqlx::Error::PoolTimedOut)
    };
    match tokio::time::timeout(Duration::from_secs(10), attempt).await {
        Ok(Err(e)) => e.to_string(),
        Ok(Ok(())) => "the server accepted a connection only after the pool gave up".to_owned(),
        Err(_) => "no answer within 10 s".to_owned(),
    }
}
