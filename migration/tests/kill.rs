//! The CLI killed in the middle of a PostgreSQL `up --all`: no tenant is
//! half-migrated, and a rerun finishes.

use std::{process::Command, time::Duration};

use migration::{SharedMigrator, TenantMigrator};
use sea_orm::{ConnectionTrait, Database};
use sea_orm_migration::MigratorTrait;
use tenancy::Tenancy;
use tenancy_tests::{Kind, connect_server, unique};

const TENANTS: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_run_leaves_no_half_migrated_tenant() {
    let url = Kind::Postgres.url();
    let (server, _) = url.rsplit_once('/').expect("url with a database");
    let name = unique("kill");
    let db_url = format!("{server}/{name}");
    let db = match connect_server(Kind::Postgres, &db_url).await {
        Ok(db) => db,
        Err(err) if Kind::Postgres.required() => {
            panic!("TENANCY_PG_URL ({url}) unreachable: {err}")
        }
        Err(err) => {
            eprintln!("\n*** NOT RUN: PostgreSQL unreachable ({url}): {err}\n");
            return;
        }
    };
    SharedMigrator::up(&db, None).await.expect("shared");
    let tenancy = Tenancy::builder(db.clone()).build().await.expect("tenancy");
    let names: Vec<String> = (0..TENANTS).map(|i| format!("k{i:03}")).collect();
    for n in &names {
        tenancy.create(n).await.expect("create");
    }

    let mut child = Command::new(env!("CARGO_BIN_EXE_migration"))
        .args(["up", "--all", "--concurrency", "2"])
        .env("DATABASE_URL", &db_url)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("binary runs");
    let m = tenancy.migrations::<TenantMigrator>();
    // Kill once some tenants are done.
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(25)).await;
        if m.status(&names[0])
            .await
            .expect("status")
            .pending
            .is_empty()
        {
            break;
        }
    }
    child.kill().expect("kill");
    let _ = child.wait();

    let all = TenantMigrator::migrations().len();
    let (mut done, mut untouched) = (0, 0);
    for n in &names {
        let applied = m.status(n).await.expect("status").applied.len();
        assert!(
            applied == 0 || applied == all,
            "{n} is half-migrated: {applied} of {all}"
        );
        if applied == all {
            done += 1
        } else {
            untouched += 1
        }
    }
    assert!(done > 0, "the run was killed before any tenant finished");
    assert!(
        untouched > 0,
        "the run finished before it was killed; raise TENANTS"
    );

    let status = Command::new(env!("CARGO_BIN_EXE_migration"))
        .args(["up", "--all"])
        .env("DATABASE_URL", &db_url)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("rerun");
    assert!(status.success());
    for n in &names {
        assert!(m.status(n).await.expect("status").pending.is_empty(), "{n}");
    }

    drop(tenancy);
    db.close().await.expect("close");
    let admin = Database::connect(format!("{server}/postgres"))
        .await
        .expect("admin");
    admin
        .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .expect("drop database");
}
