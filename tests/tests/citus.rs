//! Integration tests on a Citus coordinator (`TENANCY_CITUS_URL`): the
//! PostgreSQL suites unchanged, with the cluster's own schema-based
//! sharding switched off so that only the library distributes tenants; and
//! what only a cluster has (`tests/src/citus.rs`).

tenancy_tests::leak_matrix!(Citus);
tenancy_tests::behaviour_tests!(Citus);
tenancy_tests::migration_tests!(Citus);
tenancy_tests::strict_tests!(Citus);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_outside_transaction() {
    use tenancy_tests::migrations;
    migrations::run(
        tenancy_tests::Kind::Citus,
        migrations::migration_outside_transaction,
    )
    .await;
}
