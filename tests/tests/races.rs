//! Races: concurrent create/drop/create of the same tenants, and migrate-all
//! while tenants are being created. Only the documented errors
//! (`TenantExists`, `TenantNotFound`), and afterwards the catalog and the
//! registry agree: no orphaned home, no orphaned or half-made registry row.
//!
//! Each test has a registry of its own (PostgreSQL: a shared schema;
//! MySQL: a shared database) and its own home prefix, so that migrate-all
//! sees only its tenants and the catalog check is exact.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use sea_orm::{ConnectionTrait, Statement};
use tenancy::{Irreversibly, OnFailure, Tenancy, TenantStatus, Verb};
use tenancy_tests::{Kind, migrations::EntityMigrator, soak, unique};

/// A tenancy with a registry and a home prefix of its own; dropped with
/// everything in it.
struct Isolated {
    kind: Kind,
    tenancy: Tenancy,
    shared: String,
    prefix: String,
}

impl Isolated {
    async fn new(kind: Kind) -> Option<Isolated> {
        let shared = unique("races");
        let url = kind.url();
        let db = match kind {
            Kind::Postgres => {
                let db = soak::server(kind, 16).await?;
                db.execute_unprepared(&format!("CREATE SCHEMA \"{shared}\""))
                    .await
                    .expect("shared schema");
                db
            }
            _ => {
                let server = url.rsplit_once('/').map_or(url.as_str(), |(s, _)| s);
                let private = format!("{server}/{shared}");
                match soak::connect(kind, &private, &private, 16, true).await {
                    Ok(db) => db,
                    Err(err) => {
                        soak::unreachable(kind, &url, &err);
                        return None;
                    }
                }
            }
        };
        let prefix = format!("{shared}_");
        let mut builder = Tenancy::builder(db).home_prefix(&prefix);
        if kind == Kind::Postgres {
            builder = builder.shared_schema(shared.clone());
        }
        let tenancy = builder.build().await.expect("tenancy builds");
        Some(Isolated {
            kind,
            tenancy,
            shared,
            prefix,
        })
    }

    /// Homes with this test's prefix, from the catalog.
    async fn homes(&self) -> BTreeSet<String> {
        let sql = match self.kind {
            Kind::Postgres => "SELECT nspname FROM pg_namespace",
            _ => "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata",
        };
        self.tenancy
            .inner()
            .query_all_raw(Statement::from_string(self.kind.backend(), sql))
            .await
            .expect("catalog")
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).expect("name"))
            .filter(|n| n.starts_with(&self.prefix))
            .collect()
    }

    /// The catalog and the registry agree, and no row is half-made.
    async fn check_consistent(&self) -> usize {
        let rows = self.tenancy.list().await.expect("list");
        for row in &rows {
            assert_eq!(row.status, TenantStatus::Active, "{row:?}");
        }
        let registered: BTreeSet<String> = rows
            .iter()
            .map(|r| self.tenancy.home_of(r.id.as_str()).expect("valid"))
            .collect();
        assert_eq!(
            self.homes().await,
            registered,
            "catalog and registry differ"
        );
        rows.len()
    }

    async fn cleanup(&self) {
        for row in self.tenancy.list().await.unwrap_or_default() {
            let _ = self.tenancy.drop(row.id.as_str(), Irreversibly).await;
        }
        let db = self.tenancy.inner();
        for home in self.homes().await {
            let sql = match self.kind {
                Kind::Postgres => format!("DROP SCHEMA IF EXISTS \"{home}\" CASCADE"),
                _ => format!("DROP DATABASE IF EXISTS `{home}`"),
            };
            let _ = db.execute_unprepared(&sql).await;
        }
        let sql = match self.kind {
            Kind::Postgres => format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.shared),
            _ => format!("DROP DATABASE IF EXISTS `{}`", self.shared),
        };
        let _ = db.execute_unprepared(&sql).await;
    }
}

impl Drop for Isolated {
    fn drop(&mut self) {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            tokio::task::block_in_place(|| handle.block_on(self.cleanup()));
        }
    }
}

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
                match m.run_all(Verb::Up(None), 4, OnFailure::Continue).await {
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
        .run_all(Verb::Up(None), 4, OnFailure::Continue)
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
