//! Per-tenant migrations with the example migrators of `migration/`.

use futures_util::future::BoxFuture;
use migration::{SharedMigrator, TenantMigrator};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, prelude::*};
use tenancy::{MigrateOptions, MigrationOutcome, OnFailure, TenantId, TenantReport, Verb};

use crate::{Fixture, Kind};

/// One migration test.
pub type MigrationTest = fn(Fixture) -> BoxFuture<'static, ()>;

static SHARED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `test` on a fresh fixture with the shared migrations applied.
pub async fn run(kind: Kind, test: MigrationTest) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    {
        // Concurrent shared runs would race on the migration table.
        let _one_at_a_time = SHARED.lock().await;
        let db = fx.tenancy.inner();
        let txn = db.begin().await.expect("begin");
        if kind.flavour() == Kind::Postgres {
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(4243)")
                .await
                .expect("lock");
        }
        SharedMigrator::up(&txn, None)
            .await
            .expect("shared migrations");
        txn.commit().await.expect("commit");
    }
    test(fx).await;
}

fn versions() -> Vec<String> {
    TenantMigrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

/// Runs `sql` (with `{}` for the tenant's qualifier) against a tenant's home.
async fn sql(fx: &Fixture, tenant: &str, template: &str) -> Result<u64, sea_orm::DbErr> {
    let home = fx.tenancy.home_of(tenant).expect("valid");
    let conn = fx.tenancy.tenant(tenant).expect("valid");
    let prefix = match fx.kind {
        Kind::Postgres | Kind::Citus => format!("\"{home}\"."),
        Kind::MySql => format!("`{home}`."),
        Kind::Sqlite => String::new(),
    };
    let text = template.replace("{}", &prefix);
    let pool = conn.unrouted_pool().await?;
    Ok(pool.execute_unprepared(&text).await?.rows_affected())
}

async fn count(fx: &Fixture, tenant: &str, table: &str) -> i64 {
    let home = fx.tenancy.home_of(tenant).expect("valid");
    let conn = fx.tenancy.tenant(tenant).expect("valid");
    let table = match fx.kind {
        Kind::Postgres | Kind::Citus => format!("\"{home}\".{table}"),
        Kind::MySql => format!("`{home}`.{table}"),
        Kind::Sqlite => table.to_owned(),
    };
    let pool = conn.unrouted_pool().await.expect("pool");
    let row = pool
        .query_one_raw(Statement::from_string(
            fx.kind.backend(),
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("count")
}

async fn tenants(fx: &Fixture, n: usize) -> Vec<String> {
    let names: Vec<String> = (0..n).map(|_| fx.name()).collect();
    for name in &names {
        fx.tenancy.create(name).await.expect("create");
    }
    names
}

fn ids(names: &[String]) -> Vec<TenantId> {
    names
        .iter()
        .map(|n| TenantId::new(n).expect("valid"))
        .collect()
}

/// A migrator whose second migration fails.
#[derive(Debug)]
pub struct FailingMigrator;

#[derive(DeriveMigrationName)]
struct CreatesATable;

#[async_trait::async_trait]
impl MigrationTrait for CreatesATable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("half_made")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[derive(DeriveMigrationName)]
struct Fails;

#[async_trait::async_trait]
impl MigrationTrait for Fails {
    async fn up(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("planned failure".into()))
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

impl MigratorTrait for FailingMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreatesATable), Box::new(Fails)]
    }
}

/// The tenant migrator plus a `CREATE INDEX CONCURRENTLY` migration, which
/// cannot run in a transaction.
#[derive(Debug)]
pub struct ConcurrentIndexMigrator;

#[derive(DeriveMigrationName)]
struct IndexConcurrently;

#[async_trait::async_trait]
impl MigrationTrait for IndexConcurrently {
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "CREATE INDEX CONCURRENTLY idx_reactions_kind ON reactions (kind)"
            }
            _ => "CREATE INDEX idx_reactions_kind ON reactions (kind)",
        };
        manager
            .get_connection()
            .execute_unprepared(sql)
            .await
            .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_reactions_kind")
            .await
            .map(drop)
    }
}

impl MigratorTrait for ConcurrentIndexMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = TenantMigrator::migrations();
        all.push(Box::new(IndexConcurrently));
        all
    }
}

/// A migrator written with `Schema::create_table_from_entity`.
#[derive(Debug)]
pub struct EntityMigrator;

