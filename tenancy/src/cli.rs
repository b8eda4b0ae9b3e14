//! A `sea-orm-cli migrate`-style command line over [`Migrations`], for the
//! binary of an application's migration crate:
//!
//! ```no_run
//! # struct SharedMigrator; struct TenantMigrator;
//! # impl sea_orm_migration::MigratorTrait for SharedMigrator { fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> { vec![] } }
//! # impl sea_orm_migration::MigratorTrait for TenantMigrator { fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> { vec![] } }
//! #[tokio::main]
//! async fn main() {
//!     tenancy::cli::run(SharedMigrator, TenantMigrator).await
//! }
//! ```
//!
//! `up` alone migrates the shared home; `up --all` the shared home, then
//! every active tenant; `up --tenant acme` one tenant. `down --all` rolls back
//! tenants only; `fresh`, `refresh` and `reset` never touch the shared home
//! (it holds the tenant registry). `down`, `fresh`, `refresh` and `reset`
//! with `--all` need `--force`, as `tenant drop` does.
//!
//! `status` and `tenant list` only read: they never install the registry,
//! and fail with "no tenancy registry in this database" where there is none.
//! A `--tenant` the registry does not know is an error. Without
//! `--concurrency`, an `--all` run finds how many tenants at a time the
//! server absorbs as it goes; either way the concurrency is capped by the
//! pool size and the server's free connections (a lowered request is
//! printed on stderr). Errors print their whole chain of causes, with the
//! database URL's password masked. The exit code is non-zero when anything
//! failed.

mod args;
mod cluster;
mod connect;
mod error;
mod output;

use std::{process::ExitCode, time::Instant};

use clap::Parser;
use sea_orm_migration::MigratorTrait;
use serde_json::json;

use self::{
    args::{Cli, Command, Target, TenantCommand},
    error::CliError,
    output::{Secrets, chain, drift, print_report, skipped_line},
};
use crate::{
    error::Error,
    migrate::{MigrateOptions, Migrations, OnFailure, TenantReport, Verb},
    tenancy::Tenancy,
    tenant::{Irreversibly, TenantStatus},
    tenant_id::TenantId,
};

/// Above this, tenants with files of their own (SQLite) gain nothing and
/// risk the limit on open files.
const FILE_CONCURRENCY: usize = 64;

impl Command {
    /// Whether the command only reads (and so must not install anything).
    fn is_read_only(&self) -> bool {
        matches!(
            self,
            Command::Status { .. }
                | Command::Tenant(
                    TenantCommand::List { .. }
                        | TenantCommand::Placement { .. }
                        | TenantCommand::Lint { .. }
                        | TenantCommand::Rebalance { dry_run: true, .. }
                )
        )
    }

    /// Refuses what needs a confirmation it was not given, before anything
    /// connects.
    fn check(&self) -> Result<(), CliError> {
        let (verb, run) = match self {
            Command::Down { run, .. } => ("down", run),
            Command::Fresh(run) => ("fresh", run),
            Command::Refresh(run) => ("refresh", run),
            Command::Reset(run) => ("reset", run),
            Command::Tenant(TenantCommand::Drop { name, force: false }) => {
                return Err(CliError::DropNeedsForce {
                    tenant: name.clone(),
                });
            }
            _ => return Ok(()),
        };
        if run.target.all && !run.force {
            return Err(CliError::AllNeedsForce { verb });
        }
        Ok(())
    }
}

/// Parses the command line, runs it, and exits the process with its code:
/// 0 when everything succeeded, 1 otherwise. Errors go to stderr on one
/// line, with every cause and with the database URL's password masked.
pub async fn run<S: MigratorTrait, T: MigratorTrait>(_shared: S, _tenant: T) {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let secrets = Secrets::new(cli.database_url.as_deref());
    let code = match execute::<S, T>(cli, &secrets).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", secrets.mask(&chain(&err)));
            ExitCode::FAILURE
        }
    };
    std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
}

