//! What the command line prints: error chains, the
//! report of a run over every tenant, drift.

use std::{process::ExitCode, time::Instant};

use crate::{
    migrate::{MigrationOutcome, MigrationReport},
    tenant::MigrationState,
};

/// `err` and every cause under it on one line, `: `-separated; a cause
/// already quoted by the message above it is not repeated.
pub(super) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How a tenant stands: `current`, `behind` (pending versions), `ahead`
/// (versions the migrator does not know) or `diverged` (both).
pub(super) fn drift(state: &MigrationState) -> &'static str {
    match (state.pending.is_empty(), state.unknown.is_empty()) {
        (true, true) => "current",
        (false, true) => "behind",
        (true, false) => "ahead",
        (false, false) => "diverged",
    }
}

/// Prints one line per tenant (a failure with its whole cause) and the
/// totals; failure when any tenant did not succeed.
pub(super) fn print_report(report: &MigrationReport, started: Instant) -> ExitCode {
    for t in &report.tenants {
        match &t.outcome {
            MigrationOutcome::Ok { changed } => {
                println!("ok      {}  {}", t.tenant, changed.join(", "))
            }
            MigrationOutcome::Failed {
                error,
                last_applied,
            } => println!(
                "FAILED  {}  {} (last applied: {})",
                t.tenant,
                chain(error),
                last_applied.as_deref().unwrap_or("none")
            ),
            MigrationOutcome::Skipped => println!("skipped {}", t.tenant),
        }
    }
    let ok = report
        .tenants
        .iter()
        .filter(|t| matches!(t.outcome, MigrationOutcome::Ok { .. }))
        .count();
    let failed = report.failed().count();
    let skipped = report.tenants.len() - ok - failed;
    println!(
        "tenants: {ok} ok, {failed} failed, {skipped} skipped in {:.2?}",
        started.elapsed()
    );
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_skip_repeated_causes() {
        let inner = std::io::Error::other("disk full");
        let err = crate::Error::Migration {
            tenant: "acme".to_owned(),
            source: Box::new(crate::Error::Db(sea_orm::DbErr::Custom(format!(
                "write failed: {inner}"
            )))),
        };
        assert_eq!(
            chain(&err),
            "migration of tenant acme failed: Custom Error: write failed: disk full"
        );
    }
}
