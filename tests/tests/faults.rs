//! Faults: the database connection killed mid-transaction, mid-stream and
//! mid-migration. The caller gets an error, no other tenant is touched,
//! nothing half-written stays committed, and the pool serves the next
//! statement.

use std::{
    sync::{
        OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::TryStreamExt;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set, Statement, StreamTrait,
    TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, prelude::*};
use tenancy::{ErrorCode, Verb};
use tenancy_tests::{Fixture, Kind, matrix::snapshot, post, unique};

/// Kills server session `id` from the plain connection.
async fn kill(fx: &Fixture, id: i64) {
    let sql = match fx.kind {
        Kind::Postgres => format!("SELECT pg_terminate_backend({id})"),
        _ => format!("KILL {id}"),
    };
    fx.tenancy
        .inner()
        .execute_unprepared(&sql)
        .await
        .expect("session killed");
}

/// The server session of the connection `conn` runs on.
async fn session_id<C: ConnectionTrait>(kind: Kind, conn: &C) -> i64 {
    let sql = match kind {
        Kind::Postgres => "SELECT CAST(pg_backend_pid() AS BIGINT)",
        _ => "SELECT CAST(CONNECTION_ID() AS SIGNED)",
    };
    conn.query_one_raw(Statement::from_string(kind.backend(), sql))
        .await
        .expect("session id")
        .expect("a row")
        .try_get_by_index(0)
        .expect("id")
}

/// Waits for the session running a statement that contains `marker`.
async fn session_running(fx: &Fixture, marker: &str) -> i64 {
    let sql = match fx.kind {
        Kind::Postgres => format!(
            "SELECT CAST(pid AS BIGINT) FROM pg_stat_activity \
             WHERE state = 'active' AND query LIKE '%{marker}%' \
             AND query NOT LIKE '%pg_stat_activity%'"
        ),
        _ => format!(
            "SELECT CAST(id AS SIGNED) FROM information_schema.processlist \
             WHERE info LIKE '%{marker}%' AND info NOT LIKE '%processlist%'"
        ),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = fx
            .tenancy
            .inner()
            .query_one_raw(Statement::from_string(fx.kind.backend(), sql.clone()))
            .await
            .expect("activity");
        if let Some(row) = row {
            return row.try_get_by_index(0).expect("id");
        }
        assert!(Instant::now() < deadline, "no session runs {marker}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn killed_mid_transaction(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let a = fx.seeded("a", 2).await;
    let b = fx.seeded("b", 3).await;
    let (a_before, b_before) = (snapshot(&a).await, snapshot(&b).await);
    let txn = a.begin().await.expect("begin");
    let half = |title: &str| post::ActiveModel {
        title: Set(title.to_owned()),
        status: Set(post::Status::Draft),
        plan_id: Set(fx.plan_id),
        ..Default::default()
    };
    half("half-1").insert(&txn).await.expect("first insert");
    post::Entity::delete_many()
        .exec(&txn)
        .await
        .expect("delete in the transaction");
    let id = session_id(kind, &txn).await;
    kill(&fx, id).await;
    let err = half("half-2")
        .insert(&txn)
        .await
        .expect_err("the connection is gone");
    assert_ne!(
        tenancy::Error::code_of(&err),
        Some(ErrorCode::CrossTenantReference)
    );
    txn.commit()
        .await
        .expect_err("nothing to commit on a dead connection");
    // The pool serves the next statement at once.
    let after = snapshot(&a).await;
    assert_eq!(after, a_before, "a half-written transaction was committed");
    assert_eq!(snapshot(&b).await, b_before, "tenant B changed");
    half("after").insert(&a).await.expect("the pool recovered");
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_transaction_postgres() {
    killed_mid_transaction(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_transaction_mysql() {
    killed_mid_transaction(Kind::MySql).await;
}

async fn killed_mid_stream(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let a = fx.seeded("a", 5).await;
    let b = fx.seeded("b", 3).await;
    let (a_before, b_before) = (snapshot(&a).await, snapshot(&b).await);
    let marker = unique("stream");
    // Far more rows than socket buffers hold: the server is still sending.
    let rows = match kind {
        Kind::Postgres => "CROSS JOIN generate_series(1, 400000) g",
        _ => {
            "CROSS JOIN (SELECT 1 FROM information_schema.columns c1, \
              information_schema.columns c2 LIMIT 400000) g"
        }
    };
    let sql = format!("SELECT p.title /* {marker} */ FROM posts p {rows}");
    let mut stream = a
        .stream_raw(Statement::from_string(kind.backend(), sql))
        .await
        .expect("stream starts");
    let first = stream.try_next().await.expect("first row").expect("a row");
    let title: String = first.try_get_by_index(0).expect("title");
    assert!(title.starts_with("a-"), "{title}");
    let id = session_running(&fx, &marker).await;
    kill(&fx, id).await;
    let mut seen = 1u64;
    let outcome: Result<(), DbErr> = async {
        while let Some(row) = stream.try_next().await? {
            let title: String = row.try_get_by_index(0)?;
            assert!(title.starts_with("a-"), "{title}");
            seen += 1;
        }
        Ok(())
    }
    .await;
    drop(stream);
    outcome.expect_err("the stream ends with an error, not quietly");
    assert!(seen < 5 * 400_000, "the whole result arrived: {seen}");
    assert_eq!(snapshot(&a).await, a_before);
    assert_eq!(snapshot(&b).await, b_before, "tenant B changed");
    post::Entity::find()
        .all(&a)
        .await
        .expect("the pool recovered");
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_stream_postgres() {
    killed_mid_stream(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_stream_mysql() {
    killed_mid_stream(Kind::MySql).await;
}

/// The marker of the sleeping migration, and whether it sleeps.
static MARKER: OnceLock<String> = OnceLock::new();
static SLEEPS: AtomicBool = AtomicBool::new(true);

struct M1CreatesATable;

impl MigrationName for M1CreatesATable {
    fn name(&self) -> &str {
        "m0001_creates_a_table"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M1CreatesATable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("half_made")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO half_made (id) VALUES (1)")
            .await
            .map(drop)
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

struct M2Sleeps;

impl MigrationName for M2Sleeps {
    fn name(&self) -> &str {
        "m0002_sleeps"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M2Sleeps {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if SLEEPS.load(Ordering::SeqCst) {
            let marker = MARKER.get().map_or("", String::as_str);
            let sql = format!("SELECT pg_sleep(30) /* {marker} */");
            manager.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

struct SleepyMigrator;

impl MigratorTrait for SleepyMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(M1CreatesATable), Box::new(M2Sleeps)]
    }
}

async fn tables(fx: &Fixture, name: &str) -> Vec<String> {
    let home = fx.tenancy.home_of(name).expect("valid");
    fx.tenancy
        .inner()
        .query_all_raw(Statement::from_sql_and_values(
            fx.kind.backend(),
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = $1 ORDER BY 1",
            [home.into()],
        ))
        .await
        .expect("catalog")
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("name"))
        .collect()
}

/// PostgreSQL: a tenant's migration runs in one transaction, so a killed
/// run leaves the tenant exactly as it was.
#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_migration_postgres() {
    let Some(fx) = Fixture::new(Kind::Postgres).await else {
        return;
    };
    let marker = MARKER.get_or_init(|| unique("migration")).clone();
    let b = fx.seeded("b", 3).await;
    let b_before = snapshot(&b).await;
    let name = fx.name();
    fx.tenancy.create(&name).await.expect("create");
    let before = tables(&fx, &name).await;
    let m = fx.tenancy.migrations::<SleepyMigrator>();
    let run = tokio::spawn({
        let m = m.clone();
        let name = name.clone();
        async move { m.run(&name, Verb::Up(None)).await }
    });
    let id = session_running(&fx, &marker).await;
    kill(&fx, id).await;
    let err = run
        .await
        .expect("task")
        .expect_err("the migration lost its connection");
    assert_eq!(err.code(), ErrorCode::Migration, "{err}");
    assert_eq!(
        tables(&fx, &name).await,
        before,
        "a half-made migration stayed"
    );
    assert!(m.status(&name).await.expect("status").applied.is_empty());
    assert_eq!(snapshot(&b).await, b_before, "tenant B changed");
    // The pool recovers: the same run, without the sleep, goes through.
    SLEEPS.store(false, Ordering::SeqCst);
    let applied = m
        .run(&name, Verb::Up(None))
        .await
        .unwrap_or_else(|e| panic!("rerun: {e} ({:?})", std::error::Error::source(&e)));
    assert_eq!(applied.len(), 2);
    assert!(tables(&fx, &name).await.contains(&"half_made".to_owned()));
}
