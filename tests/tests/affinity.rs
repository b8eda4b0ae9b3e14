//! Tenant affinity (`TenancyBuilder::affinity`, on by default): each tenant
//! has a home connection, a busy home spills over to idle connections, a
//! transaction stays on its connection, and the statement cache follows
//! the shared pool's (0 stays 0, for poolers that cannot track prepared
//! statements).

use std::{collections::HashSet, time::Instant};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};
use tenancy::{Affinity, Tenancy, TenantConnection};
use tenancy_tests::{Fixture, Kind};

fn backend_id(kind: Kind) -> &'static str {
    match kind {
        Kind::MySql => "SELECT CAST(CONNECTION_ID() AS SIGNED)",
        _ => "SELECT CAST(pg_backend_pid() AS BIGINT)",
    }
}

async fn id_of(conn: &impl ConnectionTrait, kind: Kind) -> i64 {
    conn.query_one_raw(Statement::from_string(kind.backend(), backend_id(kind)))
        .await
        .expect("backend id")
        .expect("row")
        .try_get_by_index(0)
        .expect("id")
}

async fn pool(kind: Kind, size: u32, cache: Option<usize>) -> Option<DatabaseConnection> {
    Fixture::new(kind).await?;
    let mut options = ConnectOptions::new(kind.url());
    options.max_connections(size).sqlx_logging(false);
    if let Some(cache) = cache {
        options
            .map_sqlx_postgres_opts(move |o| o.statement_cache_capacity(cache))
            .map_sqlx_mysql_opts(move |o| o.statement_cache_capacity(cache));
    }
    Some(Database::connect(options).await.expect("connect"))
}

/// Sequential statements of one tenant always meet the same server
/// connection, and different tenants are spread over several (the
/// mapping itself is unit-tested beside `Partitions`).
async fn homes_are_stable_and_spread(kind: Kind) {
    let Some(db) = pool(kind, 8, None).await else {
        return;
    };
    let on = Tenancy::builder(db).build().await.expect("tenancy");
    let names: Vec<String> = (0..24).map(|i| format!("aff_{i}")).collect();
    let mut homes = HashSet::new();
    for name in &names {
        let conn = on.tenant(name).expect("tenant");
        let first = id_of(&conn, kind).await;
        for _ in 0..4 {
            assert_eq!(id_of(&conn, kind).await, first, "{name} left its home");
        }
        homes.insert(first);
    }
    assert!(
        homes.len() >= 4,
        "24 tenants on {} connections",
        homes.len()
    );
    // Each home keeps its tenants: the first tenant is still where it was
    // after every other tenant ran.
    let first = on.tenant(&names[0]).expect("tenant");
    let home = id_of(&first, kind).await;
    assert!(homes.contains(&home));
    assert_eq!(id_of(&first, kind).await, home);
}

/// A tenant whose home connection is busy spreads while the pool is
/// quiet: eight 300 ms sleeps of one tenant run on several connections
/// (on one they would take 2.4 s).
async fn a_hot_tenant_spreads(kind: Kind) {
    let Some(db) = pool(kind, 8, None).await else {
        return;
    };
    let tenancy = Tenancy::builder(db).build().await.expect("tenancy");
    let conn = tenancy.tenant("aff_hot").expect("tenant");
    let sql = match kind {
        Kind::MySql => "SELECT CAST(CONNECTION_ID() AS SIGNED) FROM (SELECT SLEEP(0.3)) s",
        _ => "SELECT CAST(pg_backend_pid() AS BIGINT) FROM pg_sleep(0.3)",
    };
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let conn: TenantConnection = conn.clone();
            tokio::spawn(async move {
                conn.query_one_raw(Statement::from_string(kind.backend(), sql))
                    .await
                    .expect("sleep")
                    .expect("row")
                    .try_get_by_index::<i64>(0)
                    .expect("id")
            })
        })
        .collect();
    let mut used = HashSet::new();
    for t in tasks {
        used.insert(t.await.expect("task"));
    }
    let took = started.elapsed().as_secs_f64();
    assert!(
        used.len() >= 3,
        "one hot tenant on {} connections",
        used.len()
    );
    assert!(took < 2.2, "8 x 0.3 s took {took:.2} s");
}

/// A transaction keeps its connection; the tenant's next statement goes
/// home again.
async fn a_transaction_keeps_its_connection(kind: Kind) {
    let Some(db) = pool(kind, 4, None).await else {
        return;
    };
    let tenancy = Tenancy::builder(db).build().await.expect("tenancy");
    let conn = tenancy.tenant("aff_txn").expect("tenant");
    let txn = conn.begin().await.expect("begin");
    let inside = id_of(&txn, kind).await;
    // Busy home: the tenant's own statement spills elsewhere meanwhile.
    let outside = id_of(&conn, kind).await;
    assert_eq!(id_of(&txn, kind).await, inside);
    assert_ne!(inside, outside, "the transaction holds the home connection");
    txn.commit().await.expect("commit");
    assert_eq!(id_of(&conn, kind).await, inside, "home again");
}

/// How many prepared statements a connection of `tenancy` holds for one
/// SQL text run three times in a transaction.
async fn prepared(tenancy: &Tenancy) -> i64 {
    let conn = tenancy.tenant("aff_cache").expect("tenant");
    let txn = conn.begin().await.expect("begin");
    let marker = tenancy_tests::unique("m");
    let sql = format!("SELECT $1::int + 1 AS {marker}");
    for i in 0..3 {
        txn.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            &sql,
            [i.into()],
        ))
        .await
        .expect("query");
    }
    let kept: i64 = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT count(*) FROM pg_catalog.pg_prepared_statements WHERE statement LIKE '%{marker}%' AND statement NOT LIKE '%pg_prepared%'"
            ),
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get_by_index(0)
        .expect("n");
    txn.commit().await.expect("commit");
    kept
}

/// The affinity pools prepare statements as the shared pool's settings
/// say: a shared pool whose cache is 0 (a pooler that cannot track
/// prepared statements) gives pools that cache nothing either, exactly as
/// without affinity; the default cache prepares a statement once.
async fn the_statement_cache_follows_the_shared_pool() {
    let kind = Kind::Postgres;
    let Some(db) = pool(kind, 2, Some(0)).await else {
        return;
    };
    let on = Tenancy::builder(db.clone()).build().await.expect("tenancy");
    let off = Tenancy::builder(db)
        .affinity(Affinity::OFF)
        .build()
        .await
        .expect("tenancy");
    let (with, without) = (prepared(&on).await, prepared(&off).await);
    assert_eq!(
        with, without,
        "cache 0: affinity prepares as the shared pool does"
    );
    assert_ne!(with, 1, "cache 0 does not keep one statement");
    let Some(db) = pool(kind, 2, None).await else {
        return;
    };
    let on = Tenancy::builder(db).build().await.expect("tenancy");
    assert_eq!(prepared(&on).await, 1, "prepared once, reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn homes_are_stable_and_spread_postgres() {
    homes_are_stable_and_spread(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn homes_are_stable_and_spread_mysql() {
    homes_are_stable_and_spread(Kind::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_tenant_spreads_postgres() {
    a_hot_tenant_spreads(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_tenant_spreads_mysql() {
    a_hot_tenant_spreads(Kind::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_keeps_its_connection_postgres() {
    a_transaction_keeps_its_connection(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_keeps_its_connection_mysql() {
    a_transaction_keeps_its_connection(Kind::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statement_cache_follows_the_shared_pool_postgres() {
    the_statement_cache_follows_the_shared_pool().await;
}
