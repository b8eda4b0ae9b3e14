//! The command line, as clap reads it.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Migrate the shared home and every tenant")]
pub(super) struct Cli {
    /// Database URL of the shared home (its value is never printed).
    #[arg(
        short = 'u',
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub(super) database_url: Option<String>,
    /// Log SQL and progress.
    #[arg(short, long, global = true)]
    pub(super) verbose: bool,
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Args)]
pub(super) struct Target {
    /// One tenant.
    #[arg(long, conflicts_with = "all")]
    pub(super) tenant: Option<String>,
    /// The shared home, then every active tenant.
    #[arg(long)]
    pub(super) all: bool,
    /// Tenants migrated at once (default: chosen while the run goes, from
    /// the throughput the server gives; capped by the pool and the
    /// server's free connections).
    #[arg(long)]
    pub(super) concurrency: Option<usize>,
    /// Stop starting tenants after the first failure.
    #[arg(long)]
    pub(super) abort_on_failure: bool,
    /// With --all: suspended tenants too (by default they are skipped and
    /// migrated when resumed).
    #[arg(long, conflicts_with = "tenant")]
    pub(super) include_suspended: bool,
}

/// A verb that deletes tenant data: `--all` needs `--force`.
#[derive(Debug, Args)]
pub(super) struct Destructive {
    #[command(flatten)]
    pub(super) target: Target,
    /// Confirm a run over every tenant (`--all`): it deletes tenant data.
    #[arg(long)]
    pub(super) force: bool,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Apply pending migrations.
    Up {
        #[command(flatten)]
        target: Target,
        /// How many migrations (default: all).
        #[arg(short = 'n', long)]
        num: Option<u32>,
    },
    /// Roll back migrations (default: one).
    Down {
        #[command(flatten)]
        run: Destructive,
        /// How many migrations.
        #[arg(short = 'n', long, default_value_t = 1)]
        num: u32,
    },
    /// Applied, pending and unknown versions (read-only).
    Status {
        #[command(flatten)]
        target: Target,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Drop every table, then apply every migration.
    Fresh(Destructive),
    /// Roll back every migration, then apply every migration.
    Refresh(Destructive),
    /// Roll back every migration.
    Reset(Destructive),
    /// Tenant lifecycle.
    #[command(subcommand)]
    Tenant(TenantCommand),
}

#[derive(Debug, Subcommand)]
pub(super) enum TenantCommand {
    /// Create a tenant and migrate it, as one unit.
    Create { name: String },
    /// Delete a tenant and all its data (irreversible).
    Drop {
        name: String,
        /// Confirm: the tenant's data is deleted for good.
        #[arg(long)]
        force: bool,
    },
    /// List tenants (read-only).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Citus: the node of one tenant, or of every tenant (read-only).
    Placement {
        /// The tenant (default: every tenant).
        name: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Citus: move a tenant, every table and row, to another node.
    Move {
        name: String,
        /// The node, host:port, as the coordinator lists it.
        #[arg(long)]
        to: crate::cluster::Node,
        /// Keep the tenant writable while it moves (every table needs a
        /// primary key); by default its writes wait.
        #[arg(long)]
        online: bool,
    },
    /// Citus: spread the tenants evenly over the nodes.
    Rebalance {
        /// Print the moves without making them.
        #[arg(long)]
        dry_run: bool,
        /// Keep tenants writable while they move.
        #[arg(long)]
        online: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Citus: what the cluster would refuse or get wrong in the current
    /// schema (read-only; exit code 1 when anything is found).
    Lint {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}
