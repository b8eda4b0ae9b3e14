//! The isolation soak of the reliability suite: 100 tenants, 64 concurrent
//! tasks, at least 200,000 mixed statements, then every row of every tenant
//! checked for its owner (`TENANCY_PG_URL`, `TENANCY_MYSQL_URL`).

use tenancy_tests::{
    Kind,
    soak::{self, Soak, SoakConfig},
};

async fn soak(kind: Kind) {
    let Some(db) = soak::server(kind, 16).await else {
        return;
    };
    let soak = Soak::build(db).await.expect("tenancy builds");
    let cfg = SoakConfig::from_env();
    let report = soak.run(&cfg).await;
    eprintln!("{kind:?} soak: {report}");
    assert!(report.is_clean(), "{kind:?}: {report}");
    assert!(report.statements >= cfg.statements, "{report}");
    assert_eq!(
        report.ops.len(),
        14,
        "every kind of operation ran: {report}"
    );
    assert!(report.rows_checked > 0, "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn isolation_soak_postgres() {
    soak(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn isolation_soak_mysql() {
    soak(Kind::MySql).await;
}
