//! Tenant fan-out on PostgreSQL: the statement mix round-robin over many
//! tenants on one pool, against `SET search_path` per checkout and an LRU
//! of per-tenant pools, at several prepared-statement cache capacities.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use futures_util::{StreamExt, TryStreamExt, stream};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Schema, Statement,
    TransactionTrait,
    sqlx::{AssertSqlSafe, Executor, SqlSafeStr},
};
use tenancy::{Affinity, Tenancy, TenantId};
use tenancy_tests::{Kind, post};

use crate::{
    MYSQL_URL, PG_URL,
    baselines::{PoolLru, SearchPath, UseDb},
    measure::{Result, Rounds, Timing, mib, proc_status, table, throughput},
    mix::{self, Op},
    setup::{PoolSpec, drop_prefixed, plan_id, prepare},
};

/// `tenancy-bench fanout`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    timing: Timing,
    /// Tenant counts (each a column of cells, all interleaved per round).
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 100, 1000, 10000])]
    tenants: Vec<usize>,
    /// Statement cache capacities of the library's pool; the first is the
    /// one the baselines are compared with (sqlx's default is 100).
    #[arg(long, value_delimiter = ',', default_values_t = [100usize, 0, 1000, 5000])]
    caches: Vec<usize>,
    /// Statement cache capacities of the library with tenant affinity (the
    /// default); none to leave it out.
    #[arg(long, value_delimiter = ',', default_values_t = [512usize])]
    affinity_caches: Vec<usize>,
    /// Connections per home of the affinity variants.
    #[arg(long, default_value_t = 1)]
    per_home: u32,
    /// In use at a home before a statement spills over (affinity variants).
    #[arg(long, default_value_t = 6)]
    spill_after: usize,
    /// Rows in each tenant's `posts`.
    #[arg(long, default_value_t = 50)]
    rows: i32,
    /// Pools kept open by the per-tenant-pool baseline.
    #[arg(long, default_value_t = 50)]
    lru: usize,
    /// Skip the baselines.
    #[arg(long)]
    no_baselines: bool,
    /// Pick tenants Zipf-skewed with this exponent (e.g. 1.1: a few hot
    /// tenants) instead of round-robin.
    #[arg(long)]
    zipf: Option<f64>,
    /// Only create (or complete) the bench tenants.
    #[arg(long)]
    setup_only: bool,
    /// Drop every bench tenant (`fb_*`) and exit.
    #[arg(long)]
    cleanup: bool,
    /// The server: postgres, or mysql (MariaDB/MySQL: the library against
    /// `USE db` per checkout; no pool-per-tenant baseline).
    #[arg(long, default_value = "postgres")]
    backend: String,
    /// PostgreSQL database (created when missing).
    #[arg(long, env = "TENANCY_BENCH_PG_URL", default_value = PG_URL)]
    pg_url: String,
    /// MySQL/MariaDB database (created when missing).
    #[arg(long, env = "TENANCY_BENCH_MYSQL_URL", default_value = MYSQL_URL)]
    mysql_url: String,
}

impl Args {
    fn kind(&self) -> Kind {
        if self.backend == "mysql" {
            Kind::MySql
        } else {
            Kind::Postgres
        }
    }

    fn url(&self) -> &str {
        match self.kind() {
            Kind::MySql => &self.mysql_url,
            _ => &self.pg_url,
        }
    }
}

