//! Integration tests on SQLite (a temporary directory per test).

tenancy_tests::leak_matrix!(Sqlite);
