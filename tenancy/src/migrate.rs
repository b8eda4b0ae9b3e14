//! Per-tenant migrations: the application's `sea-orm-migration` migrator
//! replayed in one tenant, a list, or all of them.
//!
//! - PostgreSQL: each tenant's run is one transaction, serialized per tenant
//!   with an advisory lock, with `SET LOCAL search_path` to the tenant's
//!   schema (then the shared schema); the migrator is driven with `&txn`. A
//!   failure leaves the tenant exactly as it was.
//!   Migrations that declare `use_transaction() == Some(false)` (`CREATE
//!   INDEX CONCURRENTLY`) make the tenant's run use a dedicated connection
//!   bound to the tenant (its own `search_path`) instead, like MySQL.
//! - MySQL: a dedicated one-connection pool whose default database is the
//!   tenant's, serialized with `GET_LOCK`. MySQL commits each DDL statement:
//!   a failed run stops at the last good migration, which the report gives.
//! - SQLite: the tenant's own file, in one immediate transaction (SQLite
//!   DDL is transactional), foreign keys checked at commit.

use std::{marker::PhantomData, time::Duration};

use futures_util::{StreamExt, stream};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::{
    TenantConnection, TenantTransaction,
    error::{Error, Result},
    events::{Operation, TenantEvent},
    lifecycle::TenantStatus,
    rewrite::Dialect,
    tenancy::Tenancy,
    tenant_id::TenantId,
};

/// What to do to a tenant's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verb {
    /// Apply pending migrations (`None`: all of them).
    Up(Option<u32>),
    /// Roll back applied migrations (`None`: all of them).
    Down(Option<u32>),
    /// Drop every table of the tenant, then apply every migration.
    Fresh,
    /// Roll back every migration, then apply every migration.
    Refresh,
    /// Roll back every migration.
    Reset,
}

/// Whether an all-tenant run goes on after a tenant fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// Attempt every tenant and list the failures (the default).
    #[default]
    Continue,
    /// Start no further tenant after the first failure.
    Abort,
}

/// How one tenant fared.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// Migrated: the versions applied by this run (or rolled back, for `down`).
    Ok {
        /// Versions whose state this run changed.
        changed: Vec<String>,
    },
    /// Failed; on PostgreSQL the tenant is unchanged.
    Failed {
        /// Why.
        error: Error,
        /// The last applied version after the failure.
        last_applied: Option<String>,
    },
    /// Not attempted (an earlier failure with [`OnFailure::Abort`]).
    Skipped,
}

/// The result of a run for one tenant.
#[derive(Debug)]
#[non_exhaustive]
pub struct TenantReport {
    /// The tenant.
    pub tenant: TenantId,
    /// What happened.
    pub outcome: Outcome,
    /// How long it took.
    pub elapsed: Duration,
}

/// The result of a run over several tenants.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Report {
    /// One entry per tenant, in tenant order.
    pub tenants: Vec<TenantReport>,
}

impl Report {
    /// The tenants that failed.
    pub fn failed(&self) -> impl Iterator<Item = &TenantReport> {
        self.tenants
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::Failed { .. }))
    }

    /// Whether every tenant succeeded.
    pub fn is_ok(&self) -> bool {
        self.tenants
            .iter()
            .all(|t| matches!(t.outcome, Outcome::Ok { .. }))
    }
}

/// Where a tenant's schema stands against the migrator.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationState {
    /// The tenant.
    pub tenant: TenantId,
    /// Versions applied and known to the migrator, in order.
    pub applied: Vec<String>,
    /// Versions the migrator has and the tenant has not applied.
    pub pending: Vec<String>,
    /// Versions applied in the tenant that the migrator does not know.
    pub unknown: Vec<String>,
}

/// The tenant migrator `M` bound to a [`Tenancy`]; from [`Tenancy::migrations`].
pub struct Migrations<M> {
    tenancy: Tenancy,
    _migrator: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for Migrations<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrations").finish_non_exhaustive()
    }
}

impl<M> Clone for Migrations<M> {
    fn clone(&self) -> Self {
        Migrations {
            tenancy: self.tenancy.clone(),
            _migrator: PhantomData,
        }
    }
}

