//! Statement overhead: the same statements through a plain
//! `DatabaseConnection` (tables in the shared home) and a `TenantConnection`
//! (tables in the tenant's home), same rows, same pool.

use std::sync::Arc;

use sea_orm::ConnectionTrait;
use tenancy::{Irreversibly, Tenancy};
use tenancy_tests::Kind;

use crate::{
    MYSQL_URL, PG_URL,
    measure::{Result, Rounds, Timing, table, throughput},
    mix::{self, Op},
    setup::{PoolSpec, plan_id, prepare},
};

/// `tenancy-bench overhead`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    timing: Timing,
    /// Rows in each `posts` table.
    #[arg(long, default_value_t = 1000)]
    rows: i32,
    /// PostgreSQL database (created when missing).
    #[arg(long, env = "TENANCY_BENCH_PG_URL", default_value = PG_URL)]
    pg_url: String,
    /// MySQL/MariaDB database (created when missing); `--mysql-url ''` skips it.
    #[arg(long, env = "TENANCY_BENCH_MYSQL_URL", default_value = MYSQL_URL)]
    mysql_url: String,
}

/// The tenant of this bench, dropped at the end.
const TENANT: &str = "ovh";

pub(crate) async fn run(args: Args) -> Result<()> {
    let t = args.timing;
    println!(
        "overhead: {} tasks on a pool of {}, {} rounds of {}s per cell after {}s warm-up, {} rows\n",
        t.tasks, t.pool, t.rounds, t.secs, t.warmup, args.rows
    );
    let mut rows = Vec::new();
    for (kind, url) in [
        (Kind::Postgres, &args.pg_url),
        (Kind::MySql, &args.mysql_url),
    ] {
        if url.is_empty() {
            continue;
        }
        rows.extend(backend(kind, url, &args).await?);
    }
    table(
        &[
            "backend",
            "statement",
            "plain ops/s",
            "tenant ops/s",
            "tenant/plain (range)",
        ],
        &rows,
    );
    Ok(())
}

async fn backend(kind: Kind, url: &str, args: &Args) -> Result<Vec<Vec<String>>> {
    let t = args.timing;
    prepare(kind, url).await?;
    let db = PoolSpec::new(url, t.pool).open().await?;
    let plan = plan_id(&db, "bench").await?;
    mix::fill(&db, args.rows, plan).await?;
    let tenancy = Tenancy::builder(db.clone()).build().await?;
    if tenancy.exists(TENANT).await? {
        tenancy.drop(TENANT, Irreversibly).await?;
    }
    tenancy.create(TENANT).await?;
    let tenant = tenancy.tenant(TENANT)?;
    mix::fill(&tenant, args.rows, plan).await?;

    let plain = Arc::new(db.clone());
    let tenant = Arc::new(tenant);
    let mut cells = vec![(Rounds::default(), Rounds::default()); Op::ALL.len()];
    for round in 0..t.rounds {
        for (op, (p, q)) in Op::ALL.into_iter().zip(&mut cells) {
            // Alternate which variant goes first.
            for variant in [round % 2, 1 - round % 2] {
                if variant == 0 {
                    p.push(measure(t, &plain, op, args.rows, plan).await?);
                } else {
                    q.push(measure(t, &tenant, op, args.rows, plan).await?);
                }
            }
        }
    }
    tenancy.drop(TENANT, Irreversibly).await?;
    let name = match kind {
        Kind::Postgres => "PostgreSQL 15",
        _ => "MariaDB 10.11",
    };
    let mut all = Rounds::default();
    let mut rows = Vec::new();
    for (op, (p, q)) in Op::ALL.into_iter().zip(&cells) {
        let ratio = q.ratio(p);
        all.0.extend(&ratio.0);
        rows.push(vec![
            name.to_owned(),
            op.label().to_owned(),
            p.ops(),
            q.ops(),
            ratio.times(),
        ]);
    }
    rows.push(vec![
        name.to_owned(),
        "**all four**".to_owned(),
        String::new(),
        String::new(),
        format!("**{}**", all.times()),
    ]);
    db.close().await?;
    Ok(rows)
}

async fn measure<C>(t: Timing, conn: &Arc<C>, op: Op, rows: i32, plan: i32) -> Result<f64>
where
    C: ConnectionTrait + Send + Sync + 'static,
{
    let conn = conn.clone();
    throughput(t, move |k| {
        let conn = conn.clone();
        async move { mix::run(&*conn, op, k, rows, plan).await }
    })
    .await
}
