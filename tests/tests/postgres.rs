//! Integration tests on PostgreSQL (`TENANCY_PG_URL`).

tenancy_tests::leak_matrix!(Postgres);
tenancy_tests::behaviour_tests!(Postgres);
tenancy_tests::migration_tests!(Postgres);
tenancy_tests::strict_tests!(Postgres);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_outside_transaction() {
    use tenancy_tests::migrations;
    migrations::run(
        tenancy_tests::Kind::Postgres,
        migrations::migration_outside_transaction,
    )
    .await;
}