/// The concurrency of an `--all` run: as asked, or chosen while the run
/// goes (see [`MigrateOptions::concurrency`]); either way capped by what
/// the backend can take, the cap said on stderr when it lowers a request.
async fn concurrency(
    tenancy: &Tenancy,
    asked: Option<usize>,
    options: MigrateOptions,
) -> Result<MigrateOptions, CliError> {
    let db = tenancy.inner();
    let backend = tenancy.backend();
    let (cap, why) = if backend.pool_per_tenant() {
        let why = format!("at most {FILE_CONCURRENCY} tenant files are open at once");
        (FILE_CONCURRENCY, why)
    } else {
        let pool = crate::backend::pool_size(db);
        match backend.connection_headroom(db).await? {
            // A tenant may take a connection of its own besides the pool's.
            Some(free) => (
                usize::try_from(free)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(pool)
                    .clamp(1, pool),
                format!(
                    "the pool holds {pool} connections and the server accepts {free} more \
                     (one per tenant beside the pool)"
                ),
            ),
            None => (pool, format!("the pool holds {pool} connections")),
        }
    };
    let Some(wanted) = asked.map(|n| n.max(1)) else {
        let ceiling = options
            .max_concurrency
            .unwrap_or_else(|| tenancy.work_ceiling())
            .min(cap);
        return Ok(options.max_concurrency(ceiling));
    };
    if wanted > cap {
        eprintln!("concurrency capped at {cap} (asked for {wanted}): {why}");
        return Ok(options.concurrency(cap));
    }
    Ok(options.concurrency(wanted))
}

/// Fails unless tenant `name` is registered.
async fn registered(tenancy: &Tenancy, name: &str) -> Result<TenantId, CliError> {
    let id = tenancy.tenant_id(name)?;
    match tenancy.info_id(&id).await? {
        Some(_) => Ok(id),
        None => Err(Error::TenantNotFound {
            tenant: id.to_string(),
        }
        .into()),
    }
}

async fn apply_verb<S: MigratorTrait, T: MigratorTrait>(
    tenancy: &Tenancy,
    secrets: &Secrets,
    target: Target,
    verb: Verb,
) -> Result<ExitCode, CliError> {
    let m: Migrations<T> = tenancy.migrations();
    if let Some(name) = target.tenant {
        // An unregistered tenant is `TenantNotFound`, before anything runs.
        let changed = m.run(&name, verb).await?;
        println!("ok      {name}  {}", changed.join(", "));
        return Ok(ExitCode::SUCCESS);
    }
    let db = tenancy.inner();
    // The shared home holds the tenant registry: it is migrated up and down,
    // never wiped from here.
    match verb {
        Verb::Up(steps) => S::up(db, steps).await?,
        Verb::Down(steps) if !target.all => S::down(db, steps).await?,
        Verb::Down(_) => {}
        _ if target.all => {}
        Verb::Fresh => return Err(CliError::NoTarget { verb: "fresh" }),
        Verb::Refresh => return Err(CliError::NoTarget { verb: "refresh" }),
        _ => return Err(CliError::NoTarget { verb: "reset" }),
    }
    println!("ok      (shared)");
    if !target.all {
        return Ok(ExitCode::SUCCESS);
    }
    let started = Instant::now();
    let options = MigrateOptions::default()
        .include_suspended(target.include_suspended)
        .on_failure(if target.abort_on_failure {
            OnFailure::Abort
        } else {
            OnFailure::Continue
        });
    let options = concurrency(tenancy, target.concurrency, options).await?;
    // `--all` runs active tenants only: the others are named in the summary.
    let inactive: Vec<(TenantStatus, String)> = tenancy
        .list()
        .await?
        .into_iter()
        .filter(|t| {
            t.status != TenantStatus::Active
                && !(target.include_suspended && t.status == TenantStatus::Suspended)
        })
        .map(|t| (t.status, t.id.to_string()))
        .collect();
    // A progress bar on a terminal; plain lines otherwise.
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tenants {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = |report: &TenantReport, total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_message(report.tenant.to_string());
            bar.inc(1);
        }
    };
    let report = m.run_all_observed(verb, options, &progress).await?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let code = print_report(&report, started, secrets);
    for status in [
        TenantStatus::Suspended,
        TenantStatus::Provisioning,
        TenantStatus::Dropping,
    ] {
        let names: Vec<&str> = inactive
            .iter()
            .filter(|(s, _)| *s == status)
            .map(|(_, n)| n.as_str())
            .collect();
        if let Some(line) = skipped_line(status, &names) {
            println!("{line}");
        }
    }
    Ok(code)
}

