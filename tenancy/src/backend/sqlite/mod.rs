//! SQLite: one database file per tenant, each with a small pool, kept in a
//! bounded LRU; the shared file is attached to every tenant connection as
//! `shared`, so tenant-to-shared joins work.

mod file;
mod migrate;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use lru::LruCache;
use sea_orm::{
    DatabaseConnection, DbBackend, DbErr, SqlxSqliteConnector, Statement,
    sqlx::{
        self,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
    },
};
use tokio::sync::OnceCell;

use self::file::FileId;
use super::{Backend, BackendOptions, sqlx_err};
use crate::{
    dialect::Dialect,
    error::{Error, Result},
    rewrite::{Catalogs, Route},
};

/// SQLite's own tables (`sqlite_master`, `sqlite_sequence`...).
const CATALOGS: Catalogs = Catalogs {
    schemas: &[],
    prefixes: &["sqlite_"],
    tables: &[],
};

/// The schema name the shared file is attached under.
const SHARED: &str = "shared";

/// A tenant's pool and the identity of the file it opened.
type Slot = Arc<OnceCell<(DatabaseConnection, FileId)>>;

pub(crate) struct Sqlite {
    shared_file: PathBuf,
    dir: PathBuf,
    connections_per_tenant: u32,
    pools: Mutex<LruCache<String, Slot>>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite")
            .field("shared_file", &self.shared_file)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// SQLITE_BUSY or SQLITE_LOCKED.
fn is_busy(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "5" || code == "6")
}

fn io_err(what: &str, path: &Path, err: std::io::Error) -> Error {
    Error::Db(DbErr::Custom(format!("{what} {}: {err}", path.display())))
}

impl Sqlite {
    pub(crate) async fn detect(db: &DatabaseConnection, options: &BackendOptions) -> Result<Self> {
        let shared_file = db
            .get_sqlite_connection_pool()
            .connect_options()
            .get_filename()
            .to_path_buf();
        if !shared_file.is_file() {
            return Err(Error::Config(format!(
                "the sqlite shared database must be a file, not {}",
                shared_file.display()
            )));
        }
        let dir = match options.sqlite_dir.clone() {
            Some(dir) => dir,
            None => shared_file
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join("tenants"),
        };
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io_err("cannot create tenant directory", &dir, e))?;
        // WAL lets tenant pools read the attached shared file while it is written.
        sea_orm::ConnectionTrait::execute_unprepared(db, "PRAGMA journal_mode=WAL").await?;
        Ok(Sqlite {
            shared_file,
            dir,
            connections_per_tenant: options.sqlite_connections.max(1),
            pools: Mutex::new(LruCache::new(options.sqlite_pools)),
        })
    }

    fn file(&self, home: &str) -> PathBuf {
        self.dir.join(format!("{home}.db"))
    }

    fn slot(&self, home: &str) -> Slot {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools.get_or_insert(home.to_owned(), Slot::default).clone()
    }

    fn forget(&self, home: &str) -> Option<Slot> {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools.pop(home)
    }

    /// Forgets `slot` if it is still the one cached for `home`.
    fn forget_slot(&self, home: &str, slot: &Slot) -> bool {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        if pools
            .peek(home)
            .is_some_and(|cached| Arc::ptr_eq(cached, slot))
        {
            pools.pop(home);
            true
        } else {
            false
        }
    }

    /// Drops every table of the tenant's file under the write lock, after
    /// the transactions in flight (other processes' pools included) are
    /// done: a writer still waiting for the lock, or one on a pool opened
    /// before the file goes, then finds no table instead of committing
    /// into a file about to be deleted.
    async fn empty(&self, home: &str) -> Result<()> {
        use sea_orm::ConnectionTrait;
        let db = self.open(home, true).await?;
        let emptied = async {
            db.execute_unprepared("BEGIN IMMEDIATE").await?;
            let stmt = Statement::from_string(
                DbBackend::Sqlite,
                "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            );
            for table in super::names(&db, stmt).await? {
                let sql = format!("DROP TABLE main.{}", Dialect::Sqlite.quote(&table));
                db.execute_unprepared(&sql).await?;
            }
            db.execute_unprepared("COMMIT").await?;
            Ok::<_, Error>(())
        };
        let result = emptied.await;
        if result.is_err() {
            let _rolled_back = db.execute_unprepared("ROLLBACK").await;
        }
        db.close_by_ref().await?;
        result
    }

    async fn open(&self, home: &str, migration: bool) -> Result<DatabaseConnection> {
        let shared = self
            .shared_file
            .to_str()
            .ok_or_else(|| Error::Config("the sqlite shared file path must be UTF-8".to_owned()))?;
        let attach: Arc<str> = format!(
            "ATTACH DATABASE '{}' AS {}",
            shared.replace('\'', "''"),
            Dialect::Sqlite.quote(SHARED)
        )
        .into();
        let options = SqliteConnectOptions::new()
            .filename(self.file(home))
            .create_if_missing(false)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
            // Migrations run with foreign keys off, as SQLite prescribes for
            // schema changes, and check them before commit.
            .foreign_keys(!migration);
        let connections = if migration {
            1
        } else {
            self.connections_per_tenant
        };
        let pool_options = SqlitePoolOptions::new()
            .max_connections(connections)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60))
            .after_connect(move |conn, _meta| {
                let attach = attach.clone();
                Box::pin(async move {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(attach.to_string()))
                        .execute(conn)
                        .await?;
                    Ok(())
                })
            });
        // Switching a new file to WAL takes its lock without waiting for
        // the busy timeout: two first openers (two migration runners) can
        // collide. Retry those, briefly.
        let mut attempt = 0u64;
        loop {
            match pool_options.clone().connect_with(options.clone()).await {
                Ok(pool) => return Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)),
                Err(e) if attempt < 50 && is_busy(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(5 * attempt)).await;
                }
                Err(e) => return Err(sqlx_err(e)),
            }
        }
    }
}

