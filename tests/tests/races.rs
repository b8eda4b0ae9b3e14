//! Races: concurrent create/drop/create of the same tenants, and migrate-all
//! while tenants are being created. Only the documented errors
//! (`TenantExists`, `TenantNotFound`), and afterwards the catalog and the
//! registry agree: no orphaned home, no orphaned or half-made registry row.
//!
//! Each test has a registry of its own (PostgreSQL: a shared schema;
//! MySQL: a shared database) and its own home prefix, so that migrate-all
//! sees only its tenants and the catalog check is exact.

use futures_util::future::join_all;
use tenancy::{Irreversibly, MigrateOptions, OnFailure, Verb};
use tenancy_tests::{Kind, isolated::Isolated, migrations::EntityMigrator};

async fn create_drop_create(kind: Kind) {
    let Some(iso) = Isolated::new(kind).await else {
        return;
    };
    let names = ["t0", "t1", "t2"];
    let tasks = (0..12).map(|task| {
        let t = iso.tenancy.clone();
        tokio::spawn(async move {
            let mut unexpected = Vec::new();
            for i in 0..12 {
                let name = names[(task + i) % names.len()];
                if (task + i) % 2 == 0 {
                    match t.create(name).await {
                        Ok(_) => {}
                        Err(e) if e.is_exists() => {}
                        Err(e) => unexpected.push(format!("create {name}: {e}")),
                    }
                } else {
                    match t.drop(name, Irreversibly).await {
                        Ok(()) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => unexpected.push(format!("drop {name}: {e}")),
                    }
                }
            }
            unexpected
        })
    });
    let unexpected: Vec<String> = join_all(tasks)
        .await
        .into_iter()
        .flat_map(|r| r.expect("task"))
        .collect();
    let homes = iso.homes().await;
    let rows = iso.tenancy.list().await.expect("list");
    assert!(
        unexpected.is_empty(),
        "undocumented errors: {unexpected:#?}\nhomes: {homes:?}\nregistry: {rows:?}"
    );
    iso.check_consistent().await;
    // Every name is usable afterwards: created (or already there) and dropped.
    for name in names {
        if !iso.tenancy.exists(name).await.expect("exists") {
            iso.tenancy
                .create(name)
                .await
                .expect("create after the race");
        }
        iso.tenancy.drop(name, Irreversibly).await.expect("drop");
    }
    assert_eq!(iso.check_consistent().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn create_drop_create_postgres() {
    create_drop_create(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_drop_create_mysql() {
    create_drop_create(Kind::MySql).await;
}

async fn migrate_all_while_creating(kind: Kind) {
    let Some(iso) = Isolated::new(kind).await else {
        return;
    };
    let m = iso.tenancy.migrations::<EntityMigrator>();
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let creator = {
        let t = iso.tenancy.clone();
        tokio::spawn(async move {
            for i in 0..24 {
                t.create(&format!("c{i}")).await.expect("create");
            }
            let _ = done_tx.send(true);
        })
    };
    let runners = (0..3).map(|_| {
        let m = m.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut runs = 0;
            while !*done.borrow() || runs == 0 {
                runs += 1;
                match m
                    .run_all(
                        Verb::Up(None),
                        MigrateOptions::default()
                            .concurrency(4)
                            .on_failure(OnFailure::Continue),
                    )
                    .await
                {
                    Ok(report) => failures.extend(report.failed().map(|t| format!("{t:?}"))),
                    Err(e) => failures.push(e.to_string()),
                }
            }
            (runs, failures)
        })
    });
    let results = join_all(runners).await;
    creator.await.expect("creator");
    for result in results {
        let (runs, failures) = result.expect("runner");
        assert!(runs > 0);
        assert!(failures.is_empty(), "{failures:#?}");
    }
    let report = m
        .run_all(
            Verb::Up(None),
            MigrateOptions::default()
                .concurrency(4)
                .on_failure(OnFailure::Continue),
        )
        .await
        .expect("last run");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(iso.check_consistent().await, 24);
    for i in 0..24 {
        let state = m.status(&format!("c{i}")).await.expect("status");
        assert!(state.pending.is_empty(), "{state:?}");
        assert_eq!(state.applied.len(), 1, "applied once: {state:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_all_while_creating_postgres() {
    migrate_all_while_creating(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_all_while_creating_mysql() {
    migrate_all_while_creating(Kind::MySql).await;
}