async fn execute<S: MigratorTrait, T: MigratorTrait>(
    cli: Cli,
    secrets: &Secrets,
) -> Result<ExitCode, CliError> {
    cli.command.check()?;
    let read_only = cli.command.is_read_only();
    let db = connect::connect(cli.database_url, cli.verbose, read_only).await?;
    let tenancy = Tenancy::builder(db)
        .install_registry(!read_only)
        .build()
        .await?;
    let m: Migrations<T> = tenancy.migrations();
    match cli.command {
        Command::Up { target, num } => {
            apply_verb::<S, T>(&tenancy, secrets, target, Verb::Up(num)).await
        }
        Command::Down { run, num } => {
            apply_verb::<S, T>(&tenancy, secrets, run.target, Verb::Down(Some(num))).await
        }
        Command::Fresh(run) => apply_verb::<S, T>(&tenancy, secrets, run.target, Verb::Fresh).await,
        Command::Refresh(run) => {
            apply_verb::<S, T>(&tenancy, secrets, run.target, Verb::Refresh).await
        }
        Command::Reset(run) => apply_verb::<S, T>(&tenancy, secrets, run.target, Verb::Reset).await,
        Command::Status { target, json } => {
            let ids: Vec<TenantId> = match target.tenant {
                Some(name) => vec![registered(&tenancy, &name).await?],
                None => tenancy.list().await?.into_iter().map(|t| t.id).collect(),
            };
            let states = m.status_many(&ids).await?;
            if json {
                let out: Vec<_> = states
                    .iter()
                    .map(|s| json!({"tenant": s.tenant.as_str(), "drift": drift(s), "applied": s.applied, "pending": s.pending, "unknown": s.unknown}))
                    .collect();
                println!("{}", serde_json::Value::Array(out));
            } else {
                for s in &states {
                    println!(
                        "{}  {}  applied {}  pending {}  unknown {}",
                        s.tenant,
                        drift(s),
                        s.applied.len(),
                        s.pending.len(),
                        s.unknown.len()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant(TenantCommand::Create { name }) => {
            let applied = m.create_and_migrate(&name).await?;
            println!("created {name} ({} migrations)", applied.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant(TenantCommand::Drop { name, .. }) => {
            tenancy.drop(&name, Irreversibly).await?;
            println!("dropped {name}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant(
            cmd @ (TenantCommand::Placement { .. }
            | TenantCommand::Move { .. }
            | TenantCommand::Rebalance { .. }
            | TenantCommand::Lint { .. }),
        ) => cluster::run(&tenancy, cmd).await,
        Command::Tenant(TenantCommand::List { json }) => {
            let tenants = tenancy.list().await?;
            if json {
                let out: Vec<_> = tenants
                    .iter()
                    .map(|t| json!({"name": t.id.as_str(), "status": t.status.as_str(), "created_at": t.created_at.to_rfc3339(), "metadata": t.metadata}))
                    .collect();
                println!("{}", serde_json::Value::Array(out));
            } else {
                for t in &tenants {
                    println!(
                        "{}  {}  {}",
                        t.id,
                        t.status.as_str(),
                        t.created_at.to_rfc3339()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
