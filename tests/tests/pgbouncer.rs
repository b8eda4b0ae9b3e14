//! The isolation soak through PgBouncer in transaction pooling mode: a
//! private PgBouncer on a free local port in front of `TENANCY_PG_URL`.
//! Server connections change hands between transactions, so any tenant
//! state left on a connection (a `search_path`, a `USE`) would leak; the
//! soak's row-ownership check proves none does.

use tenancy_tests::{
    Kind,
    pgbouncer::PgBouncer,
    soak::{self, Soak, SoakConfig},
};

#[tokio::test(flavor = "multi_thread")]
async fn isolation_soak_through_pgbouncer_transaction_pooling() {
    let kind = Kind::Postgres;
    let url = kind.url();
    // The server itself first: unreachable is NOT RUN unless required.
    if let Err(err) = tenancy_tests::connect_server(kind, &url).await {
        soak::unreachable(kind, &url, &err);
        return;
    }
    let bouncer = match PgBouncer::start(&url) {
        Ok(b) => b,
        Err(err) => {
            assert!(
                !kind.required(),
                "TENANCY_REQUIRE lists postgres and PgBouncer cannot run: {err}"
            );
            eprintln!("\n*** NOT RUN: PgBouncer soak skipped: {err}\n");
            return;
        }
    };
    let db_name = url.rsplit('/').next().unwrap_or_default();
    let db_name = db_name.split('?').next().unwrap_or(db_name);
    let pooled = soak::connect(kind, &url, &bouncer.url(db_name), 16, false)
        .await
        .unwrap_or_else(|e| panic!("through PgBouncer: {e}\n{}", bouncer.log()));
    let direct = soak::server(kind, 4).await.expect("reachable");
    let soak = Soak::build(direct)
        .await
        .expect("tenancy builds")
        .through(pooled)
        .await
        .expect("pooled tenancy builds");
    let cfg = SoakConfig {
        pinned: true,
        ..SoakConfig::from_env()
    };
    let report = soak.run(&cfg).await;
    eprintln!("PgBouncer (transaction pooling) soak: {report}");
    assert!(report.is_clean(), "{report}\n{}", bouncer.log());
    assert!(report.statements >= cfg.statements, "{report}");
    assert_eq!(report.ops.len(), 14, "{report}");
}

/// Why the soak above pins every statement in a transaction and disables
/// sqlx's statement cache: with the defaults, a PgBouncer older than 1.21
/// (no `max_prepared_statements`) lets one client's cached prepared
/// statement run on a server connection where another client prepared a
/// statement of the same name. Tenant A's `find_by_id` then executes tenant
/// B's statement. This test asserts that hazard on such a PgBouncer, so the
/// README's advice stays true; on 1.21+ it checks nothing.
#[tokio::test(flavor = "multi_thread")]
async fn default_statement_cache_crosses_tenants_behind_old_pgbouncer() {
    use sea_orm::{ConnectionTrait, EntityTrait, TransactionTrait};
    use tenancy::Tenancy;
    use tenancy_tests::{Fixture, pgbouncer, post};

    if pgbouncer::version().is_some_and(|v| v >= (1, 21)) {
        return;
    }
    let kind = Kind::Postgres;
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let url = kind.url();
    let bouncer = match PgBouncer::start_with(&url, &[("default_pool_size", "2")]) {
        Ok(b) => b,
        Err(err) => {
            assert!(!kind.required(), "PgBouncer cannot run: {err}");
            eprintln!("\n*** NOT RUN: PgBouncer hazard test skipped: {err}\n");
            return;
        }
    };
    let a = fx.seeded("a", 1).await;
    let b = fx.seeded("b", 1).await;
    let db_name = url.rsplit('/').next().unwrap_or_default();
    let pooled = async |name: &str| {
        let db = soak::connect(kind, &url, &bouncer.url(db_name), 1, true)
            .await
            .expect("through PgBouncer");
        let t = Tenancy::builder(db)
            .install_registry(false)
            .build()
            .await
            .expect("tenancy");
        t.tenant(name).expect("valid")
    };
    let a = pooled(a.tenant().as_str()).await;
    let b = pooled(b.tenant().as_str()).await;
    // A prepares its statement (sqlx_s_1) on the server it holds...
    let txn = a.begin().await.expect("begin");
    let own = post::Entity::find_by_id(1)
        .one(&txn)
        .await
        .expect("a reads");
    assert_eq!(own.map(|p| p.title).as_deref(), Some("a-1"));
    // ...while B prepares its own sqlx_s_1 on the other server.
    let theirs = post::Entity::find_by_id(1).one(&b).await.expect("b reads");
    assert_eq!(theirs.map(|p| p.title).as_deref(), Some("b-1"));
    txn.commit().await.expect("commit");
    // B holds one server; A's cached statement runs on the other.
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        let hold = b.begin().await.expect("begin");
        hold.execute_unprepared("SELECT 1").await.expect("hold");
        let got = post::Entity::find_by_id(1).one(&a).await;
        hold.commit().await.expect("commit");
        outcomes.push(got.map(|p| p.map(|p| p.title)).map_err(|e| e.to_string()));
    }
    assert!(
        outcomes
            .iter()
            .any(|o| o.as_ref().ok() == Some(&Some("b-1".to_owned()))),
        "tenant A never got tenant B's row: {outcomes:?}"
    );
    eprintln!("behind PgBouncer < 1.21 with sqlx defaults, tenant A read: {outcomes:?}");
}