impl Tenancy {
    /// The per-tenant runner of migrator `M`.
    pub fn migrations<M: MigratorTrait>(&self) -> Migrations<M> {
        Migrations {
            tenancy: self.clone(),
            _migrator: PhantomData,
        }
    }
}

/// Versions applied in a tenant, read from its migration table.
async fn applied<M: MigratorTrait, C: ConnectionTrait>(conn: &C) -> Result<Vec<String>> {
    M::install(conn).await?;
    Ok(M::get_applied_migrations(conn)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect())
}

async fn apply<M: MigratorTrait, C>(conn: &C, verb: Verb) -> std::result::Result<(), DbErr>
where
    C: ConnectionTrait,
    for<'c> &'c C: sea_orm_migration::IntoSchemaManagerConnection<'c>,
{
    match verb {
        Verb::Up(steps) => M::up(conn, steps).await,
        Verb::Down(steps) => M::down(conn, steps).await,
        Verb::Fresh => M::fresh(conn).await,
        Verb::Refresh => M::refresh(conn).await,
        Verb::Reset => M::reset(conn).await,
    }
}

/// The versions in `after` not in `before`, and the other way round.
fn changed(before: &[String], after: &[String]) -> Vec<String> {
    let mut out: Vec<String> = after
        .iter()
        .filter(|v| !before.contains(v))
        .chain(before.iter().filter(|v| !after.contains(v)))
        .cloned()
        .collect();
    out.dedup();
    out
}

impl<M: MigratorTrait> Migrations<M> {
    /// Runs `verb` in tenant `name`, which must be registered.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`], or
    /// [`Error::Migration`] with the migrator's error.
    pub async fn run(&self, name: &str, verb: Verb) -> Result<Vec<String>> {
        let id = self.tenancy.tenant_id(name)?;
        if !self.tenancy.exists(name).await? {
            return Err(Error::TenantNotFound {
                tenant: id.to_string(),
            });
        }
        self.run_id(&id, verb).await.map_err(|(e, _)| e)
    }

    /// Runs `verb` in a validated tenant (observed: span, metrics, hooks);
    /// on failure also the last applied version where it can be read.
    async fn run_id(
        &self,
        id: &TenantId,
        verb: Verb,
    ) -> std::result::Result<Vec<String>, (Error, Option<String>)> {
        let mut last = None;
        let run = async {
            self.run_unobserved(id, verb).await.map_err(|(e, l)| {
                last = l;
                e
            })
        };
        let migrated = |changed: &Vec<String>| {
            vec![TenantEvent::Migrated {
                tenant: id.clone(),
                changed: changed.clone(),
            }]
        };
        let result = self
            .tenancy
            .observe(Operation::Migrate, id, run, migrated)
            .await;
        result.map_err(|e| (e, last))
    }

