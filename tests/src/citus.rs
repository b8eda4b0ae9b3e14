//! What only a Citus cluster has: distributed tenant schemas on workers,
//! moving them, and the limits the library turns into errors and lints.
//! Run by `tests/tests/citus.rs` against `TENANCY_CITUS_URL`, whose
//! sessions have `citus.enable_schema_based_sharding` off: a schema that
//! ends up distributed was distributed by the library.

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, Database, DbBackend, EntityTrait, PaginatorTrait, Statement};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, prelude::*};
use tenancy::{
    Error, Tenancy,
    citus::{Lint, Node, Transfer},
};

use crate::{Fixture, Kind, matrix, post};

async fn text(db: &impl ConnectionTrait, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect(sql)
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("text"))
        .collect()
}

/// A fixture on the coordinator, `None` when it is unreachable and not
/// required.
pub async fn fixture() -> Option<Fixture> {
    Fixture::new(Kind::Citus).await
}

/// Placement-sensitive steps of this binary's tests, one at a time (the
/// rebalancer moves every test's tenants).
static CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The URL of `port` on the cluster's host, database as in
/// `TENANCY_CITUS_URL`, with shards visible in the catalog.
fn node_url(port: u16) -> String {
    let url = Kind::Citus.url();
    let db = url.rsplit('/').next().unwrap_or("tenancy_test");
    let db = db.split('?').next().unwrap_or(db);
    format!(
        "postgres://postgres@127.0.0.1:{port}/{db}?options=-c%20citus.override_table_visibility%3Doff"
    )
}

/// Each tenant schema is distributed by the library (the session's own
/// setting is off), placed whole on one worker, and its rows live there.
pub async fn each_tenant_lives_whole_on_one_worker(fx: Fixture) {
    let db = fx.tenancy.inner();
    assert_eq!(
        text(db, "SHOW citus.enable_schema_based_sharding").await,
        ["off"]
    );
    assert!(fx.tenancy.is_distributed());
    let conn = fx.seeded("w", 3).await;
    let _one = CLUSTER.lock().await;
    let name = conn.tenant().to_string();
    let home = fx.tenancy.home_of(&name).expect("home");
    let schemas = text(db, "SELECT CAST(schema_name AS text) FROM citus_schemas").await;
    assert!(schemas.contains(&home), "{home} is a distributed schema");
    let node = fx
        .tenancy
        .placement(&name)
        .await
        .expect("placement")
        .expect("placed");
    let nodes = fx.tenancy.nodes().await.expect("nodes");
    assert_eq!(nodes.len(), 2, "two workers: {nodes:?}");
    assert!(nodes.contains(&node), "{node} is a worker");
    // Every table of the tenant has its one shard on that node.
    let shard_nodes = text(
        db,
        &format!(
            "SELECT DISTINCT CAST(nodeport AS text) FROM citus_shards \
             WHERE CAST(table_name AS text) LIKE '{home}.%'"
        ),
    )
    .await;
    assert_eq!(shard_nodes, [node.port.to_string()]);
    // The rows are on that worker and on no other.
    for other in &nodes {
        let worker = Database::connect(node_url(other.port))
            .await
            .expect("worker");
        let shards = text(
            &worker,
            &format!(
                "SELECT CAST(c.relname AS text) FROM pg_class c JOIN pg_namespace n \
                 ON n.oid = c.relnamespace WHERE n.nspname = '{home}' \
                 AND c.relname LIKE 'posts\\_%' AND c.relkind = 'r'"
            ),
        )
        .await;
        assert_eq!(
            shards.len(),
            usize::from(other == &node),
            "{other}: {shards:?}"
        );
        worker.close().await.expect("close");
    }
    assert_eq!(post::Entity::find().count(&conn).await.expect("count"), 3);
    let placements = fx.tenancy.placements().await.expect("placements");
    assert!(
        placements
            .iter()
            .any(|(t, n)| t.as_str() == name && *n == node)
    );
}

/// New tenants are spread over both workers.
pub async fn tenants_spread_over_the_workers(fx: Fixture) {
    let mut nodes = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let conn = fx.tenant().await;
        let node = fx
            .tenancy
            .placement(conn.tenant().as_str())
            .await
            .expect("placement")
            .expect("placed");
        nodes.insert(node);
    }
    assert_eq!(nodes.len(), 2, "{nodes:?}");
}

