//! Hostile tenant names (`tests/corpus/hostile-names.txt`) on every entry
//! point that takes a name, on every backend: each is refused with
//! `InvalidTenantName` before any statement is built, and nothing appears in
//! the catalog or the registry. Entries marked valid are accepted.

use migration::TenantMigrator;
use sea_orm::{ConnectionTrait, Statement};
use tenancy::{Error, Irreversibly, TenantId, Verb};
use tenancy_tests::{Fixture, Kind, corpus};

/// Every home on the server (schemas or databases); SQLite: tenant files.
async fn homes(fx: &Fixture) -> Vec<String> {
    let sql = match fx.kind {
        Kind::Postgres | Kind::Citus => "SELECT nspname FROM pg_namespace",
        Kind::MySql => "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata",
        Kind::Sqlite => {
            let dir = fx.dir().expect("dir").join("tenants");
            return std::fs::read_dir(dir)
                .map(|d| {
                    d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default();
        }
    };
    fx.tenancy
        .inner()
        .query_all_raw(Statement::from_string(fx.kind.backend(), sql))
        .await
        .expect("catalog")
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("name"))
        .collect()
}

async fn hostile_names(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let entries = corpus::load("hostile-names.txt");
    let (valid, hostile): (Vec<_>, Vec<_>) = entries.iter().partition(|e| e.expect_valid);
    assert!(hostile.len() >= 200, "only {} hostile names", hostile.len());
    let t = &fx.tenancy;
    let m = t.migrations::<TenantMigrator>();
    let before = fx.captured().len();
    for entry in &hostile {
        let name = entry.text.as_str();
        let checks: [(&str, Option<Error>); 18] = [
            ("TenantId::new", TenantId::new(name).err()),
            ("TenantId::try_from", TenantId::try_from(name).err()),
            ("tenant_id", t.tenant_id(name).err()),
            ("tenant", t.tenant(name).err()),
            ("home_of", t.home_of(name).err()),
            ("connect", t.connect(name).await.err()),
            ("create", t.create(name).await.err()),
            (
                "create_with_metadata",
                t.create_with_metadata(name, serde_json::json!({}))
                    .await
                    .err(),
            ),
            ("drop", t.drop(name, Irreversibly).await.err()),
            ("exists", t.exists(name).await.err()),
            ("info", t.info(name).await.err()),
            ("home_exists", t.home_exists(name).await.err()),
            ("suspend", t.suspend(name).await.err()),
            ("resume", t.resume(name).await.err()),
            ("migrations().run", m.run(name, Verb::Up(None)).await.err()),
            ("migrations().status", m.status(name).await.err()),
            (
                "migrations().create_and_migrate",
                m.create_and_migrate(name).await.err(),
            ),
            (
                "migrations().create_and_migrate_with",
                m.create_and_migrate_with(name, async |_| Ok(()))
                    .await
                    .err(),
            ),
        ];
        for (entry_point, err) in checks {
            let err = err.unwrap_or_else(|| {
                panic!("line {}: {name:?} accepted by {entry_point}", entry.line)
            });
            assert!(
                err.is_invalid_name(),
                "line {}: {name:?} by {entry_point}: {err}",
                entry.line
            );
        }
    }
    assert_eq!(
        fx.captured().len(),
        before,
        "a hostile name reached a statement"
    );
    // Nothing was made: no home named after a hostile entry, no registry row.
    let homes = homes(&fx).await;
    for entry in &hostile {
        let home = format!("tenant_{}", entry.text);
        assert!(
            !homes
                .iter()
                .any(|h| *h == home || *h == format!("{home}.db")),
            "line {}: a home for {:?} exists",
            entry.line,
            entry.text
        );
    }
    let listed = t.list().await.expect("list");
    for entry in &hostile {
        assert!(!listed.iter().any(|i| i.id.as_str() == entry.text));
    }
    for entry in &valid {
        let name = entry.text.as_str();
        let id = TenantId::new(name)
            .unwrap_or_else(|e| panic!("line {}: {name:?} refused: {e}", entry.line));
        assert_eq!(id.as_str(), name);
        let conn = t.tenant(name).expect("valid");
        assert_eq!(conn.tenant().as_str(), name);
        assert_eq!(t.home_of(name).expect("valid"), format!("tenant_{name}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_refused_postgres() {
    hostile_names(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_refused_mysql() {
    hostile_names(Kind::MySql).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_refused_sqlite() {
    hostile_names(Kind::Sqlite).await;
}

#[test]
fn hostile_hosts_corpus_parses() {
    let hosts = corpus::load("hostile-hosts.txt");
    assert!(hosts.len() >= 100, "only {} hosts", hosts.len());
    assert!(hosts.iter().all(|h| !h.expect_valid));
    for must in [
        "",
        "..",
        "example.com.",
        "[::1]:8080",
        "ACME.example.com:8080",
    ] {
        assert!(hosts.iter().any(|h| h.text == must), "{must:?} missing");
    }
    assert!(hosts.iter().any(|h| h.text.len() > 4096));
    assert!(hosts.iter().any(|h| h.text.starts_with("xn--")));
    assert!(hosts.iter().any(|h| !h.text.is_ascii()));
}
