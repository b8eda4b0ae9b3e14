//! `TenancyBuilder::build` warns about registered tables that are not where
//! they belong, on a real SQLite tenancy.

use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, Database};
use tenancy::{Scope, Tenancy};

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Creates `misplaced` (a tenant table) and `present` (a shared one) in the
/// shared home of `db`, then builds with `ghost` registered shared but
/// missing.
async fn build(db: sea_orm::DatabaseConnection, names: &Names) {
    for table in [&names.misplaced, &names.present] {
        db.execute_unprepared(&format!("CREATE TABLE {table} (id integer)"))
            .await
            .expect("a table in the shared home");
    }
    Tenancy::builder(db.clone())
        .table(names.ghost.clone(), Scope::Shared)
        .table(names.present.clone(), Scope::Shared)
        .table(names.misplaced.clone(), Scope::Tenant)
        .build()
        .await
        .expect("builds: the checks only warn");
    for table in [&names.misplaced, &names.present] {
        db.execute_unprepared(&format!("DROP TABLE {table}"))
            .await
            .expect("cleanup");
    }
}

/// Unique table names, so runs and backends never collide.
struct Names {
    ghost: String,
    present: String,
    misplaced: String,
}

impl Names {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tag = format!("{}_{nanos}", std::process::id());
        Names {
            ghost: format!("ghost_{tag}"),
            present: format!("present_{tag}"),
            misplaced: format!("misplaced_{tag}"),
        }
    }
}

/// Runs `connect_and_build` under a subscriber that keeps every line, and
/// checks the two warnings (and no word about the table in place).
fn warns(connect: impl AsyncFnOnce() -> Option<sea_orm::DatabaseConnection>) {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let names = Names::new();
    let ran = tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async {
                let Some(db) = connect().await else {
                    return false;
                };
                build(db, &names).await;
                true
            })
    });
    if !ran {
        return;
    }
    let text = String::from_utf8(lines.0.lock().expect("lock").clone()).expect("utf-8");
    let (ghost, misplaced, present) = (&names.ghost, &names.misplaced, &names.present);
    assert!(
        text.contains(&format!(
            "shared table {ghost} is registered but missing from the shared home"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "tenant table {misplaced} also exists in the shared home"
        )),
        "{text}"
    );
    assert!(!text.contains(&format!("table {present}")), "{text}");
}

/// A database of its own on the server of `var` (default `default`), or
/// `None` (said loudly) when the server is unreachable and
/// `TENANCY_REQUIRE` does not list `key`.
async fn server(var: &str, default: &str, key: &str) -> Option<sea_orm::DatabaseConnection> {
    let url = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let (server, _) = url.rsplit_once('/').expect("a database in the URL");
    let required =
        std::env::var("TENANCY_REQUIRE").is_ok_and(|r| r.split(',').any(|k| k.trim() == key));
    let admin_url = if key == "postgres" {
        format!("{server}/postgres")
    } else {
        format!("{server}/")
    };
    let admin = match Database::connect(&admin_url).await {
        Ok(admin) => admin,
        Err(err) if required => {
            panic!("{var} ({url}) is unreachable and TENANCY_REQUIRE lists {key}: {err}")
        }
        Err(err) => {
            eprintln!("\n*** NOT RUN: {key} unreachable ({url}): {err}\n");
            return None;
        }
    };
    let name = "tenancy_build_checks";
    let create = if key == "postgres" {
        format!("CREATE DATABASE {name}")
    } else {
        format!("CREATE DATABASE IF NOT EXISTS {name}")
    };
    // Already there (another run made it): fine.
    let _exists = admin.execute_unprepared(&create).await;
    Some(
        Database::connect(format!("{server}/{name}"))
            .await
            .expect("the checks database"),
    )
}

#[test]
fn build_warns_about_tables_out_of_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    warns(async || {
        let url = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
        Some(Database::connect(&url).await.expect("sqlite"))
    });
}

#[test]
fn build_warns_about_tables_out_of_place_postgres() {
    warns(async || {
        server(
            "TENANCY_PG_URL",
            "postgres://postgres@127.0.0.1:5432/tenancy_test",
            "postgres",
        )
        .await
    });
}

#[test]
fn build_warns_about_tables_out_of_place_mysql() {
    warns(async || {
        server(
            "TENANCY_MYSQL_URL",
            "mysql://root@127.0.0.1:3306/tenancy_test",
            "mysql",
        )
        .await
    });
}
