//! Hooks, metrics and tracing spans of tenant operations, end to end on a
//! real SQLite tenancy, through the public API only.

use std::sync::{Arc, Mutex};

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use sea_orm::{ConnectionTrait, Database, DbErr};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, async_trait};

use tenancy::{Irreversibly, Scope, Tenancy, TenantEvent, TenantId, Verb};

struct Table;
impl sea_orm_migration::MigrationName for Table {
    fn name(&self) -> &str {
        "m1_table"
    }
}
#[async_trait::async_trait]
impl MigrationTrait for Table {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
            .await
            .map(drop)
    }
}
struct Broken;
impl sea_orm_migration::MigrationName for Broken {
    fn name(&self) -> &str {
        "m2_broken"
    }
}
#[async_trait::async_trait]
impl MigrationTrait for Broken {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
            .await
            .map(drop)
    }
}
struct Good;
#[async_trait::async_trait]
impl MigratorTrait for Good {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Table)]
    }
}
struct Bad;
#[async_trait::async_trait]
impl MigratorTrait for Bad {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Table), Box::new(Broken)]
    }
}

/// A `fmt` subscriber's output, collected.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn lifecycle(events: Arc<Mutex<Vec<TenantEvent>>>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
    let db = Database::connect(&url).await.expect("sqlite");
    let tenancy = Tenancy::builder(db)
        .table("notes", Scope::Tenant)
        .on_event(move |e| events.lock().expect("lock").push(e.clone()))
        .build()
        .await
        .expect("tenancy");
    tenancy.create("acme").await.expect("create");
    assert!(tenancy.create("acme").await.is_err());
    tenancy
        .migrations::<Good>()
        .run("acme", Verb::Up(None))
        .await
        .expect("migrate");
    tenancy.create("globex").await.expect("create");
    assert!(
        tenancy
            .migrations::<Bad>()
            .run("globex", Verb::Up(None))
            .await
            .is_err()
    );
    tenancy.suspend("acme").await.expect("suspend");
    tenancy.drop("acme", Irreversibly).await.expect("drop");
}

#[test]
fn operations_emit_events_metrics_and_spans() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let events = Arc::new(Mutex::new(Vec::new()));
    metrics::with_local_recorder(&recorder, || {
        tracing::subscriber::with_default(subscriber, || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(lifecycle(events.clone()));
        });
    });

    let id = |n: &str| TenantId::new(n).expect("valid");
    let events = events.lock().expect("lock");
    let kinds: Vec<String> = events
        .iter()
        .map(|e| match e {
            TenantEvent::Created { tenant } => format!("created {tenant}"),
            TenantEvent::Dropped { tenant } => format!("dropped {tenant}"),
            TenantEvent::Migrated { tenant, changed } => {
                format!("migrated {tenant} {changed:?}")
            }
            TenantEvent::StatusChanged { tenant, status } => {
                format!("{} {tenant}", status.as_str())
            }
            TenantEvent::Failed {
                tenant,
                operation,
                code,
                ..
            } => {
                format!("failed {} {tenant} {}", operation.as_str(), code.as_str())
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "created acme",
            "failed create acme tenant_exists",
            "migrated acme [\"m1_table\"]",
            "created globex",
            "failed migrate globex migration",
            "suspended acme",
            "dropped acme",
        ]
    );
    assert!(matches!(&events[1], TenantEvent::Failed { tenant, .. } if *tenant == id("acme")));

    let snapshot = snapshotter.snapshot().into_vec();
    let counter = |name: &str, labels: &[(&str, &str)]| -> u64 {
        snapshot
            .iter()
            .filter(|(key, ..)| {
                let key = key.key();
                key.name() == name
                    && labels
                        .iter()
                        .all(|(k, v)| key.labels().any(|l| l.key() == *k && l.value() == *v))
            })
            .map(|(.., value)| match value {
                DebugValue::Counter(n) => *n,
                DebugValue::Histogram(v) => v.len() as u64,
                DebugValue::Gauge(_) => 0,
            })
            .sum()
    };
    let ops = "tenancy_operations_total";
    assert_eq!(
        counter(ops, &[("operation", "create"), ("outcome", "ok")]),
        2
    );
    assert_eq!(
        counter(ops, &[("operation", "create"), ("outcome", "error")]),
        1
    );
    assert_eq!(
        counter(ops, &[("operation", "migrate"), ("outcome", "ok")]),
        1
    );
    assert_eq!(counter("tenancy_migration_failures_total", &[]), 1);
    assert_eq!(
        counter(
            "tenancy_operation_duration_seconds",
            &[("operation", "drop")]
        ),
        1
    );

    let output = String::from_utf8(lines.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(
        output
            .lines()
            .any(|l| l.contains("operation=\"create\"") && l.contains("tenant=acme")),
        "{output}"
    );
    assert!(
        output.lines().any(|l| l.contains("operation=\"migrate\"")
            && l.contains("tenant=globex")
            && l.contains("failed")),
        "{output}"
    );
}
