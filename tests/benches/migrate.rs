//! Migrating many PostgreSQL tenants with the example migrator: create,
//! migrate at several concurrencies, then a no-op rerun.
//!
//! Run: `cargo bench -p tenancy-tests --bench migrate [-- TENANTS]`
//! (default 1000; database `tenancy_bench` on `TENANCY_PG_URL`'s server).

use std::time::Instant;

use migration::{SharedMigrator, TenantMigrator};
use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;
use tenancy::{OnFailure, Tenancy, TenantId, Verb};
use tenancy_tests::{Kind, connect_server};

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let url = Kind::Postgres.url();
    let (server, _) = url.rsplit_once('/').expect("url with a database");
    let db = connect_server(Kind::Postgres, &format!("{server}/tenancy_bench"))
        .await
        .expect("postgres reachable");
    // Start clean: drop every schema an earlier run left.
    let old = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant_mb%' OR nspname LIKE 'floor_%'",
        ))
        .await
        .expect("catalog");
    for row in old {
        let schema: String = row.try_get_by_index(0).expect("name");
        db.execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await
            .expect("drop");
    }
    db.execute_unprepared("DELETE FROM tenancy_tenants WHERE name LIKE 'mb%'")
        .await
        .ok();
    SharedMigrator::up(&db, None).await.expect("shared");
    let tenancy = Tenancy::builder(db).build().await.expect("tenancy");
    let m = tenancy.migrations::<TenantMigrator>();

    println!("tenants: {n}");
    for concurrency in [2usize, 4, 8] {
        let ids: Vec<TenantId> = (0..n)
            .map(|i| TenantId::new(&format!("mb{concurrency}_{i}")).expect("valid"))
            .collect();
        let started = Instant::now();
        for id in &ids {
            tenancy.create(id.as_str()).await.expect("create");
        }
        let created = started.elapsed();
        let started = Instant::now();
        let report = m
            .run_many(
                ids.clone(),
                Verb::Up(None),
                concurrency,
                OnFailure::Continue,
            )
            .await;
        let migrated = started.elapsed();
        assert!(report.is_ok(), "{:?}", report.failed().next());
        let started = Instant::now();
        let noop = m
            .run_many(
                ids.clone(),
                Verb::Up(None),
                concurrency,
                OnFailure::Continue,
            )
            .await;
        let nothing = started.elapsed();
        assert!(noop.is_ok());
        println!(
            "concurrency {concurrency}: create {created:.2?}, migrate {migrated:.2?}, no-op rerun {nothing:.2?}"
        );
        if concurrency != 8 {
            for id in &ids {
                tenancy
                    .drop(id.as_str(), tenancy::Irreversibly)
                    .await
                    .expect("drop");
            }
        }
    }
    // create_and_migrate latency.
    let mut times = Vec::new();
    for i in 0..50 {
        let name = format!("mbc_{i}");
        let started = Instant::now();
        m.create_and_migrate(&name)
            .await
            .expect("create and migrate");
        times.push(started.elapsed());
    }
    times.sort();

    // The floor: the same DDL (pg_dump of a migrated tenant) as one raw
    // script in one transaction, with the registry row.
    let dump = std::process::Command::new("pg_dump")
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--schema=tenant_mbc_0",
        ])
        .arg(format!("{server}/tenancy_bench"))
        .output()
        .expect("pg_dump runs");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
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
    let db = tenancy.inner();
    let mut floor = Vec::new();
    for i in 0..50 {
        let sql = script.replace("tenant_mbc_0", &format!("floor_{i}"));
        let started = Instant::now();
        let txn = sea_orm::TransactionTrait::begin(db).await.expect("begin");
        txn.execute_unprepared(&sql).await.expect("floor script");
        txn.execute_unprepared(&format!(
            "INSERT INTO tenancy_tenants (name, status, created_at, metadata) \
             VALUES ('mbf_{i}', 'active', now(), '{{}}')"
        ))
        .await
        .expect("row");
        txn.commit().await.expect("commit");
        floor.push(started.elapsed());
    }
    floor.sort();
    let ratio = |a: std::time::Duration, b: std::time::Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "create_and_migrate: p50 {:.2?}, p95 {:.2?}; raw DDL floor: p50 {:.2?}, p95 {:.2?}; ratio p50 {:.2}x, p95 {:.2}x",
        times[25],
        times[47],
        floor[25],
        floor[47],
        ratio(times[25], floor[25]),
        ratio(times[47], floor[47]),
    );
}
