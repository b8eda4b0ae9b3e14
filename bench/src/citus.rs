//! `tenancy-bench citus`: the same work through a Citus coordinator and on
//! plain PostgreSQL, in one run: `create_and_migrate` latency (samples
//! interleaved), creating and migrating many tenants at a fixed
//! concurrency and where Citus placed them, the no-op migrate-all, then
//! `find_by_id` and the statement mix (rounds interleaved). On one machine
//! the three Citus nodes share its cores with each other and the bench:
//! read the ratios as a worst case.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use migration::{SharedMigrator, TenantMigrator};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;
use tenancy::{MigrateOptions, Tenancy, TenantConnection, Verb};
use tenancy_tests::Kind;

use crate::{
    PG_URL,
    measure::{Result, Rounds, Timing, table, throughput},
    mix::{self, Op},
    setup::{PoolSpec, drop_prefixed, plan_id, prepare},
};

/// The coordinator's bench database (make it with `cluster.sh mkdb
/// tenancy_bench`).
const CITUS_URL: &str = "postgres://postgres@127.0.0.1:5433/tenancy_bench";

/// `tenancy-bench citus`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Tenants created and migrated on each side.
    #[arg(long, default_value_t = 10_000)]
    tenants: usize,
    /// Concurrent creates (and the migration runner's concurrency).
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// `create_and_migrate` latency samples per side.
    #[arg(long, default_value_t = 30)]
    samples: usize,
    /// Tenants the statement mix runs over.
    #[arg(long, default_value_t = 20)]
    mix_tenants: u64,
    /// Rows per mix tenant.
    #[arg(long, default_value_t = 1000)]
    rows: i32,
    /// Leave the bench tenants in place (drop the databases instead, or
    /// let the next run drop them) rather than timing their drop.
    #[arg(long)]
    keep: bool,
    #[command(flatten)]
    timing: Timing,
    /// Plain PostgreSQL database (created when missing).
    #[arg(long, env = "TENANCY_BENCH_PG_URL", default_value = PG_URL)]
    pg_url: String,
    /// Citus coordinator database (with the extension on every node).
    #[arg(long, env = "TENANCY_BENCH_CITUS_URL", default_value = CITUS_URL)]
    citus_url: String,
}

struct Side {
    label: &'static str,
    db: DatabaseConnection,
    tenancy: Tenancy,
    plan: i32,
}

async fn side(label: &'static str, kind: Kind, url: &str, pool: u32) -> Result<Side> {
    prepare(kind, url).await?;
    let db = PoolSpec::new(url, pool).open().await?;
    SharedMigrator::up(&db, None).await?;
    let tenancy = Tenancy::builder(db.clone()).build().await?;
    if (kind == Kind::Citus) != tenancy.is_distributed() {
        return Err(format!("{label}: {url} is not what it should be").into());
    }
    let plan = plan_id(&db, "citus-bench").await?;
    let side = Side {
        label,
        db,
        tenancy,
        plan,
    };
    side.clean().await?;
    Ok(side)
}

impl Side {
    /// Drops every tenant this bench made (earlier runs' too), `concurrency`
    /// at a time; how long it took and how many.
    async fn drop_all(&self, concurrency: usize) -> Result<(Duration, usize)> {
        let started = Instant::now();
        let dropped = drop_prefixed(&self.tenancy, "cb", concurrency).await?;
        Ok((started.elapsed(), dropped))
    }

    async fn clean(&self) -> Result<()> {
        self.drop_all(4).await?;
        Ok(())
    }

