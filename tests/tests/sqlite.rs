//! Integration tests on SQLite (a temporary directory per test).

tenancy_tests::leak_matrix!(Sqlite);
tenancy_tests::behaviour_tests!(Sqlite);
tenancy_tests::migration_tests!(Sqlite);
tenancy_tests::strict_tests!(Sqlite);