#[derive(DeriveMigrationName)]
struct TagsFromEntity;

#[async_trait::async_trait]
impl MigrationTrait for TagsFromEntity {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let schema = sea_orm::Schema::new(manager.get_database_backend());
        manager
            .create_table(schema.create_table_from_entity(crate::tag::Entity))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(crate::tag::Entity).to_owned())
            .await
    }
}

impl MigratorTrait for EntityMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(TagsFromEntity)]
    }
}

/// The tables of the shared home, to prove tenant runs leave it alone.
async fn shared_tables(fx: &Fixture) -> Vec<String> {
    let sql = match fx.kind {
        Kind::Postgres | Kind::Citus => {
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        }
        Kind::MySql => {
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1"
        }
        Kind::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1",
    };
    fx.tenancy
        .inner()
        .query_all_raw(Statement::from_string(fx.kind.backend(), sql))
        .await
        .expect("catalog")
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("name"))
        .collect()
}

macro_rules! tests {
    ($($name:ident => |$fx:ident| $body:block)*) => {
        $(
            #[doc = concat!("Migration test `", stringify!($name), "`.")]
            pub fn $name($fx: Fixture) -> BoxFuture<'static, ()> {
                Box::pin(async move { $body })
            }
        )*
        /// Every test of this list, by name.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

tests! {
    entity_migrations_route_like_queries => |fx| {
        let m = fx.tenancy.migrations::<EntityMigrator>();
        let name = tenants(&fx, 1).await.remove(0);
        m.run(&name, Verb::Up(None)).await.expect("up");
        let conn = fx.tenancy.tenant(&name).expect("valid");
        sea_orm::ActiveModelTrait::insert(
            crate::tag::ActiveModel { id: sea_orm::Set(1), name: sea_orm::Set("t".into()) },
            &conn,
        )
        .await
        .expect("the migrated table is where queries go");
        assert_eq!(count(&fx, &name, "tags").await, 1);
    }
    verbs_on_one_tenant => |fx| {
        let m = fx.tenancy.migrations::<TenantMigrator>();
        let name = tenants(&fx, 1).await.remove(0);
        let shared_before = shared_tables(&fx).await;
        let all = versions();
        assert_eq!(m.status(&name).await.expect("status").pending, all);
        assert_eq!(m.run(&name, Verb::Up(None)).await.expect("up"), all);
        let state = m.status(&name).await.expect("status");
        assert_eq!((state.applied.clone(), state.pending.len()), (all.clone(), 0));
        sql(&fx, &name, "INSERT INTO {}authors (email, name) VALUES ('a@x', 'Ann')").await.expect("insert");
        assert_eq!(count(&fx, &name, "authors").await, 1);
        assert_eq!(m.run(&name, Verb::Up(None)).await.expect("no-op"), Vec::<String>::new());
        assert_eq!(m.run(&name, Verb::Down(Some(1))).await.expect("down"), all[3..]);
        assert_eq!(m.status(&name).await.expect("status").pending, all[3..]);
        m.run(&name, Verb::Up(Some(1))).await.expect("up one");
        m.run(&name, Verb::Fresh).await.expect("fresh");
        assert_eq!(count(&fx, &name, "authors").await, 0, "fresh empties the tenant");
        assert_eq!(m.status(&name).await.expect("status").applied, all);
        m.run(&name, Verb::Refresh).await.expect("refresh");
        m.run(&name, Verb::Reset).await.expect("reset");
        assert_eq!(m.status(&name).await.expect("status").applied, Vec::<String>::new());
        // The shared home saw none of it (other tests may add their own
        // tables meanwhile, never remove ours).
        let shared_after = shared_tables(&fx).await;
        for table in &shared_before {
            assert!(shared_after.contains(table), "{table} left the shared home");
        }
        for table in ["authors", "articles", "seaql_migrations"] {
            assert!(!shared_after.iter().any(|t| t == table), "{table} landed in the shared home");
        }
        let ghost = fx.name();
        assert!(m.run(&ghost, Verb::Up(None)).await.expect_err("unknown").is_not_found());
    }
    failing_tenant_is_reported_and_others_succeed => |fx| {
        let m = fx.tenancy.migrations::<TenantMigrator>();
        let names = tenants(&fx, 50).await;
        let report = m.run_many(ids(&names), Verb::Up(Some(3)), MigrateOptions::default().concurrency(4)).await;
        assert!(report.is_ok(), "{report:?}");
        let bad = &names[5];
        sql(&fx, bad, "INSERT INTO {}authors (email, name) VALUES ('a@x', 'Twin'), ('b@x', 'Twin')")
            .await
            .expect("plant duplicates");
        let report = m.run_many(ids(&names), Verb::Up(None), MigrateOptions::default().concurrency(4).on_failure(OnFailure::Continue)).await;
        let failed: Vec<_> = report.failed().map(|t| t.tenant.to_string()).collect();
        assert_eq!(failed, std::slice::from_ref(bad));
        for t in &report.tenants {
            if t.tenant.as_str() != bad {
                assert!(matches!(&t.outcome, MigrationOutcome::Ok { changed } if changed.len() == 1), "{t:?}");
            } else if let MigrationOutcome::Failed { last_applied, .. } = &t.outcome {
                assert_eq!(last_applied.as_deref(), Some(versions()[2].as_str()));
            }
        }
        // The batched status agrees with the per-tenant one.
        let states = m.status_many(&ids(&names)).await.expect("status");
        for (name, state) in names.iter().zip(&states) {
            assert_eq!(state, &m.status(name).await.expect("status"));
            assert_eq!(state.pending.len(), usize::from(name == bad), "{name}");
        }
        // The failed tenant is exactly as it was: three versions, its data.
        let state = m.status(bad).await.expect("status");
        assert_eq!(state.applied, versions()[..3]);
        assert_eq!(count(&fx, bad, "authors").await, 2);
        // Fixed, a rerun completes.
        sql(&fx, bad, "DELETE FROM {}authors WHERE email = 'b@x'").await.expect("fix");
        let report = m.run_many(ids(&names), Verb::Up(None), MigrateOptions::default().concurrency(4).on_failure(OnFailure::Continue)).await;
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(m.status(bad).await.expect("status").pending.len(), 0);
        // Abort stops starting tenants after the first failure.
        let report = m.run_many(ids(&names), Verb::Up(None), MigrateOptions::default().concurrency(1).on_failure(OnFailure::Abort)).await;
        assert!(report.is_ok());
    }
    concurrent_runners_apply_each_version_once => |fx| {
        let m = fx.tenancy.migrations::<TenantMigrator>();
        let names = tenants(&fx, 6).await;
        let (a, b) = tokio::join!(
            m.run_many(ids(&names), Verb::Up(None), MigrateOptions::default().concurrency(3).on_failure(OnFailure::Continue)),
            m.run_many(ids(&names), Verb::Up(None), MigrateOptions::default().concurrency(3).on_failure(OnFailure::Continue)),
        );
        assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
        for name in &names {
            assert_eq!(count(&fx, name, "seaql_migrations").await, 4, "{name}");
        }
        let applied: usize = a
            .tenants
            .iter()
            .chain(&b.tenants)
            .map(|t| match &t.outcome { MigrationOutcome::Ok { changed } => changed.len(), _ => 0 })
            .sum();
        assert_eq!(applied, 4 * names.len(), "every version applied exactly once");
    }
    a_chosen_concurrency_stays_under_its_ceiling => |fx| {
        let m = fx.tenancy.migrations::<TenantMigrator>();
        let names = tenants(&fx, 24).await;
        for ceiling in [1, 3] {
            // Each tenant's run as (start, end), from the progress calls.
            let spans = std::sync::Mutex::new(Vec::new());
            let progress = |t: &TenantReport, _: usize| {
                let end = std::time::Instant::now();
                spans.lock().expect("spans").push((end - t.elapsed, end));
            };
            let options = MigrateOptions::default().max_concurrency(ceiling);
            let steps = Verb::Up(Some(if ceiling == 1 { 2 } else { 4 }));
            let report = m.run_many_observed(ids(&names), steps, options, &progress).await;
            assert!(report.is_ok(), "{report:?}");
            assert!((1..=ceiling).contains(&report.concurrency), "{}", report.concurrency);
            let spans = spans.into_inner().expect("spans");
            assert_eq!(spans.len(), names.len());
            let most = spans
                .iter()
                .map(|(start, _)| spans.iter().filter(|(s, e)| s <= start && start < e).count())
                .max()
                .unwrap_or(0);
            assert!((1..=ceiling).contains(&most), "{most} tenants at once, ceiling {ceiling}");
        }
        for state in m.status_many(&ids(&names)).await.expect("status") {
            assert!(state.pending.is_empty(), "{state:?}");
        }
        // Asked for a number: exactly that many (SQLite runs every tenant;
        // elsewhere nothing is left to run).
        let report = m.run_many(ids(&names), Verb::Up(None), MigrateOptions::default().concurrency(5)).await;
        assert!(report.is_ok(), "{report:?}");
        let expected = if fx.kind == Kind::Sqlite { 5 } else { 0 };
        assert_eq!(report.concurrency, expected);
    }
    resume_migrates_what_a_suspended_tenant_missed => |fx| {
        // A tenancy that knows the migrator, over the same database.
        let knowing = tenancy::Tenancy::builder(fx.tenancy.inner().clone())
            .migrator::<TenantMigrator>()
            .build()
            .await
            .expect("tenancy");
        let m = fx.tenancy.migrations::<TenantMigrator>();
        let names = tenants(&fx, 2).await;
        let report = m.run_many(ids(&names), Verb::Up(Some(3)), MigrateOptions::default()).await;
        assert!(report.is_ok(), "{report:?}");
        let (fine, broken) = (&names[0], &names[1]);
        // The fourth migration (a unique index on authors.name) fails on
        // duplicates planted while suspended.
        sql(&fx, broken, "INSERT INTO {}authors (email, name) VALUES ('a@x', 'Twin'), ('b@x', 'Twin')")
            .await
            .expect("plant duplicates");
        for name in &names {
            fx.tenancy.suspend(name).await.expect("suspend");
        }
        knowing.resume(fine).await.expect("resume");
        assert!(m.status(fine).await.expect("status").pending.is_empty(), "resumed on an old schema");
        let status = |name: &String| {
            let t = &fx.tenancy;
            let name = name.clone();
            async move { t.info(&name).await.expect("info").map(|i| i.status) }
        };
        assert_eq!(status(fine).await, Some(tenancy::TenantStatus::Active));
        let err = knowing.resume(broken).await.expect_err("its migration fails");
        assert_eq!(err.code(), tenancy::ErrorCode::Migration, "{err}");
        assert_eq!(status(broken).await, Some(tenancy::TenantStatus::Suspended), "served on an old schema");
        assert_eq!(m.status(broken).await.expect("status").pending.len(), 1);
        sql(&fx, broken, "DELETE FROM {}authors WHERE email = 'b@x'").await.expect("fix");
        knowing.resume(broken).await.expect("resume after the fix");
        assert_eq!(status(broken).await, Some(tenancy::TenantStatus::Active));
        assert!(m.status(broken).await.expect("status").pending.is_empty());
        let ghost = fx.name();
        assert!(knowing.resume(&ghost).await.expect_err("unknown").is_not_found());
    }
    a_registered_seeder_fills_every_new_tenant => |fx| {
        let seeding = |fail: bool| {
            let mut builder = tenancy::Tenancy::builder(fx.tenancy.inner().clone());
            for table in fx.tenancy.tenant_tables() {
                builder = builder.table(table, tenancy::Scope::Tenant);
            }
            builder
                .seeder(move |txn| {
                    Box::pin(async move {
                        txn.execute_unprepared("INSERT INTO authors (email, name) VALUES ('seed@x', 'Seed')")
                            .await?;
                        if fail {
                            return Err(sea_orm::DbErr::Custom("seed failed".into()));
                        }
                        Ok(())
                    })
                })
                .build()
        };
        let seeded = seeding(false).await.expect("tenancy");
        let m = seeded.migrations::<TenantMigrator>();
        let name = fx.name();
        m.create_and_migrate(&name).await.expect("create");
        assert_eq!(count(&fx, &name, "authors").await, 1);
        // The registered seeder first, then the one given.
        let both = fx.name();
        m.create_and_migrate_with(&both, async |txn| {
            txn.execute_unprepared("INSERT INTO authors (email, name) VALUES ('more@x', 'More')").await?;
            Ok(())
        })
        .await
        .expect("create");
        assert_eq!(count(&fx, &both, "authors").await, 2);
        // A seeder that fails: no tenant, no home.
        let failing = seeding(true).await.expect("tenancy");
        let broken = fx.name();
        let err = failing
            .migrations::<TenantMigrator>()
            .create_and_migrate(&broken)
            .await
            .expect_err("seed fails");
        assert_eq!(err.code(), tenancy::ErrorCode::Migration, "{err}");
        assert!(fx.tenancy.info(&broken).await.expect("info").is_none(), "registry row left");
        assert!(!fx.tenancy.home_exists(&broken).await.expect("home"), "home left");
    }
    create_and_migrate_is_one_unit => |fx| {
        let name = fx.name();
        let applied = fx
            .tenancy
            .migrations::<TenantMigrator>()
            .create_and_migrate(&name)
            .await
            .expect("create and migrate");
        assert_eq!(applied, versions());
        assert!(fx.tenancy.exists(&name).await.expect("exists"));
        let broken = fx.name();
        let err = fx
            .tenancy
            .migrations::<FailingMigrator>()
            .create_and_migrate(&broken)
            .await
            .expect_err("fails");
        assert_eq!(err.code(), tenancy::ErrorCode::Migration, "{err}");
        assert!(fx.tenancy.info(&broken).await.expect("info").is_none(), "registry row left");
        assert!(!fx.tenancy.home_exists(&broken).await.expect("home"), "home left");
        // Seeding runs in the same unit, routed to the new tenant.
        let seeded = fx.name();
        fx.tenancy
            .migrations::<TenantMigrator>()
            .create_and_migrate_with(&seeded, async |txn| {
                txn.execute_unprepared("INSERT INTO authors (email, name) VALUES ('s@x', 'Seed')").await?;
                Ok(())
            })
            .await
            .expect("seeded");
        assert_eq!(count(&fx, &seeded, "authors").await, 1);
        let unseeded = fx.name();
        let err = fx
            .tenancy
            .migrations::<TenantMigrator>()
            .create_and_migrate_with(&unseeded, async |txn| {
                txn.execute_unprepared("INSERT INTO authors (email, name) VALUES ('s@x', 'Seed')").await?;
                Err(sea_orm::DbErr::Custom("seed failed".into()))
            })
            .await
            .expect_err("seed fails");
        assert_eq!(err.code(), tenancy::ErrorCode::Migration, "{err}");
        assert!(fx.tenancy.info(&unseeded).await.expect("info").is_none());
        assert!(!fx.tenancy.home_exists(&unseeded).await.expect("home"));
        let taken = fx.tenancy.migrations::<TenantMigrator>().create_and_migrate(&name).await;
        assert!(taken.expect_err("exists").is_exists());
    }
}

/// PostgreSQL only (`CREATE INDEX CONCURRENTLY`): a migration that cannot
/// run in a transaction.
pub fn migration_outside_transaction(fx: Fixture) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let m = fx.tenancy.migrations::<ConcurrentIndexMigrator>();
        let names = tenants(&fx, 3).await;
        let report = m
            .run_many(
                ids(&names),
                Verb::Up(None),
                MigrateOptions::default()
                    .concurrency(2)
                    .on_failure(OnFailure::Continue),
            )
            .await;
        assert!(report.is_ok(), "{report:?}");
        for name in &names {
            assert_eq!(m.status(name).await.expect("status").applied.len(), 5);
        }
        let fresh = fx.name();
        m.create_and_migrate(&fresh)
            .await
            .expect("create and migrate");
        assert!(m.status(&fresh).await.expect("status").pending.is_empty());
    })
}

/// One `#[tokio::test]` per migration test for a backend.
#[macro_export]
macro_rules! migration_tests {
    ($kind:ident) => {
        $crate::migration_tests!(@each $kind;
            verbs_on_one_tenant failing_tenant_is_reported_and_others_succeed
            concurrent_runners_apply_each_version_once a_chosen_concurrency_stays_under_its_ceiling
            resume_migrates_what_a_suspended_tenant_missed a_registered_seeder_fills_every_new_tenant
            create_and_migrate_is_one_unit
            entity_migrations_route_like_queries);
    };
    (@each $kind:ident; $($test:ident)*) => {
        mod migrations {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::migrations::run($crate::Kind::$kind, $crate::migrations::$test).await;
                }
            )*

            /// The list above names every test the support library defines.
            #[test]
            fn every_test_is_listed() {
                $crate::assert_listed(&[$(stringify!($test)),*], $crate::migrations::NAMES.to_vec());
            }
        }
    };
}
