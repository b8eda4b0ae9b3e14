//! `tenancy-bench`: the numbers in `BENCHMARKS.md`, one subcommand per table.
//!
//! - `overhead`: the same statements through a plain `DatabaseConnection`
//!   and through a `TenantConnection`, same data, same pool (PostgreSQL and
//!   MySQL/MariaDB).
//! - `fanout`: a mix of statements round-robin over 1 .. 10,000 PostgreSQL
//!   tenants on one pool, against `SET search_path` per checkout and against
//!   an LRU of per-tenant pools, at several statement cache capacities.
//! - `memory`: resident memory of 100,000 tenant handles, 10,000 of them used.
//! - `migrate`: migrating 1,000 tenants, the no-op rerun, and
//!   `create_and_migrate` against the raw DDL floor.
//! - `citus`: the same work through a Citus coordinator and on plain
//!   PostgreSQL (creating and migrating 10,000 tenants, the no-op rerun,
//!   `find_by_id` and the mix), ratios in one run.
//!
//! Every subcommand prints a Markdown table. Throughput is operations per
//! second of `--tasks` concurrent tasks over `--secs` seconds after a
//! warm-up; variants are interleaved round by round in one process, so the
//! ratios compare like with like on a noisy machine.

mod baselines;
mod citus;
mod fanout;
mod measure;
mod memory;
mod migrate;
mod mix;
mod overhead;
mod setup;

use clap::{Parser, Subcommand};

use crate::measure::Result;

/// The database every PostgreSQL bench uses (created when missing; the
/// fan-out tenants stay in it between runs, `fanout --cleanup` drops them).
const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/tenancy_bench";
/// The MySQL/MariaDB database of the overhead bench.
const MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/tenancy_bench";

#[derive(Debug, Parser)]
#[command(
    name = "tenancy-bench",
    about = "Benchmarks of tenancy; each prints a Markdown table"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Statement overhead: plain `DatabaseConnection` vs `TenantConnection`.
    Overhead(overhead::Args),
    /// Tenant fan-out on one pool against two baselines.
    Fanout(fanout::Args),
    /// Resident memory of many tenant handles.
    Memory(memory::Args),
    /// Migrating many tenants; create_and_migrate against raw DDL.
    Migrate(migrate::Args),
    /// The same work through a Citus coordinator and on plain PostgreSQL.
    Citus(citus::Args),
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Overhead(args) => overhead::run(args).await,
        Command::Fanout(args) => fanout::run(args).await,
        Command::Memory(args) => memory::run(args).await,
        Command::Migrate(args) => migrate::run(args).await,
        Command::Citus(args) => citus::run(args).await,
    }
}
