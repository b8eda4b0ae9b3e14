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
