//! Integration tests on PostgreSQL (`TENANCY_PG_URL`).

tenancy_tests::leak_matrix!(Postgres);