/// The shared table is a reference table and tenant rows join it on their
/// worker; a tenant table with a foreign key into it is accepted.
pub async fn shared_tables_are_reference_tables(fx: Fixture) {
    let db = fx.tenancy.inner();
    assert_eq!(
        text(
            db,
            "SELECT CAST(citus_table_type AS text) FROM citus_tables WHERE CAST(table_name AS text) = 'plans'"
        )
        .await,
        ["reference"]
    );
    // Already one: nothing to do, and `Ok(false)`.
    assert!(
        !tenancy::citus::reference_table(db, "public.plans")
            .await
            .expect("helper")
    );
    assert!(matches!(
        tenancy::citus::reference_table(db, "no_such_table").await,
        Err(Error::Config(_))
    ));
    let conn = fx.seeded("j", 2).await;
    let joined = post::Entity::find()
        .find_also_related(crate::plan::Entity)
        .all(&conn)
        .await
        .expect("join");
    assert_eq!(joined.len(), 2);
    assert!(joined.iter().all(|(_, plan)| plan.is_some()));
    let home = fx.tenancy.home_of(conn.tenant().as_str()).expect("home");
    db.execute_unprepared(&format!(
        "CREATE TABLE \"{home}\".invoices (id bigserial PRIMARY KEY, plan_id integer REFERENCES public.plans (id))"
    ))
    .await
    .expect("a foreign key into a reference table");
}

