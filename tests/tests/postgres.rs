//! Integration tests on PostgreSQL (`TENANCY_PG_URL`).

tenancy_tests::leak_matrix!(Postgres);
tenancy_tests::behaviour_tests!(Postgres);
tenancy_tests::migration_tests!(Postgres);
