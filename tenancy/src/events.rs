//! What the library tells the outside about tenant operations: hooks
//! ([`TenantEvent`]), `tracing` spans and `metrics` counters/histograms.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `tenancy_operations_total` | counter | `operation`, `outcome` (`ok`/`error`) |
//! | `tenancy_operation_duration_seconds` | histogram | `operation` |
//! | `tenancy_migration_failures_total` | counter | none |
//! | `tenancy_statements_total` | counter | `tenant` (only with [`TenancyBuilder::statement_metrics`](crate::TenancyBuilder::statement_metrics)) |
//!
//! Without a `metrics` recorder installed these cost one atomic load each.

use std::{future::Future, sync::Arc, time::Instant};

use tracing::Instrument;

use crate::{
    error::{Error, ErrorCode, Result},
    lifecycle::TenantStatus,
    tenant_id::TenantId,
};

/// A tenant operation, as named in spans, metrics and [`TenantEvent::Failed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// [`Tenancy::create`](crate::Tenancy::create) and `create_and_migrate`.
    Create,
    /// [`Tenancy::drop`](crate::Tenancy::drop).
    Drop,
    /// A migration run in one tenant.
    Migrate,
    /// [`Tenancy::suspend`](crate::Tenancy::suspend) or
    /// [`Tenancy::resume`](crate::Tenancy::resume).
    ChangeStatus,
}

impl Operation {
    /// The name used in spans and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Drop => "drop",
            Operation::Migrate => "migrate",
            Operation::ChangeStatus => "change_status",
        }
    }
}

/// Something that happened to a tenant, passed to the hooks registered with
/// [`TenancyBuilder::on_event`](crate::TenancyBuilder::on_event) after the
/// change is committed (or, for `Failed`, undone).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantEvent {
    /// The tenant was created.
    Created {
        /// The tenant.
        tenant: TenantId,
    },
    /// The tenant and its home were deleted.
    Dropped {
        /// The tenant.
        tenant: TenantId,
    },
    /// A migration run in the tenant committed.
    Migrated {
        /// The tenant.
        tenant: TenantId,
        /// The versions applied or rolled back by the run (empty: nothing to do).
        changed: Vec<String>,
    },
    /// The tenant was suspended or resumed.
    StatusChanged {
        /// The tenant.
        tenant: TenantId,
        /// The new status.
        status: TenantStatus,
    },
    /// An operation on the tenant failed and left it as it was.
    Failed {
        /// The tenant.
        tenant: TenantId,
        /// What was attempted.
        operation: Operation,
        /// The error's stable code.
        code: ErrorCode,
        /// The error, as text (may contain database text: log it, do not
        /// send it to clients).
        message: String,
    },
}

/// A lifecycle hook.
pub(crate) type EventHook = dyn Fn(&TenantEvent) + Send + Sync;

/// The hooks of one tenancy.
#[derive(Clone, Default)]
pub(crate) struct Hooks(Vec<Arc<EventHook>>);

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hooks({})", self.0.len())
    }
}

impl Hooks {
    pub(crate) fn push(&mut self, hook: Arc<EventHook>) {
        self.0.push(hook);
    }

    pub(crate) fn emit(&self, event: &TenantEvent) {
        for hook in &self.0 {
            hook(event);
        }
    }

    /// Runs `fut` as operation `op` on `tenant`: inside a span carrying the
    /// tenant, counted and timed, with `Failed` emitted on error and the
    /// events of `on_ok` on success.
    pub(crate) async fn observe<T, F>(
        &self,
        op: Operation,
        tenant: &TenantId,
        fut: F,
        on_ok: impl FnOnce(&T) -> Vec<TenantEvent>,
    ) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let span = tracing::info_span!("tenancy", operation = op.as_str(), tenant = %tenant);
        let started = Instant::now();
        let result = fut.instrument(span.clone()).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::counter!("tenancy_operations_total", "operation" => op.as_str(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("tenancy_operation_duration_seconds", "operation" => op.as_str())
            .record(started.elapsed().as_secs_f64());
        let _entered = span.enter();
        match &result {
            Ok(value) => {
                tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "done");
                for event in on_ok(value) {
                    self.emit(&event);
                }
            }
            Err(error) => {
                if op == Operation::Migrate {
                    metrics::counter!("tenancy_migration_failures_total").increment(1);
                }
                tracing::warn!(%error, "failed");
                self.emit(&failed(tenant, op, error));
            }
        }
        result
    }
}

fn failed(tenant: &TenantId, operation: Operation, error: &Error) -> TenantEvent {
    TenantEvent::Failed {
        tenant: tenant.clone(),
        operation,
        code: error.code(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    use sea_orm::{ConnectionTrait, Database, DbErr};
    use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, async_trait};

    use super::*;
    use crate::{Irreversibly, Scope, Tenancy, Verb};

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
}