/// `move_tenant` moves every row; the tenant serves from its new node.
pub async fn moving_a_tenant_keeps_its_rows(fx: Fixture) {
    let conn = fx.seeded("m", 4).await;
    let _one = CLUSTER.lock().await;
    let name = conn.tenant().to_string();
    let before = matrix::snapshot(&conn).await;
    let from = fx
        .tenancy
        .placement(&name)
        .await
        .expect("placement")
        .expect("placed");
    let nodes = fx.tenancy.nodes().await.expect("nodes");
    let to = nodes.iter().find(|n| **n != from).expect("another worker");
    fx.tenancy
        .move_tenant(&name, to, Transfer::BlockWrites)
        .await
        .expect("moved");
    assert_eq!(
        fx.tenancy.placement(&name).await.expect("placement"),
        Some(to.clone())
    );
    assert_eq!(matrix::snapshot(&conn).await, before, "every row moved");
    // Where it already is: nothing to do.
    fx.tenancy
        .move_tenant(&name, to, Transfer::Online)
        .await
        .expect("no-op move");
    let nowhere: Node = "127.0.0.1:1".parse().expect("node");
    assert!(matches!(
        fx.tenancy
            .move_tenant(&name, &nowhere, Transfer::BlockWrites)
            .await,
        Err(Error::Config(_))
    ));
    assert!(
        fx.tenancy
            .move_tenant("no_such_tenant", to, Transfer::BlockWrites)
            .await
            .is_err_and(|e| e.is_not_found())
    );
    // The rebalancer's plan moves nothing twice; running it leaves every
    // tenant served. Citus refuses both while another test's tables are
    // being made, dropped or moved: try again, bounded.
    let mut tries = 0;
    let plan = loop {
        match fx.tenancy.rebalance_plan().await {
            Ok(plan) => break plan,
            Err(e) if tries < 20 => {
                tries += 1;
                eprintln!("rebalance plan, try {tries}: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
            Err(e) => panic!("rebalance plan: {e}"),
        }
    };
    let mut homes: Vec<&str> = plan.iter().map(|m| m.home.as_str()).collect();
    homes.sort_unstable();
    homes.dedup();
    assert_eq!(homes.len(), plan.len(), "{plan:?}");
    let mut tries = 0;
    loop {
        match fx.tenancy.rebalance(Transfer::BlockWrites).await {
            Ok(_) => break,
            Err(e) if tries < 20 => {
                tries += 1;
                eprintln!("rebalance, try {tries}: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
            Err(e) => panic!("rebalance: {e}"),
        }
    }
    assert_eq!(matrix::snapshot(&conn).await, before);
}

/// A worker is refused at build; Citus asked of a server without it too.
pub async fn a_worker_is_refused(fx: Fixture) {
    let nodes = fx.tenancy.nodes().await.expect("nodes");
    let worker = Database::connect(node_url(nodes[0].port))
        .await
        .expect("worker");
    let err = Tenancy::builder(worker)
        .build()
        .await
        .expect_err("a worker is refused");
    assert!(
        matches!(&err, Error::Config(m) if m.contains("coordinator")),
        "{err}"
    );
    if let Ok(plain) = Database::connect(Kind::Postgres.url()).await {
        let err = Tenancy::builder(plain)
            .citus(true)
            .build()
            .await
            .expect_err("no citus extension");
        assert!(
            matches!(&err, Error::Config(m) if m.contains("citus")),
            "{err}"
        );
    }
}

/// What the cluster would refuse or get wrong shows in the lint.
pub async fn the_lint_names_what_the_cluster_gets_wrong(fx: Fixture) {
    let db = fx.tenancy.inner();
    let conn = fx.tenant().await;
    let home = fx.tenancy.home_of(conn.tenant().as_str()).expect("home");
    let lints = fx.tenancy.cluster_lint().await.expect("lint");
    // The test entities use `i32` keys (SeaORM's `serial`).
    assert!(
        lints.iter().any(|l| matches!(l, Lint::NarrowKey { table, column, .. } if table == "posts" && column == "id")),
        "{lints:?}"
    );
    // `plans` is a reference table: no lint for it.
    assert!(
        !lints
            .iter()
            .any(|l| matches!(l, Lint::LocalSharedTable { table } if table == "plans"))
    );
    // A foreign key from a local shared table into the tenant.
    let local = crate::unique("local_shared");
    db.execute_unprepared(&format!(
        "CREATE TABLE public.{local} (id bigint PRIMARY KEY, post_id integer REFERENCES \"{home}\".posts (id))"
    ))
    .await
    .expect("citus accepts it on a local table");
    let lints = fx.tenancy.cluster_lint().await.expect("lint");
    let found = lints.iter().any(|l| {
        matches!(l, Lint::ForeignKeyIntoTenant { table, references, .. }
            if *table == local && *references == format!("{home}.posts"))
    });
    // Registered as shared and still local: linted.
    let registered = Tenancy::builder(db.clone())
        .table(local.clone(), tenancy::Scope::Shared)
        .build()
        .await
        .expect("tenancy");
    let local_lints = registered.cluster_lint().await.expect("lint");
    db.execute_unprepared(&format!("DROP TABLE public.{local}"))
        .await
        .expect("cleanup");
    assert!(found, "{lints:?}");
    assert!(
        local_lints
            .iter()
            .any(|l| matches!(l, Lint::LocalSharedTable { table } if *table == local)),
        "{local_lints:?}"
    );
    assert!(lints.iter().all(|l| !l.to_string().is_empty()));
    // A tenant table with a foreign key into a local table: refused.
    let refused = db
        .execute_unprepared(&format!(
            "CREATE TABLE \"{home}\".bad_fk (id bigserial PRIMARY KEY, t text REFERENCES public.tenancy_tenants (id))"
        ))
        .await;
    assert!(
        refused.is_err(),
        "a foreign key into a local table is refused"
    );
}

static DEADLOCKS: AtomicU32 = AtomicU32::new(0);

struct DeadlocksOnce;

impl MigrationName for DeadlocksOnce {
    fn name(&self) -> &str {
        "m20260101_000001_deadlocks_once"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for DeadlocksOnce {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("CREATE TABLE retried (id bigserial PRIMARY KEY)")
            .await?;
        if DEADLOCKS.fetch_add(1, Ordering::SeqCst) == 0 {
            conn.execute_unprepared(
                "DO $$ BEGIN RAISE EXCEPTION 'chosen as the victim' USING ERRCODE = '40P01'; END $$",
            )
            .await?;
        }
        Ok(())
    }
}

struct Retried;

impl MigratorTrait for Retried {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(DeadlocksOnce)]
    }
}

/// A migration chosen as a deadlock victim runs again, whole, and applies
/// once (what concurrent foreign keys into one reference table cause).
pub async fn a_deadlock_victim_is_migrated_again(fx: Fixture) {
    let name = fx.name();
    fx.tenancy.create(&name).await.expect("created");
    DEADLOCKS.store(0, Ordering::SeqCst);
    let m = fx.tenancy.migrations::<Retried>();
    let applied = m
        .run(&name, tenancy::Verb::Up(None))
        .await
        .expect("retried");
    assert_eq!(applied, ["m20260101_000001_deadlocks_once"]);
    assert_eq!(DEADLOCKS.load(Ordering::SeqCst), 2, "ran twice");
    assert!(m.status(&name).await.expect("status").pending.is_empty());
    let home = fx.tenancy.home_of(&name).expect("home");
    fx.tenancy
        .inner()
        .execute_unprepared(&format!("SELECT count(*) FROM \"{home}\".retried"))
        .await
        .expect("the table exists");
}
