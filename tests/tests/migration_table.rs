//! A migrator that keeps its versions in a table of its own name
//! (`migration_table_name()`): `status`, `run_all`, `status_many` and
//! health read and write that table on every backend.

use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, prelude::*};
use tenancy::{HealthProblem, HealthStatus, MigrateOptions, MigrationOutcome, TenantId, Verb};
use tenancy_tests::{Kind, isolated::Isolated};

struct Notes;

impl MigrationName for Notes {
    fn name(&self) -> &str {
        "m20260101_000001_notes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Notes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("notes")
                .col(ColumnDef::new("id").integer().not_null().primary_key())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("notes").to_owned()).await
    }
}

struct Labels;

impl MigrationName for Labels {
    fn name(&self) -> &str {
        "m20260101_000002_labels"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Labels {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("labels")
                .col(ColumnDef::new("id").integer().not_null().primary_key())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("labels").to_owned()).await
    }
}

/// Versions in `app_versions`, not `seaql_migrations`.
struct CustomTable;

impl MigratorTrait for CustomTable {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Notes), Box::new(Labels)]
    }

    fn migration_table_name() -> DynIden {
        "app_versions".into_iden()
    }
}

/// The same table, one more migration that fails.
struct CustomTableFailing;

struct Broken;

impl MigrationName for Broken {
    fn name(&self) -> &str {
        "m20260101_000003_broken"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Broken {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // `notes` exists: creating it again fails on every backend.
        Notes.up(m).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

impl MigratorTrait for CustomTableFailing {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Notes), Box::new(Labels), Box::new(Broken)]
    }

    fn migration_table_name() -> DynIden {
        "app_versions".into_iden()
    }
}

const ALL: [&str; 2] = ["m20260101_000001_notes", "m20260101_000002_labels"];

async fn custom_migration_table(kind: Kind) {
    let Some(iso) = Isolated::with(kind, |b| b.migrator::<CustomTable>()).await else {
        return;
    };
    let t = &iso.tenancy;
    let m = t.migrations::<CustomTable>();
    let names: Vec<String> = (0..3).map(|i| format!("custom{i}")).collect();
    for name in &names {
        t.create(name).await.expect("create");
    }
    let ids: Vec<TenantId> = names
        .iter()
        .map(|n| t.tenant_id(n).expect("valid"))
        .collect();

    // Nothing applied: every version pending, health degraded.
    assert_eq!(m.status(&names[0]).await.expect("status").pending, ALL);
    let health = t.health(&names[0]).await.expect("health");
    assert_eq!(
        health.problem,
        Some(HealthProblem::MigrationsPending),
        "{health:?}"
    );

    // One tenant one step ahead, then everyone up through run_all.
    m.run(&names[0], Verb::Up(Some(1))).await.expect("up one");
    assert_eq!(m.status(&names[0]).await.expect("status").applied, ALL[..1]);
    let report = m
        .run_all(Verb::Up(None), MigrateOptions::default())
        .await
        .expect("run_all");
    assert!(report.is_ok(), "{report:?}");
    let changed: Vec<usize> = report
        .tenants
        .iter()
        .map(|r| match &r.outcome {
            MigrationOutcome::Ok { changed } => changed.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(changed, [1, 2, 2]);

    // Read back through every path: all applied, nothing pending or unknown.
    for state in m.status_many(&ids).await.expect("status_many") {
        assert_eq!(state.applied, ALL, "{state:?}");
        assert!(state.pending.is_empty(), "{state:?}");
        assert!(state.unknown.is_empty(), "{state:?}");
    }
    for name in &names {
        assert!(m.status(name).await.expect("status").pending.is_empty());
        let health = t.health(name).await.expect("health");
        assert_eq!(health.status, HealthStatus::Ok, "{health:?}");
        assert_eq!(health.applied_version.as_deref(), Some(ALL[1]));
        assert_eq!(health.pending, Some(0));
    }
    // A second run_all has nothing to do.
    let again = m
        .run_all(Verb::Up(None), MigrateOptions::default())
        .await
        .expect("run_all");
    assert!(
        again
            .tenants
            .iter()
            .all(|r| matches!(&r.outcome, MigrationOutcome::Ok { changed } if changed.is_empty()))
    );
    // A failing run reports the last version applied, read from the
    // migrator's own table.
    let failing = t.migrations::<CustomTableFailing>();
    let report = failing
        .run_many(
            ids[1..2].to_vec(),
            Verb::Up(None),
            MigrateOptions::default(),
        )
        .await;
    match &report.tenants[0].outcome {
        MigrationOutcome::Failed { last_applied, .. } => {
            assert_eq!(last_applied.as_deref(), Some(ALL[1]), "{report:?}");
        }
        other => panic!("{other:?}"),
    }
    // Rolling back is seen the same way.
    m.run(&names[2], Verb::Down(Some(1))).await.expect("down");
    let states = m.status_many(&ids).await.expect("status_many");
    assert_eq!(states[2].pending, ALL[1..]);
    assert_eq!(m.status(&names[2]).await.expect("status").pending, ALL[1..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_migration_table_postgres() {
    custom_migration_table(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_migration_table_mysql() {
    custom_migration_table(Kind::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_migration_table_sqlite() {
    custom_migration_table(Kind::Sqlite).await;
}