/// The name of bench tenant `i`.
pub(crate) fn name(i: usize) -> String {
    format!("fb_{i:05}")
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Variant {
    Library(usize),
    Affinity(usize),
    SearchPath,
    PoolLru,
}

pub(crate) async fn run(args: Args) -> Result<()> {
    prepare(args.kind(), args.url()).await?;
    let admin = PoolSpec::new(args.url(), 4).open().await?;
    let tenancy = Tenancy::builder(admin.clone()).build().await?;
    if args.cleanup {
        return cleanup(&tenancy).await;
    }
    let most = args.tenants.iter().copied().max().unwrap_or(1);
    let plan = plan_id(&admin, "bench-fanout").await?;
    ensure_tenants(&tenancy, most, args.rows, plan).await?;
    if args.setup_only {
        return Ok(());
    }
    let t = args.timing;
    println!(
        "fanout: {} tasks, library pool of {}, {} rounds of {}s per cell after {}s warm-up, \
         {} rows per tenant, per-tenant pools: LRU of {}, tenants picked {}\n",
        t.tasks,
        t.pool,
        t.rounds,
        t.secs,
        t.warmup,
        args.rows,
        args.lru,
        args.zipf.map_or("round-robin".to_owned(), |s| format!(
            "Zipf-skewed (s = {s})"
        ))
    );
    let mut variants: Vec<Variant> = args.caches.iter().map(|c| Variant::Library(*c)).collect();
    variants.extend(args.affinity_caches.iter().map(|c| Variant::Affinity(*c)));
    if !args.no_baselines {
        variants.push(Variant::SearchPath);
        if args.kind() == Kind::Postgres {
            variants.push(Variant::PoolLru);
        }
    }
    let ids: Arc<Vec<TenantId>> = Arc::new(
        (0..most)
            .map(|i| tenancy.tenant_id(&name(i)))
            .collect::<tenancy::Result<_>>()?,
    );
    let cells = args.tenants.len() * variants.len();
    let mut ops = vec![Rounds::default(); cells];
    let mut server = vec![Rounds::default(); cells];
    for round in 0..t.rounds {
        for (ni, &n) in args.tenants.iter().enumerate() {
            for (vi, &variant) in variants.iter().enumerate() {
                let cell = Cell {
                    args: &args,
                    n,
                    ids: ids.clone(),
                    plan,
                };
                let (rate, rss) = cell.run(variant).await?;
                eprintln!("round {round}: {n} tenants, {variant:?}: {rate:.0} ops/s");
                ops[ni * variants.len() + vi].push(rate);
                server[ni * variants.len() + vi].push(rss as f64);
            }
        }
    }
    report(&args, &variants, &ops, &server);
    admin.close().await?;
    Ok(())
}

fn report(args: &Args, variants: &[Variant], ops: &[Rounds], server: &[Rounds]) {
    let width = variants.len();
    let label = |v: &Variant| match v {
        Variant::Library(c) => format!("tenancy, one pool, cache {c}"),
        Variant::Affinity(c) => format!("tenancy, affinity, cache {c}"),
        Variant::SearchPath if args.kind() == Kind::MySql => "(a) `USE db` per checkout".to_owned(),
        Variant::SearchPath => "(a) `SET search_path` per checkout".to_owned(),
        Variant::PoolLru => format!("(b) pool per tenant, LRU {}", args.lru),
    };
    let mut header = vec!["tenants".to_owned()];
    header.extend(variants.iter().map(label));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = args
        .tenants
        .iter()
        .enumerate()
        .map(|(ni, n)| {
            let mut row = vec![n.to_string()];
            row.extend((0..width).map(|vi| ops[ni * width + vi].ops()));
            row
        })
        .collect();
    println!("Throughput (ops/s, mean of rounds ±half range):\n");
    table(&header, &rows);

    // Ratios of each library cache against its own 1-tenant cell and the baselines.
    let find = |v: Variant| variants.iter().position(|x| *x == v);
    let sp = find(Variant::SearchPath);
    let lru = find(Variant::PoolLru);
    let single = args.tenants.iter().position(|n| *n == 1);
    let mut rows = Vec::new();
    for (ni, n) in args.tenants.iter().enumerate() {
        for (vi, v) in variants.iter().enumerate() {
            let (Variant::Library(cache) | Variant::Affinity(cache)) = *v else {
                continue;
            };
            let cache = if matches!(v, Variant::Affinity(_)) {
                format!("{cache}, affinity")
            } else {
                cache.to_string()
            };
            let lib = &ops[ni * width + vi];
            let vs = |other: Option<usize>| {
                other.map_or_else(String::new, |oi| lib.ratio(&ops[ni * width + oi]).times())
            };
            let vs_single =
                single.map_or_else(String::new, |si| lib.ratio(&ops[si * width + vi]).times());
            rows.push(vec![
                n.to_string(),
                cache.to_string(),
                vs_single,
                vs(sp),
                vs(lru),
                mib(server[ni * width + vi].mean()),
            ]);
        }
        if let Some(si) = sp {
            rows.push(vec![
                n.to_string(),
                "(a)".to_owned(),
                String::new(),
                String::new(),
                String::new(),
                mib(server[ni * width + si].mean()),
            ]);
        }
    }
    println!("Ratios, round by round (mean, range), and server memory:\n");
    table(
        &[
            "tenants",
            "statement cache",
            "vs 1 tenant (first cache)",
            "vs (a)",
            "vs (b)",
            "server backends' private memory (RssAnon, sum)",
        ],
        &rows,
    );
}

/// One throughput cell: a fresh pool, so no variant inherits another's
/// statement cache or connections.
struct Cell<'a> {
    args: &'a Args,
    n: usize,
    ids: Arc<Vec<TenantId>>,
    plan: i32,
}

