//! The runner's `up` (its own, in few round trips; on PostgreSQL a tenant's
//! DDL goes in one message when no migration reads): the same end state as
//! one statement at a time on every backend, whatever the migrations do.
//! A migration that reads, one that binds values and one that inserts
//! literal rows; steps; a failing statement rolls the tenant back and is
//! reported as the database reports it, with the last version applied.

use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, prelude::*};
use tenancy::{MigrateOptions, MigrationOutcome, Scope, TenantId, Verb};
use tenancy_tests::{Kind, isolated::Isolated};

/// Creates `notes` and inserts two literal rows (batched on PostgreSQL).
struct Notes;

impl MigrationName for Notes {
    fn name(&self) -> &str {
        "m1_notes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Notes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("notes")
                .col(ColumnDef::new("id").integer().not_null().primary_key())
                .col(ColumnDef::new("body").string().not_null())
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("INSERT INTO notes (id, body) VALUES (1, 'it''s'), (2, 'two')")
            .await
            .map(drop)
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("notes").to_owned()).await
    }
}

/// Reads (`has_table`) before it writes: never batched.
struct Labels;

impl MigrationName for Labels {
    fn name(&self) -> &str {
        "m2_labels"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Labels {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !m.has_table("labels").await? {
            m.create_table(
                Table::create()
                    .table("labels")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("labels").to_owned()).await
    }
}

/// Inserts a row with a bound value: never batched.
struct Bound;

impl MigrationName for Bound {
    fn name(&self) -> &str {
        "m3_bound"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Bound {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let insert = Query::insert()
            .into_table("notes")
            .columns(["id", "body"])
            .values_panic([3.into(), "bound; 'quoted'".into()])
            .to_owned();
        m.exec_stmt(insert).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

/// Fails: `notes` has a row with id 1.
struct Duplicate;

impl MigrationName for Duplicate {
    fn name(&self) -> &str {
        "m4_duplicate"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Duplicate {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("more")
                .col(ColumnDef::new("id").integer().not_null().primary_key())
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("INSERT INTO notes (id, body) VALUES (1, 'again')")
            .await
            .map(drop)
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

/// Handles a failed read itself and goes on: recorded on the mock it would
/// take the wrong branch (skip the column), so it must never be batched.
struct Swallows;

impl MigrationName for Swallows {
    fn name(&self) -> &str {
        "m5_swallows"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Swallows {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A read without bound values whose failure the migration takes
        // for "nothing to do".
        let conn = m.get_connection();
        let probe = Statement::from_string(conn.get_database_backend(), "SELECT 1");
        if conn.query_one_raw(probe).await.is_err() {
            return Ok(());
        }
        m.alter_table(
            Table::alter()
                .table("notes")
                .add_column(ColumnDef::new("extra").integer().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

struct Swallowing;

impl MigratorTrait for Swallowing {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Notes), Box::new(Swallows)]
    }
}

/// Only literal DDL and rows: the batched case.
struct Literal;

impl MigratorTrait for Literal {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Notes)]
    }
}

/// Every kind of migration.
struct Mixed;

impl MigratorTrait for Mixed {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Notes), Box::new(Labels), Box::new(Bound)]
    }
}

/// Ends with a failing statement.
struct Failing;

impl MigratorTrait for Failing {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(Notes),
            Box::new(Labels),
            Box::new(Bound),
            Box::new(Duplicate),
        ]
    }
}

/// Literal statements only, the last one failing: the batch fails, and the
/// unit is run again one statement at a time.
struct FailingLiteral;

impl MigratorTrait for FailingLiteral {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Notes), Box::new(Duplicate)]
    }
}

async fn bodies(iso: &Isolated, tenant: &str) -> Vec<String> {
    let conn = iso.tenancy.tenant(tenant).expect("valid");
    conn.query_all_raw(Statement::from_string(
        conn.get_database_backend(),
        "SELECT body FROM notes ORDER BY id",
    ))
    .await
    .expect("notes")
    .iter()
    .map(|r| r.try_get_by_index::<String>(0).expect("body"))
    .collect()
}

