//! Resident memory of a process holding many tenant handles, some of them
//! recently used.

use std::collections::HashMap;

use futures_util::{StreamExt, TryStreamExt, stream};
use sea_orm::ConnectionTrait;
use tenancy::{Tenancy, TenantConnection, TenantId};
use tenancy_tests::Kind;

use crate::{
    PG_URL,
    fanout::{ensure_tenants, name},
    measure::{Result, mib, rss, table},
    mix::{self, Op},
    setup::{PoolSpec, plan_id, prepare},
};

/// `tenancy-bench memory`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Tenant handles held (`TenantId` -> `TenantConnection`).
    #[arg(long, default_value_t = 100_000)]
    handles: usize,
    /// How many of them run a statement (real tenants, `fb_*` of `fanout`).
    #[arg(long, default_value_t = 10_000)]
    used: usize,
    /// Connections in the pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
    /// sqlx's prepared statement cache per connection.
    #[arg(long, default_value_t = 100)]
    statement_cache: usize,
    /// PostgreSQL database (created when missing).
    #[arg(long, env = "TENANCY_BENCH_PG_URL", default_value = PG_URL)]
    pg_url: String,
}

pub(crate) async fn run(args: Args) -> Result<()> {
    prepare(Kind::Postgres, &args.pg_url).await?;
    let rows = 50;
    {
        // Setup on its own pool, closed before measuring.
        let admin = PoolSpec::new(&args.pg_url, 4).open().await?;
        let tenancy = Tenancy::builder(admin.clone()).build().await?;
        let plan = plan_id(&admin, "bench-fanout").await?;
        ensure_tenants(&tenancy, args.used, rows, plan).await?;
        admin.close().await?;
    }
    let db = PoolSpec {
        statement_cache: args.statement_cache,
        ..PoolSpec::new(&args.pg_url, args.pool)
    }
    .open()
    .await?;
    let tenancy = Tenancy::builder(db.clone()).build().await?;
    // Open every connection of the pool first, so they count in the base.
    stream::iter(0..args.pool * 4)
        .map(|_| db.execute_unprepared("SELECT pg_sleep(0.01)"))
        .buffer_unordered(args.pool as usize)
        .try_collect::<Vec<_>>()
        .await?;
    let base = rss();

    let names: Vec<String> = (0..args.handles)
        .map(|i| {
            if i < args.used {
                name(i)
            } else {
                format!("mem_{i:06}")
            }
        })
        .collect();
    let with_names = rss();

    let mut handles: HashMap<TenantId, TenantConnection> = HashMap::with_capacity(names.len());
    for n in &names {
        let id = tenancy.tenant_id(n)?;
        let conn = tenancy.tenant_by_id(id.clone())?;
        handles.insert(id, conn);
    }
    let with_handles = rss();

    let used: Vec<TenantConnection> = names[..args.used.min(names.len())]
        .iter()
        .filter_map(|n| tenancy.tenant_id(n).ok())
        .filter_map(|id| handles.get(&id).cloned())
        .collect();
    stream::iter(used.iter().enumerate())
        .map(|(k, conn)| mix::run(conn, Op::FindById, k as u64, rows, 0))
        .buffer_unordered(args.pool as usize)
        .try_collect::<Vec<()>>()
        .await?;
    drop(used);
    let after_use = rss();

    let per = |bytes: u64, n: usize| format!("{:.0} B", bytes as f64 / n.max(1) as f64);
    println!(
        "memory: {} handles, {} used once (find_by_id each), pool of {}, statement cache {}\n",
        args.handles, args.used, args.pool, args.statement_cache
    );
    table(
        &["stage", "VmRSS", "added", "per tenant"],
        &[
            vec![
                "pool open, `Tenancy` built".to_owned(),
                mib(base as f64),
                String::new(),
                String::new(),
            ],
            vec![
                format!(
                    "+ {} tenant names (`String`, the application's)",
                    args.handles
                ),
                mib(with_names as f64),
                mib(with_names.saturating_sub(base) as f64),
                per(with_names.saturating_sub(base), args.handles),
            ],
            vec![
                format!(
                    "+ {} `TenantId` -> `TenantConnection` in a `HashMap` (**library**)",
                    args.handles
                ),
                mib(with_handles as f64),
                mib(with_handles.saturating_sub(with_names) as f64),
                format!(
                    "**{}**",
                    per(with_handles.saturating_sub(with_names), args.handles)
                ),
            ],
            vec![
                format!("+ {} of them used once", args.used),
                mib(after_use as f64),
                mib(after_use.saturating_sub(with_handles) as f64),
                per(after_use.saturating_sub(with_handles), args.used),
            ],
        ],
    );
    println!(
        "size_of::<TenantConnection>() = {} B, size_of::<TenantId>() = {} B",
        std::mem::size_of::<TenantConnection>(),
        std::mem::size_of::<TenantId>()
    );
    drop(handles);
    db.close().await?;
    Ok(())
}