impl Cell<'_> {
    /// Operations per second and the private memory of the server
    /// processes behind the pool at the end (0 when not known).
    async fn run(&self, variant: Variant) -> Result<(f64, u64)> {
        let t = self.args.timing;
        let (rows, plan) = (self.args.rows, self.plan);
        let picker = mix::Picker::new(self.n as u64, self.args.zipf);
        let url = self.args.url();
        let kind = self.args.kind();
        match variant {
            Variant::Library(cache) | Variant::Affinity(cache) => {
                let app = "tenancy-bench-lib";
                let affine = matches!(variant, Variant::Affinity(_));
                let db = PoolSpec {
                    statement_cache: if affine { 100 } else { cache },
                    app,
                    ..PoolSpec::new(url, t.pool)
                }
                .open()
                .await?;
                let affinity = if affine {
                    Affinity::default()
                        .statement_cache(cache)
                        .connections_per_home(self.args.per_home)
                        .spill_after(self.args.spill_after)
                } else {
                    Affinity::OFF
                };
                let tenancy = Tenancy::builder(db.clone())
                    .install_registry(false)
                    .affinity(affinity)
                    .build()
                    .await?;
                if !affine && cache >= 4 * self.n && kind == Kind::Postgres {
                    prewarm(&db, &tenancy, &self.ids[..self.n], t.pool, rows, plan).await?;
                }
                let ids = self.ids.clone();
                let running = tenancy.clone();
                let rate = throughput(t, move |k| {
                    let (i, op) = picker.pick(k);
                    let conn = running.tenant_by_id(ids[i].clone());
                    async move { mix::run(&conn?, op, k, rows, plan).await }
                })
                .await?;
                // Read while `tenancy` (and the affinity homes' pools it
                // holds, whose backends carry the same application name)
                // is alive.
                let rss = backends_rss(&db, app).await?;
                drop(tenancy);
                db.close().await?;
                Ok((rate, rss))
            }
            Variant::SearchPath => {
                let app = "tenancy-bench-sp";
                let db = PoolSpec {
                    app,
                    // MySQL binds a prepared statement to the database that
                    // was current when it was prepared: with sqlx's cache,
                    // `USE tenant_b` then a statement text first prepared
                    // under `tenant_a` writes into tenant_a (seen here:
                    // inserts "lost" to another tenant). `USE` per checkout
                    // is only correct without the cache.
                    statement_cache: if kind == Kind::MySql { 0 } else { 100 },
                    ..PoolSpec::new(url, t.pool)
                }
                .open()
                .await?;
                let homes: Arc<Vec<String>> =
                    Arc::new((0..self.n).map(|i| format!("tenant_{}", name(i))).collect());
                let rate = if kind == Kind::MySql {
                    let pool = db.get_mysql_connection_pool().clone();
                    throughput(t, move |k| {
                        let (i, op) = picker.pick(k);
                        let (pool, homes) = (pool.clone(), homes.clone());
                        async move {
                            let conn = UseDb::checkout(&pool, &homes[i]).await?;
                            mix::run(&conn, op, k, rows, plan).await
                        }
                    })
                    .await?
                } else {
                    let pool = db.get_postgres_connection_pool().clone();
                    throughput(t, move |k| {
                        let (i, op) = picker.pick(k);
                        let (pool, homes) = (pool.clone(), homes.clone());
                        async move {
                            let conn = SearchPath::checkout(&pool, &homes[i]).await?;
                            mix::run(&conn, op, k, rows, plan).await
                        }
                    })
                    .await?
                };
                let rss = backends_rss(&db, app).await?;
                db.close().await?;
                Ok((rate, rss))
            }
            Variant::PoolLru => {
                // The same connection budget as the one pool, split over
                // the pools that can be open at once.
                let open = self.n.min(self.args.lru).max(1) as u32;
                let per_pool = (t.pool / open).max(1);
                let lru = Arc::new(PoolLru::new(url, self.args.lru, per_pool, 100));
                let homes: Arc<Vec<String>> =
                    Arc::new((0..self.n).map(|i| format!("tenant_{}", name(i))).collect());
                let pools = lru.clone();
                let rate = throughput(t, move |k| {
                    let (i, op) = picker.pick(k);
                    let (lru, homes) = (pools.clone(), homes.clone());
                    async move {
                        loop {
                            let db = lru.get(i, &homes[i]).await?;
                            match mix::run(&db, op, k, rows, plan).await {
                                // Evicted and closed between get and use.
                                Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)) => {
                                    continue;
                                }
                                done => return done,
                            }
                        }
                    }
                })
                .await?;
                lru.close().await;
                Ok((rate, 0))
            }
        }
    }
}