async fn batches(kind: Kind) {
    let Some(iso) = Isolated::with(kind, |b| {
        ["notes", "labels", "more"]
            .into_iter()
            .fold(b, |b, t| b.table(t, Scope::Tenant))
    })
    .await
    else {
        return;
    };
    let t = &iso.tenancy;

    // Literal DDL and rows, through create_and_migrate and through run.
    assert_eq!(
        t.migrations::<Literal>()
            .create_and_migrate("lit_a")
            .await
            .expect("create"),
        ["m1_notes"]
    );
    t.create("lit_b").await.expect("create");
    assert_eq!(
        t.migrations::<Literal>()
            .run("lit_b", Verb::Up(None))
            .await
            .expect("up"),
        ["m1_notes"]
    );
    for name in ["lit_a", "lit_b"] {
        assert_eq!(bodies(&iso, name).await, ["it's", "two"], "{name}");
        let status = t
            .migrations::<Literal>()
            .status(name)
            .await
            .expect("status");
        assert_eq!(status.applied, ["m1_notes"]);
    }

    // Reads and bound values: the same end state, one step at a time too.
    let mixed = t.migrations::<Mixed>();
    mixed.create_and_migrate("mix_a").await.expect("create");
    t.create("mix_b").await.expect("create");
    assert_eq!(
        mixed.run("mix_b", Verb::Up(Some(1))).await.expect("one"),
        ["m1_notes"]
    );
    assert_eq!(
        mixed.run("mix_b", Verb::Up(None)).await.expect("rest"),
        ["m2_labels", "m3_bound"]
    );
    for name in ["mix_a", "mix_b"] {
        assert_eq!(
            bodies(&iso, name).await,
            ["it's", "two", "bound; 'quoted'"],
            "{name}"
        );
        assert!(mixed.status(name).await.expect("status").pending.is_empty());
    }
    // `lit_b` has m1: the others are applied on top of it.
    assert_eq!(
        mixed.run("lit_b", Verb::Up(None)).await.expect("up"),
        ["m2_labels", "m3_bound"]
    );

    // A migration that swallows its failed read runs on the real database.
    t.migrations::<Swallowing>()
        .create_and_migrate("swallow")
        .await
        .expect("create");
    let conn = t.tenant("swallow").expect("valid");
    conn.execute_unprepared("UPDATE notes SET extra = 7")
        .await
        .expect("the column was added");

    // A failing statement: nothing of the run stays (PostgreSQL and
    // SQLite: one transaction; MySQL: the migrations before it stay,
    // recorded), and the error is the database's for that statement.
    let failing = t.migrations::<Failing>();
    let err = failing
        .create_and_migrate("fail_a")
        .await
        .expect_err("duplicate key");
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(
        text.to_lowercase().contains("duplicate") || text.contains("UNIQUE"),
        "{text}"
    );
    assert!(!t.exists("fail_a").await.expect("exists"));
    assert!(!t.home_exists("fail_a").await.expect("home"));
    t.create("fail_b").await.expect("create");
    let id = TenantId::new("fail_b").expect("valid");
    let report = failing
        .run_many(vec![id], Verb::Up(None), MigrateOptions::default())
        .await;
    match &report.tenants[0].outcome {
        MigrationOutcome::Failed {
            last_applied,
            error,
        } => {
            let expected = match kind {
                Kind::MySql => Some("m3_bound"),
                _ => None,
            };
            assert_eq!(last_applied.as_deref(), expected, "{error}");
        }
        other => panic!("{other:?}"),
    }
    let status = failing.status("fail_b").await.expect("status");
    match kind {
        Kind::MySql => assert_eq!(status.pending, ["m4_duplicate"]),
        _ => assert_eq!(status.pending.len(), 4, "{status:?}"),
    }

    // The same with only literal statements (a batch on PostgreSQL that
    // fails, then the unit one statement at a time).
    let literal = t.migrations::<FailingLiteral>();
    let err = literal
        .create_and_migrate("fail_c")
        .await
        .expect_err("duplicate key");
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(
        text.to_lowercase().contains("duplicate") || text.contains("UNIQUE"),
        "{text}"
    );
    assert!(!t.exists("fail_c").await.expect("exists"));
    assert!(!t.home_exists("fail_c").await.expect("home"));
    t.create("fail_d").await.expect("create");
    let err = literal
        .run("fail_d", Verb::Up(None))
        .await
        .expect_err("duplicate key");
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(
        text.to_lowercase().contains("duplicate") || text.contains("UNIQUE"),
        "{text}"
    );
    let status = literal.status("fail_d").await.expect("status");
    match kind {
        Kind::MySql => assert_eq!(status.pending, ["m4_duplicate"]),
        _ => assert_eq!(status.pending.len(), 2, "{status:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_ends_the_same_on_postgres() {
    batches(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_ends_the_same_on_mysql() {
    batches(Kind::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_ends_the_same_on_sqlite() {
    batches(Kind::Sqlite).await;
}
