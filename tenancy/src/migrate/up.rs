//! `Verb::Up` in as few round trips as the migrator allows, the algorithm
//! of sea-orm-migration's `up` without its repeated look-ups: the migration
//! table installed once (created outright in a home made in the same
//! transaction), the applied versions read once, no savepoint around each
//! migration inside the tenant's own transaction, and the versions recorded
//! in one statement per transaction.

use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Schema, TransactionTrait,
    sea_query::{Alias, Expr, InsertStatement, Order, Query},
};
use sea_orm_migration::{
    IntoSchemaManagerConnection, MigrationTrait, MigratorTrait, SchemaManager, seaql_migrations,
};

use super::batch::{self, Batching};

/// Where the run happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Inside the tenant's transaction, the migration table may exist.
    Transaction,
    /// Inside the transaction that made the tenant's home: the migration
    /// table cannot exist yet.
    FreshHome,
    /// On a connection of its own, no outer transaction (MySQL, and
    /// PostgreSQL migrators with a migration that cannot run in one): each
    /// migration in a transaction of its own where the backend can, its
    /// version recorded right after it, as sea-orm-migration does.
    Connection,
}

/// The versions recorded in `M`'s migration table, in the migrator's
/// order; an error when a recorded version has no migration (as
/// sea-orm-migration reports it). Installs the table when missing.
pub(super) async fn applied<M: MigratorTrait, C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<String>, DbErr> {
    install::<M, C>(conn, true).await?;
    recorded::<M, C>(conn).await
}

async fn install<M: MigratorTrait, C: ConnectionTrait>(
    conn: &C,
    if_not_exists: bool,
) -> Result<(), DbErr> {
    let mut stmt =
        Schema::new(conn.get_database_backend()).create_table_from_entity(seaql_migrations::Entity);
    stmt.table(M::migration_table_name());
    if if_not_exists {
        stmt.if_not_exists();
    }
    conn.execute(&stmt).await.map(drop)
}

async fn recorded<M: MigratorTrait, C: ConnectionTrait>(conn: &C) -> Result<Vec<String>, DbErr> {
    let query = Query::select()
        .column(Alias::new("version"))
        .from(M::migration_table_name())
        .order_by(Alias::new("version"), Order::Asc)
        .to_owned();
    let mut in_db = Vec::new();
    for row in conn.query_all(&query).await? {
        in_db.push(row.try_get_by_index::<String>(0)?);
    }
    let files: Vec<String> = M::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let missing: Vec<String> = in_db
        .iter()
        .filter(|v| !files.contains(v))
        .map(|v| {
            format!(
                "Migration file of version '{v}' is missing, this migration has been applied but its file is missing"
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(DbErr::Custom(missing.join("\n")));
    }
    Ok(files.into_iter().filter(|f| in_db.contains(f)).collect())
}

/// Applies `M`'s pending migrations (at most `steps`) on `conn`; the
/// versions applied before, and the ones this run applied. Inside a
/// transaction on PostgreSQL the statements go in one message when they
/// can ([`batch`]).
pub(super) async fn up<M, C>(
    conn: &C,
    steps: Option<u32>,
    scope: Scope,
    batching: &Batching<'_>,
) -> Result<(Vec<String>, Vec<String>), DbErr>
where
    M: MigratorTrait,
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
    for<'c> &'c C: IntoSchemaManagerConnection<'c>,
{
    let before = match scope {
        Scope::FreshHome => {
            install::<M, C>(conn, false).await?;
            Vec::new()
        }
        _ => applied::<M, C>(conn).await?,
    };
    let pending: Vec<Box<dyn MigrationTrait>> = M::migrations()
        .into_iter()
        .filter(|m| !before.iter().any(|v| v == m.name()))
        .take(steps.map_or(usize::MAX, |s| usize::try_from(s).unwrap_or(usize::MAX)))
        .collect();
    let names: Vec<String> = pending.iter().map(|m| m.name().to_owned()).collect();
    if pending.is_empty() {
        return Ok((before, names));
    }
    if scope != Scope::Connection {
        let versions = versions_insert::<M>(&names)?;
        if batch::run(conn, &pending, &versions, batching).await? {
            return Ok((before, names));
        }
    }
    let backend = conn.get_database_backend();
    for migration in &pending {
        if scope == Scope::Connection && own_transaction(migration.as_ref(), backend) {
            let txn = conn.begin().await?;
            migration.up(&SchemaManager::new(&txn)).await?;
            txn.execute(&versions_insert::<M>(&[migration.name()])?)
                .await?;
            txn.commit().await?;
        } else {
            migration.up(&SchemaManager::new(conn)).await?;
            if scope == Scope::Connection {
                conn.execute(&versions_insert::<M>(&[migration.name()])?)
                    .await?;
            }
        }
    }
    if scope != Scope::Connection {
        conn.execute(&versions_insert::<M>(&names)?).await?;
    }
    Ok((before, names))
}

/// sea-orm-migration's rule: a migration runs in a transaction of its own
/// unless it says otherwise, on PostgreSQL (MySQL commits DDL anyway).
fn own_transaction(migration: &dyn MigrationTrait, backend: DbBackend) -> bool {
    migration
        .use_transaction()
        .unwrap_or(backend == DbBackend::Postgres)
}

/// The statement recording `versions` as applied now: one row each.
fn versions_insert<M: MigratorTrait>(
    versions: &[impl AsRef<str>],
) -> Result<InsertStatement, DbErr> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut insert = Query::insert();
    insert
        .into_table(M::migration_table_name())
        .columns([Alias::new("version"), Alias::new("applied_at")]);
    for version in versions {
        insert
            .values([Expr::val(version.as_ref()), Expr::val(now)])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    Ok(insert)
}
