//! What the migration runner needs from a dialect, in the shape of sqlx's
//! split between the algorithm (`sqlx-core/src/migrate/migrator.rs`, here
//! `crate::migrate::run`) and the driver (`sqlx-postgres/src/migrate.rs`):
//! the session a tenant's run uses, binding it to the tenant, locks, checks
//! before commit, the versions applied (one tenant or many at a time) and
//! telling a missing migration table from other errors.

use std::collections::HashMap;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, Statement, TransactionTrait,
};

use crate::{dialect::Dialect, error::Result};

/// How a tenant's migration run reaches the tenant's home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Session {
    /// A transaction on the shared pool, bound to the tenant with
    /// [`Migrate::bind`] (PostgreSQL: atomic, and it can share the
    /// transaction that creates the tenant).
    Shared,
    /// One transaction on a dedicated connection to the tenant's home,
    /// checked with [`Migrate::check`] before commit (SQLite).
    DedicatedTransaction,
    /// A dedicated connection to the tenant's home without a transaction,
    /// serialized with [`Migrate::lock`] (MySQL, whose DDL commits; and
    /// PostgreSQL migrations that cannot run in a transaction).
    Dedicated,
}

/// The dialect half of the migration runner.
#[async_trait::async_trait]
pub(crate) trait Migrate {
    /// The session of a run; `transactional` is false when a migration
    /// declares it cannot run in a transaction.
    fn session(&self, transactional: bool) -> Session;

    /// Binds a [`Session::Shared`] transaction to `home`: serialized per
    /// tenant, unqualified names resolving in the tenant's home (then the
    /// shared one), for this transaction only.
    async fn bind(&self, _txn: &DatabaseTransaction, _home: &str) -> Result<()> {
        Ok(())
    }

    /// Serializes runs in `home` on a [`Session::Dedicated`] connection
    /// (released when the connection closes).
    async fn lock(&self, _conn: &DatabaseConnection, _home: &str) -> Result<()> {
        Ok(())
    }

    /// Begins a [`Session::DedicatedTransaction`] on `conn`.
    async fn begin(&self, conn: &DatabaseConnection) -> Result<DatabaseTransaction> {
        Ok(conn.begin().await?)
    }

    /// Completes a tenant's home inside the transaction of a migration run
    /// that changed it, before it commits (Citus: what its planner needs
    /// of the types the migrations made).
    async fn complete(&self, _txn: &DatabaseTransaction, _home: &str) -> Result<()> {
        Ok(())
    }

    /// Checks a [`Session::DedicatedTransaction`] before it commits.
    async fn check(&self, _txn: &DatabaseTransaction) -> Result<()> {
        Ok(())
    }

    /// The dialect of the shared pool.
    fn dialect(&self) -> Dialect;

    /// The versions recorded in migration table `table` of `home`, sorted;
    /// empty when the table does not exist yet. By default read through the
    /// shared pool with the table qualified by the home.
    async fn applied(
        &self,
        db: &DatabaseConnection,
        home: &str,
        table: &str,
    ) -> Result<Vec<String>> {
        let sql = versions_sql(self.dialect(), Some(home), table);
        versions(db, sql, |e| self.is_missing_table(e)).await
    }

    /// [`Migrate::applied`] for many homes at once, in as few round trips
    /// as the dialect allows; homes without a migration table are absent.
    /// By default one catalog query and one `UNION ALL` per 500 homes.
    async fn applied_many(
        &self,
        db: &DatabaseConnection,
        homes: &[String],
        table: &str,
    ) -> Result<HashMap<String, Vec<String>>> {
        applied_in_catalog(db, self.dialect(), homes, table).await
    }

    /// Whether `err` says a table does not exist.
    fn is_missing_table(&self, err: &DbErr) -> bool;

    /// `insert` as one literal statement, for a dialect that runs the
    /// statements of one message one after the other inside the tenant's
    /// transaction, so that a tenant's DDL can go in one round trip
    /// (PostgreSQL); `None`: statements go one at a time.
    fn batch_insert(&self, _insert: &sea_orm::sea_query::InsertStatement) -> Option<String> {
        None
    }