    async fn create_many(&self, prefix: &str, n: usize, concurrency: usize) -> Result<Duration> {
        let m = self.tenancy.migrations::<TenantMigrator>();
        let started = Instant::now();
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}_{i}")).collect();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let every = (n / 10).max(1);
        let results: Vec<_> = stream::iter(names.iter())
            .map(|n| async {
                let r = m.create_and_migrate(n).await;
                let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if d.is_multiple_of(every) {
                    eprintln!(
                        "{}: {d} created and migrated in {:.1} s",
                        self.label,
                        started.elapsed().as_secs_f64()
                    );
                }
                r
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for r in results {
            r?;
        }
        Ok(started.elapsed())
    }

    /// Tenants per node (`-` on plain PostgreSQL).
    async fn spread(&self) -> Result<String> {
        if !self.tenancy.is_distributed() {
            return Ok("-".to_owned());
        }
        let mut per: BTreeMap<String, usize> = BTreeMap::new();
        for (_, node) in self.tenancy.placements().await? {
            *per.entry(node.to_string()).or_default() += 1;
        }
        Ok(per
            .iter()
            .map(|(n, c)| format!("{n}: {c}"))
            .collect::<Vec<_>>()
            .join(", "))
    }

    async fn mix_tenants(&self, n: u64, rows: i32) -> Result<Vec<TenantConnection>> {
        let m = self.tenancy.migrations::<TenantMigrator>();
        let mut conns = Vec::new();
        for i in 0..n {
            let name = format!("cbmix_{i}");
            m.create_and_migrate(&name).await?;
            let conn = self.tenancy.tenant(&name)?;
            mix::fill(&conn, rows, self.plan).await?;
            conns.push(conn);
        }
        Ok(conns)
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn pick(v: &[Duration], q: f64) -> Duration {
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn ratio(a: f64, b: f64) -> String {
    format!("{:.2}x", a / b)
}

async fn server_version(db: &DatabaseConnection) -> Result<String> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT coalesce((SELECT 'Citus ' || extversion FROM pg_extension WHERE extname = 'citus'), 'PostgreSQL') \
             || ' on ' || current_setting('server_version')",
        ))
        .await?
        .ok_or("no version")?;
    Ok(row.try_get_by_index(0)?)
}

pub(crate) async fn run(args: Args) -> Result<()> {
    let pool = args.timing.pool;
    let sides = [
        side("PostgreSQL", Kind::Postgres, &args.pg_url, pool).await?,
        side("Citus", Kind::Citus, &args.citus_url, pool).await?,
    ];
    for s in &sides {
        eprintln!("{}: {}", s.label, server_version(&s.db).await?);
    }

    // create_and_migrate latency, the two sides interleaved.
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for i in 0..args.samples.max(2) {
        for (s, t) in sides.iter().zip(times.iter_mut()) {
            let m = s.tenancy.migrations::<TenantMigrator>();
            let started = Instant::now();
            m.create_and_migrate(&format!("cbl_{i}")).await?;
            t.push(started.elapsed());
        }
    }
    for t in &mut times {
        t.sort();
    }
    println!(
        "create_and_migrate, {} samples per side (example migrator: 8 tables, 4 migrations):\n",
        times[0].len()
    );
    let p = |q: f64| {
        (
            pick(&times[0], q).as_secs_f64(),
            pick(&times[1], q).as_secs_f64(),
        )
    };
    let ((pg50, ci50), (pg95, ci95)) = (p(0.5), p(0.95));
    table(
        &["", "p50", "p95"],
        &[
            vec![
                "PostgreSQL".to_owned(),
                ms(pick(&times[0], 0.5)),
                ms(pick(&times[0], 0.95)),
            ],
            vec![
                "Citus coordinator".to_owned(),
                ms(pick(&times[1], 0.5)),
                ms(pick(&times[1], 0.95)),
            ],
            vec![
                "Citus / PostgreSQL".to_owned(),
                ratio(ci50, pg50),
                ratio(ci95, pg95),
            ],
        ],
    );

    // Many tenants at a fixed concurrency, then the no-op migrate-all.
    let n = args.tenants;
    let c = args.concurrency;
    let mut rows = Vec::new();
    let mut bulk = Vec::new();
    for s in &sides {
        let created = s.create_many("cbulk", n, c).await?;
        eprintln!("{}: {n} tenants created and migrated", s.label);
        let m = s.tenancy.migrations::<TenantMigrator>();
        let started = Instant::now();
        let report = m
            .run_all(Verb::Up(None), MigrateOptions::default().concurrency(c))
            .await?;
        let noop = started.elapsed();
        if let Some(failed) = report.failed().next() {
            return Err(format!("{}: no-op migrate failed: {failed:?}", s.label).into());
        }
        let spread = s.spread().await?;
        bulk.push((created, noop));
        rows.push(vec![
            s.label.to_owned(),
            format!("{:.1} s", created.as_secs_f64()),
            ms(created / n as u32),
            format!("{:.2} s", noop.as_secs_f64()),
            format!(
                "{:.2} ms",
                noop.as_secs_f64() * 1000.0 / report.tenants.len() as f64
            ),
            spread,
        ]);
    }
    rows.push(vec![
        "Citus / PostgreSQL".to_owned(),
        ratio(bulk[1].0.as_secs_f64(), bulk[0].0.as_secs_f64()),
        String::new(),
        ratio(bulk[1].1.as_secs_f64(), bulk[0].1.as_secs_f64()),
        String::new(),
        String::new(),
    ]);
    println!(
        "\n{n} tenants per side, create_and_migrate at concurrency {c}, then no-op migrate-all:\n"
    );
    table(
        &[
            "",
            "create + migrate",
            "per tenant",
            "no-op migrate-all",
            "per tenant",
            "tenants per node",
        ],
        &rows,
    );

    // find_by_id and the mix, rounds interleaved.
    let mut conns = Vec::new();
    for s in &sides {
        conns.push(s.mix_tenants(args.mix_tenants, args.rows).await?);
    }
    let kinds: [(&str, Option<Op>); 2] = [("`find_by_id`", Some(Op::FindById)), ("mix", None)];
    let mut cells: Vec<[Rounds; 2]> = kinds.iter().map(|_| Default::default()).collect();
    for _ in 0..args.timing.rounds {
        for (k, (_, op)) in kinds.iter().enumerate() {
            for (i, s) in sides.iter().enumerate() {
                let tenants = conns[i].clone();
                let (rows_n, plan, op) = (args.rows, s.plan, *op);
                let n = tenants.len() as u64;
                let ops = throughput(args.timing, move |k| {
                    let (t, kind) = match op {
                        Some(op) => ((k % n) as usize, op),
                        None => Op::of_mix(k, n),
                    };
                    let conn = tenants[t].clone();
                    async move { mix::run(&conn, kind, k, rows_n, plan).await }
                })
                .await?;
                cells[k][i].push(ops);
            }
        }
    }
    println!(
        "\nthroughput over {} tenants, {} tasks, pool {}, {} rounds of {} s (ops/s):\n",
        args.mix_tenants, args.timing.tasks, pool, args.timing.rounds, args.timing.secs
    );
    let rows: Vec<Vec<String>> = kinds
        .iter()
        .zip(&cells)
        .map(|((label, _), [pg, ci])| {
            vec![
                (*label).to_owned(),
                pg.ops(),
                ci.ops(),
                ci.ratio(pg).times(),
            ]
        })
        .collect();
    table(
        &["", "PostgreSQL", "Citus coordinator", "Citus / PostgreSQL"],
        &rows,
    );

    if args.keep {
        return Ok(());
    }
    let mut rows = Vec::new();
    for s in &sides {
        let (took, dropped) = s.drop_all(c).await?;
        rows.push(vec![
            s.label.to_owned(),
            dropped.to_string(),
            format!("{:.1} s", took.as_secs_f64()),
            ms(took / dropped.max(1) as u32),
        ]);
    }
    println!("\ndropping every bench tenant at concurrency {c}:\n");
    table(&["", "tenants", "took", "per tenant"], &rows);
    for s in sides {
        s.db.close().await?;
    }
    Ok(())
}