/// Prepares every statement of the mix for every tenant on every
/// connection of `db`, so a cache large enough to hold them starts warm
/// (a timed warm-up would need minutes to visit thousands of statement
/// texts on each of 16 connections).
async fn prewarm(
    db: &DatabaseConnection,
    tenancy: &Tenancy,
    ids: &[TenantId],
    size: u32,
    rows: i32,
    plan: i32,
) -> Result<()> {
    let Some(first) = ids.first() else {
        return Ok(());
    };
    // The exact routed SQL of each statement kind for the first tenant.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = seen.clone();
    let capture = Tenancy::builder(db.clone())
        .install_registry(false)
        .on_statement(move |e| {
            sink.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(e.routed.to_owned());
        })
        .build()
        .await?;
    let conn = capture.tenant_by_id(first.clone())?;
    for op in Op::ALL {
        mix::run(&conn, op, 0, rows, plan).await?;
    }
    let templates = std::mem::take(&mut *seen.lock().unwrap_or_else(|p| p.into_inner()));
    let home0 = conn.home().to_owned();
    let mut texts = Vec::with_capacity(templates.len() * ids.len());
    for id in ids {
        let home = tenancy.home_of(id.as_str())?;
        texts.extend(templates.iter().map(|s| s.replace(&home0, &home)));
    }
    let pool = db.get_postgres_connection_pool();
    let mut conns = Vec::new();
    for _ in 0..size {
        conns.push(pool.acquire().await?);
    }
    let texts = &texts;
    futures_util::future::try_join_all(conns.iter_mut().map(|c| async move {
        for text in texts {
            (&mut **c)
                .prepare(AssertSqlSafe(text.clone()).into_sql_str())
                .await?;
        }
        Ok::<_, sea_orm::sqlx::Error>(())
    }))
    .await?;
    Ok(())
}

/// The summed `RssAnon` of the server processes of pool `app` (0 when the
/// server's `/proc` is not readable from here).
async fn backends_rss(db: &DatabaseConnection, app: &str) -> Result<u64> {
    if db.get_database_backend() == DbBackend::MySql {
        // One server process: MariaDB's per-connection memory instead, of
        // every connection but this one (the admin pool's few idle ones
        // included).
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::MySql,
                "SELECT CAST(COALESCE(SUM(memory_used), 0) AS SIGNED) FROM information_schema.processlist \
                 WHERE id <> CONNECTION_ID() AND command <> 'Daemon'",
            ))
            .await?;
        let used: i64 = row.map_or(Ok(0), |r| r.try_get_by_index(0))?;
        return Ok(u64::try_from(used).unwrap_or(0));
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            [app.into()],
        ))
        .await?;
    let mut total = 0;
    for row in rows {
        let pid: i32 = row.try_get_by_index(0)?;
        total += u32::try_from(pid)
            .ok()
            .and_then(|pid| proc_status(Some(pid), "RssAnon"))
            .unwrap_or(0);
    }
    Ok(total)
}

