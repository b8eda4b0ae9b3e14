//! Migrating many PostgreSQL tenants with the example migrator: create,
//! migrate at several concurrencies, the no-op rerun; then
//! `create_and_migrate` against the same DDL as one raw script.

use std::time::{Duration, Instant};

use migration::{SharedMigrator, TenantMigrator};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use tenancy::{MigrateOptions, Tenancy, TenantId, Verb};
use tenancy_tests::Kind;

use crate::{
    PG_URL,
    measure::{Result, table},
    setup::{PoolSpec, prepare},
};

/// `tenancy-bench migrate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Tenants to create and migrate per concurrency.
    #[arg(long, default_value_t = 1000)]
    tenants: usize,
    /// Concurrencies of the migration runner.
    #[arg(long, value_delimiter = ',', default_values_t = [2usize, 4, 8])]
    concurrency: Vec<usize>,
    /// Tenants made by `create_and_migrate`, and by the raw script.
    #[arg(long, default_value_t = 50)]
    samples: usize,
    /// Connections in the pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
    /// PostgreSQL database (created when missing).
    #[arg(long, env = "TENANCY_BENCH_PG_URL", default_value = PG_URL)]
    pg_url: String,
}

/// Drops every schema and registry row this bench makes.
async fn clean(db: &DatabaseConnection) -> Result<()> {
    let old = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT nspname FROM pg_namespace \
             WHERE nspname LIKE 'tenant\\_mb%' OR nspname LIKE 'floor\\_%'",
        ))
        .await?;
    for row in old {
        let schema: String = row.try_get_by_index(0)?;
        db.execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await?;
    }
    db.execute_unprepared("DELETE FROM tenancy_tenants WHERE name LIKE 'mb%'")
        .await?;
    Ok(())
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) async fn run(args: Args) -> Result<()> {
    prepare(Kind::Postgres, &args.pg_url).await?;
    let db = PoolSpec::new(&args.pg_url, args.pool).open().await?;
    SharedMigrator::up(&db, None).await?;
    let tenancy = Tenancy::builder(db.clone()).build().await?;
    clean(&db).await?;
    let m = tenancy.migrations::<TenantMigrator>();
    let n = args.tenants;

    let mut rows = Vec::new();
    for &concurrency in &args.concurrency {
        let ids: Vec<TenantId> = (0..n)
            .map(|i| TenantId::new(&format!("mb{concurrency}_{i}")))
            .collect::<tenancy::Result<_>>()?;
        let started = Instant::now();
        for id in &ids {
            tenancy.create(id.as_str()).await?;
        }
        let created = started.elapsed();
        let started = Instant::now();
        let report = m
            .run_many(
                ids.clone(),
                Verb::Up(None),
                MigrateOptions::default().concurrency(concurrency),
            )
            .await;
        let migrated = started.elapsed();
        if let Some(failed) = report.failed().next() {
            return Err(format!("migration failed: {failed:?}").into());
        }
        let started = Instant::now();
        let noop = m
            .run_many(
                ids.clone(),
                Verb::Up(None),
                MigrateOptions::default().concurrency(concurrency),
            )
            .await;
        let nothing = started.elapsed();
        if let Some(failed) = noop.failed().next() {
            return Err(format!("no-op rerun failed: {failed:?}").into());
        }
        eprintln!("concurrency {concurrency}: done");
        rows.push(vec![
            concurrency.to_string(),
            secs(created),
            secs(migrated),
            secs(nothing),
        ]);
        clean(&db).await?;
    }
    println!("migrate: {n} tenants, example tenant migrator (8 tables, 4 migrations)\n");
    table(
        &[
            "concurrency",
            &format!("create {n} tenants"),
            &format!("migrate {n} tenants"),
            "no-op rerun",
        ],
        &rows,
    );

    // create_and_migrate latency, then the floor: the same DDL (pg_dump of a
    // migrated tenant) as one raw script in one transaction with the
    // registry row.
    let samples = args.samples.max(2);
    let mut times = Vec::new();
    for i in 0..samples {
        let started = Instant::now();
        m.create_and_migrate(&format!("mbc_{i}")).await?;
        times.push(started.elapsed());
    }
    let dump = std::process::Command::new("pg_dump")
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--schema=tenant_mbc_0",
        ])
        .arg(&args.pg_url)
        .output()?;
    if !dump.status.success() {
        return Err(String::from_utf8_lossy(&dump.stderr).into_owned().into());
    }
    let script: String = String::from_utf8_lossy(&dump.stdout)
        .lines()
        .filter(|l| {
            !(l.starts_with('\\')
                || l.starts_with("SET ")
                || l.starts_with("SELECT pg_catalog")
                || l.starts_with("--"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut floor = Vec::new();
    for i in 0..samples {
        let sql = script.replace("tenant_mbc_0", &format!("floor_{i}"));
        let started = Instant::now();
        let txn = db.begin().await?;
        txn.execute_unprepared(&sql).await?;
        txn.execute_unprepared(&format!(
            "INSERT INTO tenancy_tenants (name, status, created_at, metadata) \
             VALUES ('mbf_{i}', 'active', now(), '{{}}')"
        ))
        .await?;
        txn.commit().await?;
        floor.push(started.elapsed());
    }
    clean(&db).await?;
    times.sort();
    floor.sort();
    let pick = |v: &[Duration], q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let ratio = |a: Duration, b: Duration| format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64());
    let (c50, c95, f50, f95) = (
        pick(&times, 0.5),
        pick(&times, 0.95),
        pick(&floor, 0.5),
        pick(&floor, 0.95),
    );
    println!("create_and_migrate vs the raw DDL floor, {samples} tenants each:\n");
    table(
        &["", "p50", "p95"],
        &[
            vec!["`create_and_migrate`".to_owned(), ms(c50), ms(c95)],
            vec!["raw DDL script (floor)".to_owned(), ms(f50), ms(f95)],
            vec!["ratio".to_owned(), ratio(c50, f50), ratio(c95, f95)],
        ],
    );
    db.close().await?;
    Ok(())
}