    /// Whether `err` is an error of a statement itself (its data, names,
    /// constraints) rather than of the session (connection lost,
    /// cancelled, deadlock): running the same statements again, one at a
    /// time, fails the same way and names the one that failed.
    fn is_statement_error(&self, _err: &DbErr) -> bool {
        false
    }
}

/// The SQLSTATE (or driver code) of a database error, if any.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub(crate) fn code(err: &DbErr) -> Option<String> {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
}

/// Whether `err` is the driver's I/O error or its pool's timeout.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub(crate) fn is_io_or_pool_timeout(err: &DbErr) -> bool {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    matches!(
        **e,
        sea_orm::sqlx::Error::Io(_) | sea_orm::sqlx::Error::PoolTimedOut
    )
}

/// No driver, no driver errors.
#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
pub(crate) fn is_io_or_pool_timeout(_err: &DbErr) -> bool {
    false
}

/// No driver, no database error codes.
#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
pub(crate) fn code(_err: &DbErr) -> Option<String> {
    None
}

#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code)
)]
/// The versions `sql` returns (one column), or none when
/// `is_missing_table` says the migration table is not there yet.
pub(super) async fn versions(
    conn: &DatabaseConnection,
    sql: String,
    is_missing_table: impl Fn(&DbErr) -> bool,
) -> Result<Vec<String>> {
    let stmt = Statement::from_string(conn.get_database_backend(), sql);
    match conn.query_all_raw(stmt).await {
        Ok(rows) => Ok(rows
            .iter()
            .map(|r| r.try_get_by_index::<String>(0))
            .collect::<std::result::Result<_, _>>()?),
        Err(e) if is_missing_table(&e) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code)
)]
/// `SELECT version FROM home.table ORDER BY version`, quoted for `dialect`.
pub(super) fn versions_sql(dialect: Dialect, home: Option<&str>, table: &str) -> String {
    let table = dialect.quote(table);
    match home {
        Some(home) => format!(
            "SELECT version FROM {}.{table} ORDER BY version",
            dialect.quote(home)
        ),
        None => format!("SELECT version FROM {table} ORDER BY version"),
    }
}

/// PostgreSQL and MySQL: which homes have `table` (one catalog query per
/// 500 homes), then their versions (one `UNION ALL` per 500 homes).
async fn applied_in_catalog(
    db: &DatabaseConnection,
    dialect: Dialect,
    homes: &[String],
    table: &str,
) -> Result<HashMap<String, Vec<String>>> {
    let backend = dialect.backend();
    let mark = |n: usize| match dialect {
        Dialect::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let mut with_table = Vec::new();
    for chunk in homes.chunks(500) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(mark).collect();
        let sql = format!(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = {} AND table_schema IN ({})",
            mark(1),
            marks.join(", ")
        );
        let values =
            std::iter::once(table.to_owned().into()).chain(chunk.iter().map(|h| h.clone().into()));
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        with_table.extend(
            rows.iter()
                .filter_map(|r| r.try_get_by_index::<String>(0).ok()),
        );
    }
    let mut applied: HashMap<String, Vec<String>> = HashMap::with_capacity(with_table.len());
    for chunk in with_table.chunks(500) {
        // Homes passed validation: ASCII letters, digits, `_`, `-` only.
        let sql = chunk
            .iter()
            .map(|home| {
                format!(
                    "SELECT CAST('{home}' AS CHAR(64)), version FROM {}.{}",
                    dialect.quote(home),
                    dialect.quote(table)
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        for row in db
            .query_all_raw(Statement::from_string(backend, sql))
            .await?
        {
            let home: String = row.try_get_by_index(0)?;
            let version: String = row.try_get_by_index(1)?;
            applied
                .entry(home.trim_end().to_owned())
                .or_default()
                .push(version);
        }
    }
    for versions in applied.values_mut() {
        versions.sort();
    }
    Ok(applied)
}