/// Creates the bench tenants `fb_00000 ..` up to `n` that are missing
/// (registry row and schema through the library, then `posts` with `rows`
/// rows in batches of raw DDL), leaving complete ones alone.
pub(crate) async fn ensure_tenants(
    tenancy: &Tenancy,
    n: usize,
    rows: i32,
    plan: i32,
) -> Result<()> {
    let db = tenancy.inner();
    let backend = db.get_database_backend();
    let names = |sql: &str| {
        let sql = sql.to_owned();
        async move {
            let rows = db
                .query_all_raw(Statement::from_string(backend, sql))
                .await?;
            rows.iter()
                .map(|r| r.try_get_by_index::<String>(0))
                .collect::<Result<HashSet<String>, _>>()
        }
    };
    let registered = names("SELECT name FROM tenancy_tenants WHERE name LIKE 'fb\\_%'").await?;
    let ready = names(if backend == DbBackend::MySql {
        "SELECT CAST(table_schema AS CHAR) FROM information_schema.tables \
         WHERE table_name = 'posts' AND table_schema LIKE 'tenant\\_fb\\_%'"
    } else {
        "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relname = 'posts' AND c.relkind = 'r' AND n.nspname LIKE 'tenant\\_fb\\_%'"
    })
    .await?;
    let missing: Vec<String> = (0..n)
        .map(name)
        .filter(|t| !registered.contains(t))
        .collect();
    if !missing.is_empty() {
        eprintln!("creating {} bench tenants", missing.len());
        stream::iter(missing)
            .map(|t| async move {
                // A home left without its row by an interrupted setup.
                let home = tenancy.home_of(&t)?;
                db.execute_unprepared(&if backend == DbBackend::MySql {
                    format!("DROP DATABASE IF EXISTS `{home}`")
                } else {
                    format!("DROP SCHEMA IF EXISTS \"{home}\" CASCADE")
                })
                .await?;
                tenancy.create(&t).await.map(|_| ())
            })
            .buffer_unordered(4)
            .try_collect::<Vec<()>>()
            .await?;
    }
    let create = backend
        .build(&Schema::new(backend).create_table_from_entity(post::Entity))
        .sql;
    let todo: Vec<String> = (0..n)
        .map(name)
        .filter(|t| !ready.contains(&format!("tenant_{t}")))
        .collect();
    if !todo.is_empty() {
        eprintln!("filling {} bench tenants", todo.len());
    }
    if backend == DbBackend::MySql {
        // `USE tenant` (baseline a) has no search path: the shared `plans`
        // is seen from each tenant database through a view, as an
        // application using `USE` would have to.
        let shared: String = db
            .query_one_raw(Statement::from_string(backend, "SELECT DATABASE()"))
            .await?
            .ok_or("no database")?
            .try_get_by_index(0)?;
        for i in 0..n {
            let home = tenancy.home_of(&name(i))?;
            db.execute_unprepared(&format!(
                "CREATE OR REPLACE VIEW `{home}`.`plans` AS SELECT * FROM `{shared}`.`plans`"
            ))
            .await?;
        }
        // DDL commits on MySQL: a tenant at a time; MariaDB's sequence
        // engine gives the rows.
        for t in &todo {
            let conn = tenancy.tenant(t)?;
            let home = conn.home();
            db.execute_unprepared(&conn.routed_sql(&create)?).await?;
            db.execute_unprepared(&format!(
                "INSERT INTO `{home}`.`posts` (`title`, `status`, `plan_id`) \
                 SELECT CONCAT('post ', seq), 'published', {plan} FROM seq_1_to_{rows}"
            ))
            .await?;
        }
        return Ok(());
    }
    for batch in todo.chunks(100) {
        let mut script = String::new();
        for t in batch {
            let conn = tenancy.tenant(t)?;
            let home = conn.home();
            script.push_str(&conn.routed_sql(&create)?);
            script.push_str(&format!(
                ";\nINSERT INTO \"{home}\".\"posts\" (\"title\", \"status\", \"plan_id\") \
                 SELECT 'post ' || g, 'published', {plan} FROM generate_series(1, {rows}) AS g;\n"
            ));
        }
        let txn = db.begin().await?;
        txn.execute_unprepared(&script).await?;
        txn.commit().await?;
    }
    Ok(())
}

/// Drops every bench tenant.
async fn cleanup(tenancy: &Tenancy) -> Result<()> {
    let dropped = drop_prefixed(tenancy, "fb_", 2).await?;
    eprintln!("dropped {dropped} bench tenants");
    Ok(())
}
