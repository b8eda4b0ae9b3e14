//! Integration tests on SQLite (a temporary directory per test).

tenancy_tests::leak_matrix!(Sqlite);
tenancy_tests::behaviour_tests!(Sqlite);
tenancy_tests::migration_tests!(Sqlite);
tenancy_tests::strict_tests!(Sqlite);

/// The backend binaries (Citus included) run the same suites: a suite added to one
/// and forgotten in another would silently run on fewer backends.
#[test]
fn every_backend_runs_every_suite() {
    let suites = |src: &str| -> Vec<String> {
        src.lines()
            .filter_map(|line| line.strip_prefix("tenancy_tests::"))
            .filter_map(|line| line.split_once('!').map(|(name, _)| name.to_owned()))
            .collect()
    };
    let sqlite = suites(include_str!("sqlite.rs"));
    assert_eq!(sqlite, suites(include_str!("postgres.rs")));
    assert_eq!(sqlite, suites(include_str!("mysql.rs")));
    assert_eq!(sqlite, suites(include_str!("citus.rs")));
    let exported = include_str!("../src/lib.rs")
        .matches("#[macro_export]")
        .count()
        + include_str!("../src/behaviour.rs")
            .matches("#[macro_export]")
            .count()
        + include_str!("../src/matrix.rs")
            .matches("#[macro_export]")
            .count()
        + include_str!("../src/migrations.rs")
            .matches("#[macro_export]")
            .count()
        + include_str!("../src/strict.rs")
            .matches("#[macro_export]")
            .count();
    assert_eq!(sqlite.len(), exported, "{sqlite:?}: every exported suite");
}
