//! The periodic job: in every active tenant, delete the items done and
//! older than a cut-off ([`purge_done`]), every so often ([`spawn_purge`]).

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tenancy::{EachOptions, JobReport, Tenancy};

use crate::item;

/// Deletes, in every active tenant, the items done and created more than
/// `older_than` ago; the rows deleted per tenant.
///
/// # Errors
/// A database error reading the tenant registry (a tenant's failure is in
/// the report).
pub async fn purge_done(
    tenancy: &Tenancy,
    older_than: Duration,
) -> tenancy::Result<JobReport<u64>> {
    let age = chrono::TimeDelta::from_std(older_than).unwrap_or(chrono::TimeDelta::MAX);
    let cutoff = chrono::Utc::now()
        .checked_sub_signed(age)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    tenancy
        .each(EachOptions::default(), async |conn| {
            let deleted = item::Entity::delete_many()
                .filter(item::Column::Done.eq(true))
                .filter(item::Column::CreatedAt.lt(cutoff))
                .exec(&conn)
                .await?;
            Ok(deleted.rows_affected)
        })
        .await
}

/// Runs [`purge_done`] every `every` until the returned task is aborted;
/// each run's totals are logged.
pub fn spawn_purge(
    tenancy: Tenancy,
    every: Duration,
    older_than: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once: wait a whole period first.
        tick.tick().await;
        loop {
            tick.tick().await;
            match purge_done(&tenancy, older_than).await {
                Ok(report) => {
                    let deleted: u64 = report
                        .tenants
                        .iter()
                        .filter_map(|t| match t.outcome {
                            tenancy::JobOutcome::Ok(n) => Some(n),
                            _ => None,
                        })
                        .sum();
                    for t in report.failed() {
                        tracing::warn!(tenant = %t.tenant, outcome = ?t.outcome, "purge failed");
                    }
                    tracing::info!(tenants = report.tenants.len(), deleted, "purged done items");
                }
                Err(e) => tracing::warn!(error = %e, "purge could not list the tenants"),
            }
        }
    })
}