#[async_trait::async_trait]
impl Backend for Sqlite {
    fn route(&self, _home: &str) -> Route {
        Route::qualified(Dialect::Sqlite, "main", SHARED).with_catalogs(CATALOGS)
    }

    fn shared_home(&self) -> &str {
        SHARED
    }

    fn shared_route(&self) -> Route {
        Route::shared(Dialect::Sqlite, None)
    }

    fn pool_per_tenant(&self) -> bool {
        true
    }

    /// The cached pool while the tenant's file is the one it opened; a
    /// file replaced (dropped and re-created, perhaps by another process)
    /// closes the stale pool and opens the new file; no file is
    /// [`Error::TenantNotFound`].
    async fn tenant_pool(&self, home: &str) -> Result<DatabaseConnection> {
        let path = self.file(home);
        let missing = || Error::TenantNotFound {
            tenant: home.to_owned(),
        };
        for _ in 0..2 {
            let slot = self.slot(home);
            let (db, opened) = slot
                .get_or_try_init(|| async {
                    let id = FileId::of(&path)?.ok_or_else(missing)?;
                    Ok::<_, Error>((self.open(home, false).await?, id))
                })
                .await?;
            match FileId::of(&path)? {
                Some(now) if now == *opened => return Ok(db.clone()),
                now => {
                    if self.forget_slot(home, &slot) {
                        tracing::debug!(home, "tenant file replaced or removed: pool closed");
                        db.close_by_ref().await?;
                    }
                    if now.is_none() {
                        return Err(missing());
                    }
                }
            }
        }
        Err(missing())
    }

    async fn migration_pool(
        &self,
        _db: &DatabaseConnection,
        home: &str,
    ) -> Result<DatabaseConnection> {
        self.open(home, true).await
    }

    async fn create_home(&self, _db: &DatabaseConnection, home: &str) -> Result<()> {
        let path = self.file(home);
        // `create_new` is the atomic arbiter: an existing file is an error.
        // An empty file is a valid empty SQLite database.
        tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(|e| io_err("cannot create tenant database", &path, e))?;
        Ok(())
    }

    async fn drop_home(&self, _db: &DatabaseConnection, home: &str) -> Result<()> {
        if let Some(slot) = self.forget(home)
            && let Some((db, _)) = slot.get()
        {
            db.close_by_ref().await?;
        }
        let path = self.file(home);
        if path.exists()
            && let Err(e) = self.empty(home).await
        {
            tracing::warn!(home, error = %e, "could not empty the tenant's file before removing it");
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            match tokio::fs::remove_file(&file).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("cannot remove tenant database", &path, e)),
            }
        }
        Ok(())
    }

    async fn home_exists(&self, _db: &DatabaseConnection, home: &str) -> Result<bool> {
        tokio::fs::try_exists(self.file(home))
            .await
            .map_err(|e| io_err("cannot read", &self.dir, e))
    }

    async fn shared_tables(&self, db: &DatabaseConnection) -> Result<Vec<String>> {
        let stmt = Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM main.sqlite_master WHERE type IN ('table', 'view')",
        );
        super::names(db, stmt).await
    }

    /// A file has no connection limit.
    async fn connection_headroom(&self, _db: &DatabaseConnection) -> Result<Option<u64>> {
        Ok(None)
    }

    async fn table_count(&self, _db: &DatabaseConnection, home: &str) -> Result<u64> {
        let pool = self.tenant_pool(home).await?;
        let stmt = Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) FROM main.sqlite_master WHERE type = 'table'",
        );
        super::count(&pool, stmt).await
    }
}
