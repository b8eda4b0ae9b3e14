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

/// The Citus-only tests, each on a fixture of its own.
macro_rules! citus_tests {
    ($($test:ident)*) => {
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(fx) = tenancy_tests::citus::fixture().await {
                        tenancy_tests::citus::$test(fx).await;
                    }
                }
            )*
        }
    };
}

citus_tests!(
    each_tenant_lives_whole_on_one_worker
    tenants_spread_over_the_workers
    shared_tables_are_reference_tables
    moving_a_tenant_keeps_its_rows
    a_worker_is_refused
    the_lint_names_what_the_cluster_gets_wrong
    a_deadlock_victim_is_migrated_again
);

/// A deadlock victim is retried on plain PostgreSQL too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_victim_is_migrated_again_on_postgres() {
    if let Some(fx) = tenancy_tests::Fixture::new(tenancy_tests::Kind::Postgres).await {
        tenancy_tests::citus::a_deadlock_victim_is_migrated_again(fx).await;
    }
}
