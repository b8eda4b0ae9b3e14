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
    tenant::TenantStatus,
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
