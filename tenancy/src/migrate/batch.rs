//! A tenant's DDL in one round trip, where the backend allows it
//! (`Migrate::batch_insert`: PostgreSQL). The pending migrations
//! are first run against a recording connection (SeaORM's mock, which
//! answers every statement and refuses every read); when none of them
//! reads and every statement is plain SQL without bound values, their
//! statements and the version rows go to the tenant's transaction as one
//! simple-query message, which PostgreSQL runs statement by statement
//! inside that transaction. Otherwise the migrations run one statement at
//! a time; and when a statement of the message fails (not the session:
//! `Migrate::is_statement_error`), the unit is run again that way, which
//! names the statement that failed.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseConnectionType, DbBackend, DbErr, ExecResult,
    MockDatabase, MockDatabaseConnection, MockDatabaseTrait, MockExecResult, QueryResult,
    Statement, sea_query::InsertStatement,
};
use sea_orm_migration::{MigrationTrait, SchemaManager};

use crate::backend::Backend;

/// Statements a batch may hold; a migration that sends more runs one
/// statement at a time.
const MOST: usize = 4096;

/// Whether a run may batch (through which backend), and whether a
/// statement of its batch failed (then the unit is run again, one
/// statement at a time).
#[derive(Debug)]
pub(super) struct Batching<'b> {
    backend: Option<&'b dyn Backend>,
    failed: AtomicBool,
}

impl<'b> Batching<'b> {
    /// Batching where `backend` allows it.
    pub(super) fn on(backend: &'b dyn Backend) -> Self {
        Batching {
            backend: Some(backend),
            failed: AtomicBool::new(false),
        }
    }

    /// One statement at a time.
    pub(super) fn off() -> Self {
        Batching {
            backend: None,
            failed: AtomicBool::new(false),
        }
    }

    /// Whether a statement of this run's batch failed.
    pub(super) fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }
}

/// SeaORM's mock, noting every read: a migration that reads is never
/// batched, even when it handles the refused read and goes on (it would
/// then take a branch the real database might not).
#[derive(Debug)]
struct Recorder {
    mock: MockDatabase,
    read: Arc<AtomicBool>,
}

impl MockDatabaseTrait for Recorder {
    fn execute(&mut self, counter: usize, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.mock.execute(counter, stmt)
    }

    fn query(&mut self, counter: usize, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.read.store(true, Ordering::Relaxed);
        self.mock.query(counter, stmt)
    }

    fn begin(&mut self) {
        self.mock.begin();
    }

    fn commit(&mut self) {
        self.mock.commit();
    }

    fn rollback(&mut self) {
        self.mock.rollback();
    }

    fn drain_transaction_log(&mut self) -> Vec<sea_orm::Transaction> {
        self.mock.drain_transaction_log()
    }

    fn get_database_backend(&self) -> DbBackend {
        self.mock.get_database_backend()
    }

    fn ping(&self) -> Result<(), DbErr> {
        self.mock.ping()
    }
}

/// The statements `pending` would send, or `None` when one of them reads,
/// binds values, or fails against the recorder.
async fn record(backend: DbBackend, pending: &[Box<dyn MigrationTrait>]) -> Option<Vec<String>> {
    let read = Arc::new(AtomicBool::new(false));
    let recorder = Recorder {
        mock: MockDatabase::new(backend).append_exec_results(vec![MockExecResult::default(); MOST]),
        read: read.clone(),
    };
    let recorder: DatabaseConnection = DatabaseConnectionType::MockDatabaseConnection(Arc::new(
        MockDatabaseConnection::new(recorder),
    ))
    .into();
    for migration in pending {
        migration.up(&SchemaManager::new(&recorder)).await.ok()?;
    }
    if read.load(Ordering::Relaxed) {
        return None;
    }
    let mut sql = Vec::new();
    for txn in recorder.into_transaction_log() {
        for stmt in txn.statements() {
            if stmt.values.as_ref().is_some_and(|v| !v.0.is_empty()) {
                return None;
            }
            sql.push(stmt.sql.clone());
        }
    }
    Some(sql)
}

/// Runs `pending` and then `versions` (the rows recording them) on `conn`
/// in one message when they can be batched; `Ok(false)` when they cannot
/// (nothing was sent). A failed message marks `batching` failed.
pub(super) async fn run<C: ConnectionTrait>(
    conn: &C,
    pending: &[Box<dyn MigrationTrait>],
    versions: &InsertStatement,
    batching: &Batching<'_>,
) -> Result<bool, DbErr> {
    let Some(backend) = batching.backend else {
        return Ok(false);
    };
    let Some(versions) = backend.batch_insert(versions) else {
        return Ok(false);
    };
    if pending.is_empty() {
        return Ok(false);
    }
    let Some(mut statements) = record(conn.get_database_backend(), pending).await else {
        return Ok(false);
    };
    statements.push(versions);
    let script = statements.join(";\n");
    match conn.execute_unprepared(&script).await {
        Ok(_) => Ok(true),
        Err(e) => {
            if backend.is_statement_error(&e) {
                batching.failed.store(true, Ordering::Relaxed);
            }
            Err(e)
        }
    }
}