    async fn run_unobserved(
        &self,
        id: &TenantId,
        verb: Verb,
    ) -> std::result::Result<Vec<String>, (Error, Option<String>)> {
        let t = &self.tenancy;
        let home = t.rules().home(id).map_err(|e| (e, None))?;
        let db = t.inner();
        let fail = |tenant: &TenantId, e: Error| Error::Migration {
            tenant: tenant.to_string(),
            source: Box::new(e),
        };
        let outside_transaction = outside_transaction::<M>();
        match db.get_database_backend() {
            DbBackend::Postgres if !outside_transaction => {
                let txn = db
                    .begin()
                    .await
                    .map_err(|e| (fail(id, Error::Db(e)), None))?;
                if let Err(e) = bind_postgres(&txn, &home, t.shared_schema()).await {
                    return Err((fail(id, e), None));
                }
                return self.in_transaction(id, txn, verb).await;
            }
            DbBackend::Sqlite => {
                // SQLite DDL is transactional too: one immediate transaction
                // per tenant serializes runners and makes the run atomic.
                let pool = t
                    .backend()
                    .migration_pool(db, &home)
                    .await
                    .map_err(|e| (fail(id, e), None))?;
                let options = TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                };
                let txn = pool
                    .begin_with_options(options)
                    .await
                    .map_err(|e| (fail(id, Error::Db(e)), None))?;
                let result = self.in_transaction(id, txn, verb).await;
                let _ = pool.close_by_ref().await;
                return result;
            }
            _ => {}
        }
        let conn = t
            .backend()
            .migration_pool(db, &home)
            .await
            .map_err(|e| (fail(id, e), None))?;
        let result = async {
            lock(&conn, &home).await.map_err(|e| (e, None))?;
            let before = applied::<M, _>(&conn).await.map_err(|e| (e, None))?;
            let outcome = apply::<M, _>(&conn, verb).await;
            let after = applied::<M, _>(&conn).await.map_err(|e| (e, None))?;
            outcome
                .map(|()| changed(&before, &after))
                .map_err(|e| (Error::Db(e), after.last().cloned()))
        }
        .await;
        let _ = conn.close_by_ref().await;
        result.map_err(|(e, last)| (fail(id, e), last))
    }

    /// Runs `verb` in a transaction bound to the tenant: committed when it
    /// succeeds, rolled back (the tenant unchanged) when it fails.
    async fn in_transaction(
        &self,
        id: &TenantId,
        txn: DatabaseTransaction,
        verb: Verb,
    ) -> std::result::Result<Vec<String>, (Error, Option<String>)> {
        let fail = |e: Error| Error::Migration {
            tenant: id.to_string(),
            source: Box::new(e),
        };
        let result = async {
            let before = applied::<M, _>(&txn).await?;
            apply::<M, _>(&txn, verb).await?;
            let after = applied::<M, _>(&txn).await?;
            if txn.get_database_backend() == DbBackend::Sqlite {
                let broken = txn
                    .query_all_raw(Statement::from_string(
                        DbBackend::Sqlite,
                        "PRAGMA foreign_key_check",
                    ))
                    .await?;
                if !broken.is_empty() {
                    return Err(Error::Db(DbErr::Migration(format!(
                        "{} rows violate foreign keys after the migration",
                        broken.len()
                    ))));
                }
            }
            Ok::<_, Error>(changed(&before, &after))
        }
        .await;
        match result {
            Ok(changed) => {
                txn.commit().await.map_err(|e| (fail(Error::Db(e)), None))?;
                Ok(changed)
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err((fail(e), self.last_applied(id).await))
            }
        }
    }

    async fn last_applied(&self, id: &TenantId) -> Option<String> {
        self.state_of(id).await.ok()?.applied.last().cloned()
    }

    /// Where tenant `name` stands against the migrator.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`] or a database error.
    pub async fn status(&self, name: &str) -> Result<MigrationState> {
        let id = self.tenancy.tenant_id(name)?;
        self.state_of(&id).await
    }

    async fn state_of(&self, id: &TenantId) -> Result<MigrationState> {
        let t = &self.tenancy;
        let home = t.rules().home(id)?;
        let table = "seaql_migrations";
        let db = t.inner();
        let rows: Vec<String> = match db.get_database_backend() {
            DbBackend::Sqlite => {
                let conn = t.backend().migration_pool(db, &home).await?;
                let found = versions(
                    &conn,
                    &format!("SELECT version FROM {table} ORDER BY version"),
                )
                .await;
                let _ = conn.close_by_ref().await;
                found?
            }
            backend => {
                let dialect = if backend == DbBackend::MySql {
                    Dialect::MySql
                } else {
                    Dialect::Postgres
                };
                let sql = format!(
                    "SELECT version FROM {}.{table} ORDER BY version",
                    dialect.quote(&home)
                );
                versions(db, &sql).await?
            }
        };
        let known: Vec<String> = M::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        Ok(MigrationState {
            tenant: id.clone(),
            applied: known.iter().filter(|v| rows.contains(v)).cloned().collect(),
            pending: known
                .iter()
                .filter(|v| !rows.contains(v))
                .cloned()
                .collect(),
            unknown: rows.into_iter().filter(|v| !known.contains(v)).collect(),
        })
    }

    /// Runs `verb` in every active tenant, `concurrency` at a time (at least
    /// one), and reports each. [`Migrations::run_all_observed`] also calls
    /// back as each tenant finishes.
    ///
    /// # Errors
    /// A database error listing the tenants; per-tenant failures are in the
    /// [`Report`], not an `Err`.
    pub async fn run_all(
        &self,
        verb: Verb,
        concurrency: usize,
        on_failure: OnFailure,
    ) -> Result<Report> {
        self.run_all_observed(verb, concurrency, on_failure, &|_, _| {})
            .await
    }

    /// [`Migrations::run_all`], calling `progress(report, total)` as each
    /// tenant finishes (for progress bars).
    ///
    /// # Errors
    /// As [`Migrations::run_all`].
    pub async fn run_all_observed(
        &self,
        verb: Verb,
        concurrency: usize,
        on_failure: OnFailure,
        progress: &(dyn Fn(&TenantReport, usize) + Sync),
    ) -> Result<Report> {
        let tenants: Vec<TenantId> = self
            .tenancy
            .list()
            .await?
            .into_iter()
            .filter(|t| t.status == TenantStatus::Active)
            .map(|t| t.id)
            .collect();
        Ok(self
            .run_many_observed(tenants, verb, concurrency, on_failure, progress)
            .await)
    }

    /// Runs `verb` in the given tenants, `concurrency` at a time.
    pub async fn run_many(
        &self,
        tenants: Vec<TenantId>,
        verb: Verb,
        concurrency: usize,
        on_failure: OnFailure,
    ) -> Report {
        self.run_many_observed(tenants, verb, concurrency, on_failure, &|_, _| {})
            .await
    }

    async fn run_many_observed(
        &self,
        tenants: Vec<TenantId>,
        verb: Verb,
        concurrency: usize,
        on_failure: OnFailure,
        progress: &(dyn Fn(&TenantReport, usize) + Sync),
    ) -> Report {
        let total = tenants.len();
        // Up to date already: read in batches, not one round trip per tenant.
        let current = match verb {
            Verb::Up(None) => self.up_to_date(&tenants).await.unwrap_or_default(),
            _ => Vec::new(),
        };
        let (done, tenants): (Vec<TenantId>, Vec<TenantId>) =
            tenants.into_iter().partition(|t| current.contains(t));
        let abort = std::sync::atomic::AtomicBool::new(false);
        let abort = &abort;
        let mut tenants: Vec<TenantReport> = stream::iter(tenants)
            .map(|tenant| async move {
                let started = std::time::Instant::now();
                if abort.load(std::sync::atomic::Ordering::Relaxed) {
                    return TenantReport {
                        tenant,
                        outcome: Outcome::Skipped,
                        elapsed: Duration::ZERO,
                    };
                }
                let outcome = match self.run_id(&tenant, verb).await {
                    Ok(changed) => Outcome::Ok { changed },
                    Err((error, last_applied)) => {
                        if on_failure == OnFailure::Abort {
                            abort.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                        tracing::warn!(tenant = %tenant, error = %error, "tenant migration failed");
                        Outcome::Failed {
                            error,
                            last_applied,
                        }
                    }
                };
                let report = TenantReport {
                    tenant,
                    outcome,
                    elapsed: started.elapsed(),
                };
                progress(&report, total);
                report
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        tenants.extend(done.into_iter().map(|tenant| TenantReport {
            tenant,
            outcome: Outcome::Ok {
                changed: Vec::new(),
            },
            elapsed: Duration::ZERO,
        }));
        tenants.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        Report { tenants }
    }

    /// The tenants that have every known version applied.
    async fn up_to_date(&self, tenants: &[TenantId]) -> Result<Vec<TenantId>> {
        if self.tenancy.inner().get_database_backend() == DbBackend::Sqlite {
            return Ok(Vec::new());
        }
        Ok(self
            .status_many(tenants)
            .await?
            .into_iter()
            .filter(|s| s.pending.is_empty())
            .map(|s| s.tenant)
            .collect())
    }

    /// Where each of `tenants` stands against the migrator. On PostgreSQL
    /// and MySQL this is one catalog query and one `UNION ALL` per 500
    /// tenants, not a round trip per tenant; on SQLite each file is read.
    ///
    /// # Errors
    /// A database error.
    pub async fn status_many(&self, tenants: &[TenantId]) -> Result<Vec<MigrationState>> {
        let t = &self.tenancy;
        let db = t.inner();
        let backend = db.get_database_backend();
        let dialect = match backend {
            DbBackend::Postgres => Dialect::Postgres,
            DbBackend::MySql => Dialect::MySql,
            _ => {
                let mut states = Vec::with_capacity(tenants.len());
                for id in tenants {
                    states.push(self.state_of(id).await?);
                }
                return Ok(states);
            }
        };
        let table = M::migration_table_name().to_string();
        let mut homes = Vec::with_capacity(tenants.len());
        for id in tenants {
            homes.push(t.rules().home(id)?);
        }
        let mut with_table = Vec::new();
        for chunk in homes.chunks(500) {
            let marks = match backend {
                DbBackend::Postgres => (2..chunk.len() + 2)
                    .map(|n| format!("${n}"))
                    .collect::<Vec<_>>(),
                _ => vec!["?".to_owned(); chunk.len()],
            };
            let first = if backend == DbBackend::Postgres {
                "$1"
            } else {
                "?"
            };
            let sql = format!(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = {first} AND table_schema IN ({})",
                marks.join(", ")
            );
            let values =
                std::iter::once(table.clone().into()).chain(chunk.iter().map(|h| h.clone().into()));
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?;
            with_table.extend(
                rows.iter()
                    .filter_map(|r| r.try_get_by_index::<String>(0).ok()),
            );
        }
        let mut applied: std::collections::HashMap<String, Vec<String>> = Default::default();
        for chunk in with_table.chunks(500) {
            // Homes passed validation: ASCII letters, digits, `_`, `-` only.
            let sql = chunk
                .iter()
                .map(|home| {
                    format!(
                        "SELECT CAST('{home}' AS CHAR(64)), version FROM {}.{}",
                        dialect.quote(home),
                        dialect.quote(&table)
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
        let known: Vec<String> = M::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        Ok(tenants
            .iter()
            .zip(homes)
            .map(|(id, home)| {
                let rows = applied.remove(&home).unwrap_or_default();
                MigrationState {
                    tenant: id.clone(),
                    applied: known.iter().filter(|v| rows.contains(v)).cloned().collect(),
                    pending: known
                        .iter()
                        .filter(|v| !rows.contains(v))
                        .cloned()
                        .collect(),
                    unknown: rows.into_iter().filter(|v| !known.contains(v)).collect(),
                }
            })
            .collect())
    }

    /// Creates tenant `name` and migrates it, as one unit: on PostgreSQL the
    /// registry row, the schema and every migration share one transaction;
    /// elsewhere a failure drops what was made. Nothing half-made survives.
    ///
    /// # Errors
    /// As [`Tenancy::create`], or [`Error::Migration`].
    pub async fn create_and_migrate(&self, name: &str) -> Result<Vec<String>> {
        self.create_and_migrate_with(name, async |_| Ok(())).await
    }

    /// [`Migrations::create_and_migrate`], then `seed` in a transaction of
    /// the new tenant, in the same unit: when seeding fails, the tenant is
    /// not created.
    ///
    /// # Errors
    /// As [`Tenancy::create`], or [`Error::Migration`] (also for a failed seed).
    pub async fn create_and_migrate_with<F>(&self, name: &str, seed: F) -> Result<Vec<String>>
    where
        F: for<'c> AsyncFnOnce(&'c TenantTransaction) -> std::result::Result<(), DbErr> + Send,
    {
        let t = &self.tenancy;
        let id = t.tenant_id(name)?;
        let conn = t.tenant_by_id(id.clone())?;
        let failed = |e: Error| Error::Migration {
            tenant: id.to_string(),
            source: Box::new(e),
        };
        let outside_transaction = outside_transaction::<M>();
        if t.backend().transactional_ddl() && !outside_transaction {
            let events = |versions: &Vec<String>| {
                vec![
                    TenantEvent::Created { tenant: id.clone() },
                    TenantEvent::Migrated {
                        tenant: id.clone(),
                        changed: versions.clone(),
                    },
                ]
            };
            let unit = self.create_and_migrate_in_transaction(&id, &conn, seed);
            return t.observe(Operation::Create, &id, unit, events).await;
        }
        // The row stays `provisioning` until the migrations and the seed
        // are done; a failure removes the home and the row.
        let mut versions = Vec::new();
        t.create_prepared(&id, async || {
            versions = self.run_id(&id, Verb::Up(None)).await.map_err(|(e, _)| e)?;
            let seeding = conn.begin().await?;
            seed(&seeding).await.map_err(|e| failed(Error::Db(e)))?;
            seeding.commit().await?;
            Ok(())
        })
        .await?;
        Ok(versions)
    }

    /// PostgreSQL: the registry row, the schema, every migration and the
    /// seed in one transaction.
    async fn create_and_migrate_in_transaction<F>(
        &self,
        id: &TenantId,
        conn: &TenantConnection,
        seed: F,
    ) -> Result<Vec<String>>
    where
        F: for<'c> AsyncFnOnce(&'c TenantTransaction) -> std::result::Result<(), DbErr> + Send,
    {
        let t = &self.tenancy;
        let txn = t.inner().begin().await?;
        t.create_in(&txn, id).await?;
        let home = t.rules().home(id)?;
        let result = async {
            bind_postgres(&txn, &home, t.shared_schema()).await?;
            M::up(&txn, None).await?;
            let versions = applied::<M, _>(&txn).await?;
            let seeding = conn.wrap(txn.begin().await?);
            seed(&seeding).await?;
            seeding.commit().await?;
            Ok::<_, Error>(versions)
        }
        .await;
        match result {
            Ok(versions) => {
                txn.commit().await?;
                Ok(versions)
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err(Error::Migration {
                    tenant: id.to_string(),
                    source: Box::new(e),
                })
            }
        }
    }
}

/// Whether a migration of `M` declares it cannot run in a transaction.
fn outside_transaction<M: MigratorTrait>() -> bool {
    M::migrations()
        .iter()
        .any(|m| m.use_transaction() == Some(false))
}

/// Binds a PostgreSQL transaction to a tenant: a per-tenant advisory lock
/// (two runners never apply a version twice) and `SET LOCAL search_path`.
async fn bind_postgres<C: ConnectionTrait>(txn: &C, home: &str, shared: &str) -> Result<()> {
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        [format!("tenancy:{home}").into()],
    ))
    .await?;
    let sql = format!(
        "SET LOCAL search_path TO {}, {}",
        Dialect::Postgres.quote(home),
        Dialect::Postgres.quote(shared)
    );
    txn.execute_unprepared(&sql).await?;
    Ok(())
}

/// A lock per tenant held by the dedicated migration connection (released
/// when it closes): `GET_LOCK` on MySQL, a session advisory lock on
/// PostgreSQL.
async fn lock(conn: &DatabaseConnection, home: &str) -> Result<()> {
    let key = format!("tenancy:{home}");
    let stmt = match conn.get_database_backend() {
        DbBackend::MySql => Statement::from_sql_and_values(
            DbBackend::MySql,
            "SELECT GET_LOCK(?, 3600)",
            [key.into()],
        ),
        DbBackend::Postgres => Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_lock(hashtext($1))",
            [key.into()],
        ),
        _ => return Ok(()),
    };
    conn.execute_raw(stmt).await?;
    Ok(())
}

async fn versions<C: ConnectionTrait>(conn: &C, sql: &str) -> Result<Vec<String>> {
    let stmt = Statement::from_string(conn.get_database_backend(), sql.to_owned());
    match conn.query_all_raw(stmt).await {
        Ok(rows) => rows
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).map_err(Error::Db))
            .collect(),
        // No migration table yet: nothing applied.
        Err(e) if is_missing_table(&e) => Ok(Vec::new()),
        Err(e) => Err(Error::Db(e)),
    }
}

fn is_missing_table(err: &DbErr) -> bool {
    let text = err.to_string().to_ascii_lowercase();
    text.contains("does not exist")
        || text.contains("doesn't exist")
        || text.contains("no such table")
}
