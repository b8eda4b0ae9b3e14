//! End to end: the built migration binary against a SQLite directory, and,
//! for what depends on the server, against fresh PostgreSQL and MariaDB
//! databases (uniquely named, dropped afterwards).

use std::process::{Command, Output};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use sea_orm_migration::SchemaManager;
use tenancy::{Irreversibly, Tenancy};
use tenancy_tests::{Kind, connect_server, unique};

struct Cli {
    url: String,
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Cli {
            url: format!("sqlite://{}/shared.db?mode=rwc", dir.path().display()),
            dir,
        }
    }

    fn on(url: &str) -> Self {
        Cli {
            url: url.to_owned(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn shared_file(&self) -> std::path::PathBuf {
        self.dir.path().join("shared.db")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_migration"))
            .args(args)
            .env("DATABASE_URL", &self.url)
            .env_remove("RUST_LOG")
            .current_dir(self.dir.path())
            .output()
            .expect("binary runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `args`, expecting a failure; its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "{args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("valid JSON")
    }

    /// `(pending, applied)` counts of `tenant`.
    fn counts(&self, tenant: &str) -> (usize, usize) {
        let status = self.json(&["status", "--tenant", tenant, "--json"]);
        let len = |key: &str| status[0][key].as_array().map_or(usize::MAX, Vec::len);
        (len("pending"), len("applied"))
    }

    async fn tenancy(&self) -> Tenancy {
        let db = Database::connect(&self.url).await.expect("connect");
        Tenancy::builder(db).build().await.expect("tenancy")
    }
}

/// One line on stderr, starting with `error: `.
fn one_line_error(stderr: &str) -> &str {
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr.trim_end()
}

#[test]
fn lifecycle_and_migrations_from_the_command_line() {
    let cli = Cli::new();
    cli.ok(&["up"]);
    cli.ok(&["tenant", "create", "acme"]);
    cli.ok(&["tenant", "create", "globex"]);
    let list = cli.json(&["tenant", "list", "--json"]);
    let names: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["acme", "globex"]);

    let status = cli.json(&["status", "--all", "--json"]);
    for tenant in status.as_array().expect("array") {
        assert_eq!(
            tenant["applied"].as_array().map(Vec::len),
            Some(4),
            "{tenant}"
        );
        assert_eq!(tenant["pending"].as_array().map(Vec::len), Some(0));
        assert_eq!(tenant["drift"], "current");
    }

    cli.ok(&["down", "--tenant", "acme", "-n", "2"]);
    let status = cli.json(&["status", "--tenant", "acme", "--json"]);
    assert_eq!(status[0]["pending"].as_array().map(Vec::len), Some(2));
    assert_eq!(status[0]["drift"], "behind");
    let out = cli.ok(&["up", "--all", "--concurrency", "2"]);
    assert!(out.contains("tenants: 2 ok, 0 failed"), "{out}");
    cli.ok(&["fresh", "--tenant", "globex"]);
    assert!(
        !cli.run(&["fresh"]).status.success(),
        "the shared home is never wiped"
    );

    // Refusals: no --force, unknown and hostile names, an existing tenant.
    assert!(!cli.run(&["tenant", "drop", "acme"]).status.success());
    assert!(!cli.run(&["up", "--tenant", "nobody"]).status.success());
    let hostile = cli.run(&["tenant", "create", "x\"; DROP TABLE tenancy_tenants; --"]);
    assert!(!hostile.status.success());
    assert!(String::from_utf8_lossy(&hostile.stderr).contains("invalid tenant name"));
    assert!(!cli.run(&["tenant", "create", "acme"]).status.success());

    cli.ok(&["tenant", "drop", "acme", "--force"]);
    let list = cli.json(&["tenant", "list", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[test]
fn concurrency_is_capped_on_sqlite() {
    let cli = Cli::new();
    cli.ok(&["up"]);
    cli.ok(&["tenant", "create", "acme"]);
    cli.ok(&["down", "--tenant", "acme", "-n", "1"]);
    let out = cli.run(&["up", "--all", "--concurrency", "100000"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("concurrency capped at 64 (asked for 100000)"),
        "{stderr}"
    );
    assert_eq!(cli.counts("acme"), (0, 4));
    // Within the cap: nothing said.
    let out = cli.run(&["up", "--all", "--concurrency", "2"]);
    assert!(out.status.success() && out.stderr.is_empty());
}

#[test]
fn destructive_all_runs_need_force() {
    let cli = Cli::new();
    cli.ok(&["up"]);
    cli.ok(&["tenant", "create", "acme"]);
    for verb in ["down", "fresh", "refresh", "reset"] {
        let stderr = cli.fails(&[verb, "--all"]);
        let line = one_line_error(&stderr);
        assert!(line.contains(&format!("`{verb} --all`")), "{line}");
        assert!(line.contains("--force"), "{line}");
        assert_eq!(cli.counts("acme"), (0, 4), "{verb} did something");
    }
    // Nothing is done at all: not even the registry of a new database.
    let empty = Cli::new();
    empty.fails(&["reset", "--all"]);
    assert!(!empty.shared_file().exists());

    cli.ok(&["reset", "--all", "--force"]);
    assert_eq!(cli.counts("acme"), (4, 0));
    // One tenant stays a plain command, as before.
    cli.ok(&["fresh", "--tenant", "acme"]);
    assert_eq!(cli.counts("acme"), (0, 4));
}

#[test]
fn unknown_tenants_are_errors() {
    let cli = Cli::new();
    cli.ok(&["up"]);
    cli.ok(&["tenant", "create", "acme"]);
    for args in [
        &["status", "--tenant", "nobody"][..],
        &["status", "--tenant", "nobody", "--json"],
        &["up", "--tenant", "nobody"],
        &["down", "--tenant", "nobody"],
        &["fresh", "--tenant", "nobody"],
        &["refresh", "--tenant", "nobody"],
        &["reset", "--tenant", "nobody"],
        &["tenant", "drop", "nobody", "--force"],
    ] {
        let out = cli.run(args);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            one_line_error(&stderr),
            "error: tenant nobody not found",
            "{args:?}"
        );
    }
}

#[test]
fn secrets_are_never_printed() {
    let secret = "s3cret-Pa55";
    let cli = Cli::on(&format!("postgres://app:{secret}@127.0.0.1:1/app"));
    let help = cli.ok(&["--help"]);
    assert!(
        help.contains("DATABASE_URL") && !help.contains(secret),
        "{help}"
    );
    let help = cli.ok(&["up", "--help"]);
    assert!(!help.contains(secret), "{help}");
    // An error quoting the URL (SeaORM's "no supporting driver") masks it.
    let cli = Cli::on(&format!("nosuchdb://app:{secret}@127.0.0.1:1/app"));
    let stderr = cli.fails(&["status"]);
    let line = one_line_error(&stderr);
    assert!(!line.contains(secret), "{line}");
    assert!(
        line.contains("nosuchdb://app:***@127.0.0.1:1/app"),
        "{line}"
    );
    // Percent-encoded too.
    let cli = Cli::on("nosuchdb://app:s3cret%2Fpw@127.0.0.1:1/app");
    let line = cli.fails(&["up", "-u", "nosuchdb://app:s3cret%2Fpw@127.0.0.1:1/app"]);
    assert!(!line.contains("s3cret"), "{line}");
    // The real drivers' errors (nothing listens on port 1; a wrong password
    // on the test servers' URLs) never carry it either.
    // Refused: the cause, not sqlx's bare "pool timed out".
    for url in [
        format!("postgres://app:{secret}@127.0.0.1:1/app"),
        format!("mysql://app:{secret}@127.0.0.1:1/app"),
    ] {
        let stderr = Cli::on(&url).fails(&["status"]);
        assert!(!stderr.contains(secret), "{url}: {stderr}");
        assert!(stderr.contains("Connection refused"), "{url}: {stderr}");
    }
    let wrong = format!(
        "mysql://nobody_{}:{secret}@127.0.0.1:3306/app",
        std::process::id()
    );
    for args in [&["status"][..], &["up"], &["tenant", "list"]] {
        let stderr = Cli::on(&wrong).fails(args);
        assert!(!stderr.contains(secret), "{args:?}: {stderr}");
        assert!(stderr.contains("Access denied"), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn read_only_verbs_write_nothing_on_sqlite() {
    // No database at all: no file is created.
    let cli = Cli::new();
    for args in [
        &["status"][..],
        &["status", "--all", "--json"],
        &["status", "--tenant", "acme"],
        &["tenant", "list"],
        &["tenant", "list", "--json"],
    ] {
        let out = cli.run(args);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            one_line_error(&stderr).contains("no tenancy registry in this database"),
            "{stderr}"
        );
    }
    assert!(!cli.shared_file().exists());
    assert!(!cli.dir.path().join("tenants").exists());

    // Someone else's database: left byte for byte as it was.
    let db = Database::connect(&cli.url).await.expect("sqlite");
    db.execute_unprepared("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        .await
        .expect("table");
    db.close().await.expect("close");
    let before = std::fs::read(cli.shared_file()).expect("file");
    for args in [&["status"][..], &["tenant", "list", "--json"]] {
        let stderr = cli.fails(args);
        assert!(stderr.contains("no tenancy registry"), "{stderr}");
    }
    assert_eq!(std::fs::read(cli.shared_file()).expect("file"), before);
    assert!(!cli.dir.path().join("tenants").exists());

    // With a registry they read as before.
    cli.ok(&["up"]);
    assert_eq!(
        cli.json(&["tenant", "list", "--json"]),
        serde_json::json!([])
    );
}

#[test]
fn failures_print_their_whole_cause() {
    let cli = Cli::new();
    cli.ok(&["up"]);
    cli.ok(&["tenant", "create", "acme"]);
    cli.ok(&["tenant", "create", "globex"]);
    cli.ok(&["reset", "--tenant", "acme"]);
    let file = std::fs::read_dir(cli.dir.path().join("tenants"))
        .expect("tenant files")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with("acme.db"))
        .expect("the file of acme");
    std::fs::write(&file, vec![b'x'; 4096]).expect("garbage");

    let stderr = cli.fails(&["up", "--tenant", "acme"]);
    let line = one_line_error(&stderr);
    assert!(line.contains("migration of tenant acme failed: "), "{line}");
    assert!(line.contains("file is not a database"), "{line}");

    let out = cli.run(&["up", "--all"]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let failed = stdout
        .lines()
        .find(|l| l.starts_with("FAILED"))
        .unwrap_or_default();
    assert!(failed.contains("acme"), "{stdout}");
    assert!(failed.contains("file is not a database"), "{stdout}");
    assert!(stdout.contains("tenants: 1 ok, 1 failed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspended_tenants_are_named_when_skipped() {
    let cli = Cli::new();
    cli.ok(&["up"]);
    for name in ["acme", "globex", "initech"] {
        cli.ok(&["tenant", "create", name]);
    }
    let tenancy = cli.tenancy().await;
    tenancy.suspend("globex").await.expect("suspend");
    tenancy.suspend("initech").await.expect("suspend");
    let out = cli.ok(&["up", "--all"]);
    assert!(out.contains("tenants: 1 ok, 0 failed"), "{out}");
    assert!(
        out.contains("2 suspended tenants skipped: globex, initech"),
        "{out}"
    );
    tenancy.resume("initech").await.expect("resume");
    let out = cli.ok(&["down", "--all", "--force"]);
    assert!(out.contains("1 suspended tenant skipped: globex"), "{out}");
    assert_eq!(cli.counts("globex"), (0, 4));
    assert_eq!(cli.counts("initech"), (1, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn include_suspended_migrates_suspended_tenants_too() {
    let cli = Cli::new();
    cli.ok(&["up"]);
    for name in ["acme", "globex"] {
        cli.ok(&["tenant", "create", name]);
        cli.ok(&["down", "--tenant", name, "-n", "2"]);
    }
    let tenancy = cli.tenancy().await;
    tenancy.suspend("globex").await.expect("suspend");
    let out = cli.ok(&["up", "--all"]);
    assert!(out.contains("1 suspended tenant skipped: globex"), "{out}");
    assert_eq!(cli.counts("globex"), (2, 2));
    let out = cli.ok(&["up", "--all", "--include-suspended"]);
    assert!(out.contains("tenants: 2 ok, 0 failed"), "{out}");
    assert!(!out.contains("skipped: globex"), "{out}");
    assert_eq!(cli.counts("globex"), (0, 4));
    // Only with --all.
    let out = cli.run(&["up", "--tenant", "acme", "--include-suspended"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A fresh, uniquely named database on a server, dropped (with the tenants
/// created in it) when the test ends, passed or not.
struct ServerDb {
    kind: Kind,
    server: String,
    name: String,
    url: String,
    tenants: Vec<String>,
}

impl ServerDb {
    /// `None` (said loudly) when the server is unreachable and not required.
    async fn new(kind: Kind) -> Option<Self> {
        let base = kind.url();
        let (server, _) = base.rsplit_once('/').expect("url with a database");
        let name = unique("cli");
        let url = format!("{server}/{name}");
        match connect_server(kind, &url).await {
            Ok(db) => db.close().await.expect("close"),
            Err(err) if kind.required() => panic!("{kind:?} ({base}) is unreachable: {err}"),
            Err(err) => {
                eprintln!("\n*** NOT RUN: {kind:?} unreachable ({base}): {err}\n");
                return None;
            }
        }
        Some(ServerDb {
            kind,
            server: server.to_owned(),
            name,
            url,
            tenants: Vec::new(),
        })
    }

    /// A unique tenant name, dropped with the database.
    fn tenant(&mut self) -> String {
        let name = unique("c");
        self.tenants.push(name.clone());
        name
    }

    async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url).await.expect("connect")
    }

    async fn cleanup(&self) {
        if let Ok(db) = Database::connect(&self.url).await {
            if let Ok(tenancy) = Tenancy::builder(db.clone()).build().await {
                for name in &self.tenants {
                    let _dropped = tenancy.drop(name, Irreversibly).await;
                    if let (Kind::MySql, Ok(home)) = (self.kind, tenancy.home_of(name)) {
                        let sql = format!("DROP DATABASE IF EXISTS `{home}`");
                        let _dropped = db.execute_unprepared(&sql).await;
                    }
                }
            }
            let _closed = db.close().await;
        }
        let (admin, sql) = match self.kind {
            Kind::Postgres => (
                format!("{}/postgres", self.server),
                format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
            ),
            _ => (
                self.server.clone(),
                format!("DROP DATABASE IF EXISTS `{}`", self.name),
            ),
        };
        if let Ok(admin) = Database::connect(&admin).await {
            if let Err(err) = admin.execute_unprepared(&sql).await {
                eprintln!("cleanup of {} failed: {err}", self.name);
            }
            let _closed = admin.close().await;
        }
    }
}

impl Drop for ServerDb {
    fn drop(&mut self) {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            tokio::task::block_in_place(|| handle.block_on(self.cleanup()));
        }
    }
}

/// The server's `max_connections`, read by the test itself.
async fn max_connections(kind: Kind, db: &DatabaseConnection) -> u64 {
    let sql = match kind {
        Kind::Postgres => "SELECT current_setting('max_connections')::bigint",
        _ => "SELECT CAST(@@max_connections AS SIGNED)",
    };
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(kind.backend(), sql))
        .await
        .expect("max_connections")
        .expect("a row");
    let n: i64 = row.try_get_by_index(0).expect("a number");
    u64::try_from(n).expect("positive")
}

async fn concurrency_is_capped_by_the_server(kind: Kind) {
    let Some(mut server) = ServerDb::new(kind).await else {
        return;
    };
    let tenants = [server.tenant(), server.tenant(), server.tenant()];
    let cli = Cli::on(&server.url);
    cli.ok(&["up"]);
    for name in &tenants {
        cli.ok(&["tenant", "create", name]);
        cli.ok(&["down", "--tenant", name, "-n", "2"]);
    }
    let out = cli.run(&["up", "--all", "--concurrency", "100000"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("tenants: 3 ok, 0 failed"), "{stdout}");
    // "concurrency capped at N (asked for 100000): the pool holds P
    // connections and the server accepts F more ..."
    let number_after = |prefix: &str| -> u64 {
        let rest = &stderr[stderr.find(prefix).expect(prefix) + prefix.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().expect("a number")
    };
    let cap = number_after("concurrency capped at ");
    let pool = number_after("the pool holds ");
    let free = number_after("the server accepts ");
    let max = max_connections(kind, &server.connect().await).await;
    assert!((1..=pool).contains(&cap), "{stderr}");
    assert!(free > 0 && free < max, "{stderr} (max_connections {max})");
    for name in &tenants {
        assert_eq!(cli.counts(name), (0, 4));
    }
}

async fn read_only_verbs_write_nothing(kind: Kind) {
    let Some(server) = ServerDb::new(kind).await else {
        return;
    };
    let cli = Cli::on(&server.url);
    for args in [
        &["status"][..],
        &["status", "--all", "--json"],
        &["tenant", "list", "--json"],
    ] {
        let out = cli.run(args);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            one_line_error(&stderr).contains("no tenancy registry in this database"),
            "{stderr}"
        );
    }
    let db = server.connect().await;
    let manager = SchemaManager::new(&db);
    for table in ["tenancy_tenants", "tenancy_domains"] {
        assert!(!manager.has_table(table).await.expect("catalog"), "{table}");
    }
    db.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_capped_by_the_server_postgres() {
    concurrency_is_capped_by_the_server(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_capped_by_the_server_mysql() {
    concurrency_is_capped_by_the_server(Kind::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_verbs_write_nothing_postgres() {
    read_only_verbs_write_nothing(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_verbs_write_nothing_mysql() {
    read_only_verbs_write_nothing(Kind::MySql).await;
}

/// Two processes on one tenancy: this test's (the app) and the CLI binary.
/// A tenant the CLI drops is not found by the app (never served from the
/// app's pool or caches on the dropped home); created again by the CLI, the
/// app sees the new, empty home and its writes land there, as a third
/// process reads.
async fn recreated_by_another_process(kind: Kind) {
    let mut server = match kind {
        Kind::Sqlite => None,
        _ => match ServerDb::new(kind).await {
            Some(server) => Some(server),
            None => return,
        },
    };
    let (cli, name) = match &mut server {
        None => (Cli::new(), "acme".to_owned()),
        Some(server) => (Cli::on(&server.url), server.tenant()),
    };
    cli.ok(&["up"]);
    cli.ok(&["tenant", "create", &name]);
    let process = async || {
        let db = Database::connect(&cli.url).await.expect("connect");
        Tenancy::builder(db)
            .table("authors", tenancy::Scope::Tenant)
            .build()
            .await
            .expect("tenancy")
    };
    let app = process().await;
    let kept = app.tenant(&name).expect("valid");
    let query = |conn: tenancy::TenantConnection, sql: &'static str| async move {
        conn.query_one_raw(sea_orm::Statement::from_string(kind.backend(), sql))
            .await
            .map(|row| row.expect("a row"))
    };
    let count = |conn| async move {
        query(conn, "SELECT count(*) FROM authors")
            .await
            .map(|row| row.try_get_by_index::<i64>(0).expect("a count"))
    };
    kept.execute_unprepared("INSERT INTO authors (email, name) VALUES ('old@x', 'Old')")
        .await
        .expect("insert");
    assert_eq!(count(kept.clone()).await.expect("count"), 1);

    cli.ok(&["tenant", "drop", &name, "--force"]);
    for conn in [kept.clone(), app.tenant(&name).expect("valid")] {
        let err = count(conn).await.expect_err("the tenant is gone");
        assert_eq!(
            tenancy::Error::code_of(&err),
            Some(tenancy::ErrorCode::TenantNotFound),
            "{err}"
        );
    }
    let write = kept
        .execute_unprepared("INSERT INTO authors (email, name) VALUES ('lost@x', 'Lost')")
        .await
        .expect_err("no write lands in a dropped home");
    assert_eq!(
        tenancy::Error::code_of(&write),
        Some(tenancy::ErrorCode::TenantNotFound),
        "{write}"
    );

    cli.ok(&["tenant", "create", &name]);
    for conn in [kept.clone(), app.tenant(&name).expect("valid")] {
        assert_eq!(count(conn).await.expect("count"), 0, "no previous rows");
    }
    kept.execute_unprepared("INSERT INTO authors (email, name) VALUES ('new@x', 'New')")
        .await
        .expect("insert");
    // Read back by a third process (its own pool, SQLite: on the new file).
    let third = process().await;
    let row = query(
        third.tenant(&name).expect("valid"),
        "SELECT name FROM authors",
    )
    .await
    .expect("read");
    assert_eq!(row.try_get_by_index::<String>(0).expect("name"), "New");
    assert_eq!(
        count(third.tenant(&name).expect("valid"))
            .await
            .expect("count"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_dropped_and_recreated_by_another_process_is_never_served_stale() {
    recreated_by_another_process(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_dropped_and_recreated_by_another_process_is_never_served_stale_postgres() {
    recreated_by_another_process(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_dropped_and_recreated_by_another_process_is_never_served_stale_mysql() {
    recreated_by_another_process(Kind::MySql).await;
}

/// The operations CLI on a Citus coordinator: a tenant created through it
/// is placed on a worker, moved, linted and dropped; a worker is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_unchanged_on_a_citus_coordinator() {
    let url = Kind::Citus.url();
    if let Err(err) = connect_server(Kind::Citus, &url).await {
        assert!(!Kind::Citus.required(), "citus is required: {err}");
        eprintln!("*** NOT RUN: the Citus coordinator is unreachable: {err}");
        return;
    }
    let cli = Cli::on(&url);
    let name = unique("cli_citus");
    cli.ok(&["up"]);
    assert!(cli.ok(&["tenant", "create", &name]).contains("created"));
    let placed = cli.json(&["tenant", "placement", &name, "--json"]);
    let port = placed["node"]["port"].as_u64().expect("placed on a node");
    assert!([5434, 5435].contains(&port), "{placed}");
    let other = if port == 5434 { 5435 } else { 5434 };
    let to = format!("127.0.0.1:{other}");
    cli.ok(&["tenant", "move", &name, "--to", &to]);
    let placed = cli.json(&["tenant", "placement", &name, "--json"]);
    assert_eq!(placed["node"]["port"].as_u64(), Some(other), "{placed}");
    let all = cli.json(&["tenant", "placement", "--json"]);
    assert!(
        all.as_array()
            .is_some_and(|a| a.iter().any(|p| p["name"] == name.as_str())),
        "{all}"
    );
    // Bad input: one clear line, nothing run.
    let err = cli.fails(&["tenant", "move", &name, "--to", "127.0.0.1;DROP"]);
    assert!(err.contains("port") || err.contains("host"), "{err}");
    one_line_error(&cli.fails(&["tenant", "move", "No Such", "--to", &to]));
    // The lint's JSON parses; findings make the exit code 1.
    let lint = cli.run(&["tenant", "lint", "--json"]);
    let findings: serde_json::Value =
        serde_json::from_slice(&lint.stdout).expect("lint prints JSON");
    let found = findings.as_array().map_or(0, Vec::len);
    assert_eq!(lint.status.success(), found == 0, "{findings}");
    let plan = cli.json(&["tenant", "rebalance", "--dry-run", "--json"]);
    assert!(plan.is_array(), "{plan}");
    assert_eq!(cli.counts(&name).0, 0, "migrated through the coordinator");
    cli.ok(&["tenant", "drop", &name, "--force"]);
    // Pointed at a worker, the CLI refuses before writing anything.
    let worker = Cli::on(&url.replace(":5433/", &format!(":{other}/")));
    let err = worker.fails(&["tenant", "create", &unique("on_worker")]);
    assert!(err.contains("coordinator"), "{err}");
    let db = Database::connect(url.replace(":5433/", &format!(":{other}/")))
        .await
        .expect("worker");
    let registry = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT to_regclass('public.tenancy_tenants') IS NULL",
        ))
        .await
        .expect("query")
        .expect("row");
    assert!(
        registry.try_get_by_index::<bool>(0).expect("bool"),
        "no registry made on the worker"
    );
}
