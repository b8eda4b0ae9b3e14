//! Migrating many tenants with the example migrator, on PostgreSQL, MySQL
//! and SQLite: create, migrate at several concurrencies (and the one the
//! runner chooses), the no-op rerun; then `create_and_migrate` against the
//! same DDL as one raw script (the floor).

use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use migration::{SharedMigrator, TenantMigrator};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use tenancy::{MigrateOptions, Tenancy, TenantId, Verb};
use tenancy_tests::Kind;

use crate::{
    MYSQL_URL, PG_URL,
    measure::{Result, table},
    setup::{PoolSpec, drop_prefixed, prepare},
};

/// A concurrency of the runner: a number, or `auto` (chosen by the run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Auto,
    Fixed(usize),
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Level::Auto),
            n => n
                .parse()
                .map(Level::Fixed)
                .map_err(|_| format!("{n}: a number or auto")),
        }
    }
}

impl Level {
    fn options(self) -> MigrateOptions {
        match self {
            Level::Auto => MigrateOptions::default(),
            Level::Fixed(n) => MigrateOptions::default().concurrency(n),
        }
    }
}

/// `tenancy-bench migrate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Tenants to create and migrate per concurrency.
    #[arg(long, default_value_t = 1000)]
    tenants: usize,
    /// Concurrencies of the migration runner (`auto`: chosen by the run).
    #[arg(long, value_delimiter = ',', default_values = ["1", "2", "4", "8", "auto"])]
    concurrency: Vec<Level>,
    /// Tenants made by `create_and_migrate`, and by the raw script.
    #[arg(long, default_value_t = 50)]
    samples: usize,
    /// Connections in the pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
    /// Backends: postgres, mysql, sqlite.
    #[arg(long, value_delimiter = ',', default_values = ["postgres", "mysql", "sqlite"])]
    backends: Vec<String>,
    /// PostgreSQL database (created when missing).
    #[arg(long, env = "TENANCY_BENCH_PG_URL", default_value = PG_URL)]
    pg_url: String,
    /// MySQL/MariaDB database (created when missing).
    #[arg(long, env = "TENANCY_BENCH_MYSQL_URL", default_value = MYSQL_URL)]
    mysql_url: String,
}

/// One backend under test.
struct Bench {
    kind: Kind,
    db: DatabaseConnection,
    tenancy: Tenancy,
    /// The server URL (PostgreSQL, MySQL) or the shared file's folder.
    url: String,
    _dir: Option<tempfile::TempDir>,
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

impl Bench {
    async fn open(kind: Kind, args: &Args) -> Result<Bench> {
        let (url, dir) = match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir()?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("shared.db").display()
                );
                (url, Some(dir))
            }
            Kind::MySql => (args.mysql_url.clone(), None),
            _ => (args.pg_url.clone(), None),
        };
        if kind != Kind::Sqlite {
            prepare(kind, &url).await?;
        }
        let db = PoolSpec::new(&url, args.pool).open().await?;
        SharedMigrator::up(&db, None).await?;
        let tenancy = Tenancy::builder(db.clone()).build().await?;
        let bench = Bench {
            kind,
            db,
            tenancy,
            url,
            _dir: dir,
        };
        bench.clean().await?;
        Ok(bench)
    }

    /// Drops every tenant and floor home this bench makes.
    async fn clean(&self) -> Result<()> {
        // The floor's registry rows have no home.
        self.db
            .execute_unprepared("DELETE FROM tenancy_tenants WHERE name LIKE 'mbf%'")
            .await?;
        drop_prefixed(&self.tenancy, "mb", 4).await?;
        let floors = match self.kind {
            Kind::MySql => {
                "SELECT schema_name FROM information_schema.schemata \
                            WHERE schema_name LIKE 'floor\\_%'"
            }
            Kind::Sqlite => return Ok(()),
            _ => "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'floor\\_%'",
        };
        for row in self
            .db
            .query_all_raw(Statement::from_string(
                self.db.get_database_backend(),
                floors,
            ))
            .await?
        {
            let home: String = row.try_get_by_index(0)?;
            let sql = match self.kind {
                Kind::MySql => format!("DROP DATABASE `{home}`"),
                _ => format!("DROP SCHEMA \"{home}\" CASCADE"),
            };
            self.db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    /// The DDL of migrated tenant `name`, as statements (PostgreSQL: one
    /// script for a home called `__FLOOR__`: `pg_dump`; MySQL: `SHOW CREATE TABLE`; SQLite:
    /// `sqlite_master`).
    async fn ddl(&self, name: &str) -> Result<Vec<String>> {
        let home = self.tenancy.home_of(name)?;
        match self.kind {
            Kind::Sqlite => {
                let pool = self.tenancy.tenant(name)?.unrouted_pool().await?;
                let rows = pool
                    .query_all_raw(Statement::from_string(
                        DbBackend::Sqlite,
                        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL \
                         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
                    ))
                    .await?;
                rows.iter()
                    .map(|r| Ok(r.try_get_by_index::<String>(0)?))
                    .collect()
            }
            Kind::MySql => {
                let tables = self
                    .db
                    .query_all_raw(Statement::from_sql_and_values(
                        DbBackend::MySql,
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                        [home.clone().into()],
                    ))
                    .await?;
                let mut ddl = vec!["SET FOREIGN_KEY_CHECKS = 0".to_owned()];
                for t in tables {
                    let table: String = t.try_get_by_index(0)?;
                    let row = self
                        .db
                        .query_one_raw(Statement::from_string(
                            DbBackend::MySql,
                            format!("SHOW CREATE TABLE `{home}`.`{table}`"),
                        ))
                        .await?
                        .ok_or("no table")?;
                    ddl.push(row.try_get_by_index::<String>(1)?);
                }
                Ok(ddl)
            }
            _ => {
                let dump = std::process::Command::new("pg_dump")
                    .args(["--schema-only", "--no-owner", "--no-privileges"])
                    .arg(format!("--schema={home}"))
                    .arg(&self.url)
                    .output()?;
                if !dump.status.success() {
                    return Err(String::from_utf8_lossy(&dump.stderr).into_owned().into());
                }
                let script: String = String::from_utf8_lossy(&dump.stdout)
                    .lines()
                    .filter(|l| {
                        !(l.starts_with('\\')
                            || l.starts_with("SET ")
                            || l.starts_with("SELECT pg_catalog")
                            || l.starts_with("--"))
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                // pg_dump ends each statement with `;` at the end of a line.
                Ok(script
                    .replace(&home, "__FLOOR__")
                    .split_inclusive(";\n")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect())
            }
        }
    }

    /// The floor: `ddl` for a new home and the registry row, a statement
    /// at a time (PostgreSQL: in one transaction, as `psql -1 -f` sends a
    /// script; SQLite: one transaction on the new file; MySQL, whose DDL
    /// commits each statement: on one connection), or on PostgreSQL with
    /// `one_message`, the whole script in one message.
    async fn floor(&self, i: usize, ddl: &[String], one_message: bool) -> Result<Duration> {
        let home = format!("floor_{i}");
        let registry = format!(
            "INSERT INTO tenancy_tenants (name, status, created_at, metadata) \
             VALUES ('mbf_{i}', 'active', {}, '{{}}')",
            if self.kind == Kind::Sqlite {
                "CURRENT_TIMESTAMP"
            } else {
                "now()"
            }
        );
        let started = Instant::now();
        match self.kind {
            Kind::Sqlite => {
                let dir = self._dir.as_ref().ok_or("no folder")?.path();
                let file = PoolSpec::new(
                    &format!(
                        "sqlite://{}?mode=rwc",
                        dir.join(format!("{home}.db")).display()
                    ),
                    1,
                )
                .open()
                .await?;
                let txn = file.begin().await?;
                for s in ddl {
                    txn.execute_unprepared(s).await?;
                }
                txn.commit().await?;
                file.close().await?;
                self.db.execute_unprepared(&registry).await?;
            }
            Kind::MySql => {
                self.db.execute_unprepared(&registry).await?;
                // One connection of its own, as the runner's dedicated one.
                let conn = PoolSpec::new(&self.url, 1).open().await?;
                conn.execute_unprepared(&format!("CREATE DATABASE `{home}`"))
                    .await?;
                conn.execute_unprepared(&format!("USE `{home}`")).await?;
                for s in ddl {
                    conn.execute_unprepared(s).await?;
                }
                conn.close().await?;
            }
            _ => {
                let txn = self.db.begin().await?;
                if one_message {
                    txn.execute_unprepared(&ddl.join("\n").replace("__FLOOR__", &home))
                        .await?;
                } else {
                    for s in ddl {
                        txn.execute_unprepared(&s.replace("__FLOOR__", &home))
                            .await?;
                    }
                }
                txn.execute_unprepared(&registry).await?;
                txn.commit().await?;
            }
        }
        Ok(started.elapsed())
    }
}

pub(crate) async fn run(args: Args) -> Result<()> {
    for backend in &args.backends {
        let kind = match backend.as_str() {
            "postgres" => Kind::Postgres,
            "mysql" => Kind::MySql,
            "sqlite" => Kind::Sqlite,
            other => return Err(format!("{other}: postgres, mysql or sqlite").into()),
        };
        let bench = Bench::open(kind, &args).await?;
        run_one(&bench, &args).await?;
        bench.clean().await?;
        bench.db.close().await?;
    }
    Ok(())
}

async fn run_one(bench: &Bench, args: &Args) -> Result<()> {
    let (tenancy, kind) = (&bench.tenancy, bench.kind);
    let m = tenancy.migrations::<TenantMigrator>();
    let n = args.tenants;

    let mut rows = Vec::new();
    for (round, &level) in args.concurrency.iter().enumerate() {
        let ids: Vec<TenantId> = (0..n)
            .map(|i| TenantId::new(&format!("mb{round}_{i}")))
            .collect::<tenancy::Result<_>>()?;
        let started = Instant::now();
        for id in &ids {
            tenancy.create(id.as_str()).await?;
        }
        let created = started.elapsed();
        let started = Instant::now();
        let report = m
            .run_many(ids.clone(), Verb::Up(None), level.options())
            .await;
        let migrated = started.elapsed();
        if let Some(failed) = report.failed().next() {
            return Err(format!("migration failed: {failed:?}").into());
        }
        let started = Instant::now();
        let noop = m
            .run_many(ids.clone(), Verb::Up(None), level.options())
            .await;
        let nothing = started.elapsed();
        if let Some(failed) = noop.failed().next() {
            return Err(format!("no-op rerun failed: {failed:?}").into());
        }
        let label = match level {
            Level::Auto => format!("auto (chose {})", report.concurrency),
            Level::Fixed(c) => c.to_string(),
        };
        eprintln!("{kind:?}, concurrency {label}: {}", secs(migrated));
        rows.push(vec![
            label,
            secs(created),
            secs(migrated),
            ms(migrated / n as u32),
            secs(nothing),
        ]);
        bench.clean().await?;
    }
    println!("\n{kind:?}: migrate {n} tenants, example tenant migrator (8 tables, 4 migrations)\n");
    table(
        &[
            "concurrency",
            &format!("create {n} tenants"),
            &format!("migrate {n} tenants"),
            "per tenant",
            "no-op rerun",
        ],
        &rows,
    );

    // create_and_migrate latency and the floors, interleaved.
    let samples = args.samples.max(2);
    m.create_and_migrate("mbc_ddl").await?;
    let ddl = bench.ddl("mbc_ddl").await?;
    let one_message = kind == Kind::Postgres;
    let (mut times, mut each, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..samples {
        let started = Instant::now();
        m.create_and_migrate(&format!("mbc_{i}")).await?;
        times.push(started.elapsed());
        each.push(bench.floor(2 * i, &ddl, false).await?);
        if one_message {
            whole.push(bench.floor(2 * i + 1, &ddl, true).await?);
        }
    }
    let pick = |v: &mut Vec<Duration>, q: f64| {
        v.sort();
        v[((v.len() - 1) as f64 * q).round() as usize]
    };
    let ratio = |a: Duration, b: Duration| format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64());
    let mut rows = vec![vec![
        "`create_and_migrate`".to_owned(),
        ms(pick(&mut times, 0.5)),
        ms(pick(&mut times, 0.95)),
        String::new(),
        String::new(),
    ]];
    let floors = [
        ("raw DDL, a statement at a time, one transaction", &mut each),
        ("raw DDL, one message, one transaction", &mut whole),
    ];
    for (label, floor) in floors {
        if floor.is_empty() {
            continue;
        }
        let (f50, f95) = (pick(floor, 0.5), pick(floor, 0.95));
        rows.push(vec![
            label.to_owned(),
            ms(f50),
            ms(f95),
            ratio(pick(&mut times, 0.5), f50),
            ratio(pick(&mut times, 0.95), f95),
        ]);
    }
    println!("\n{kind:?}: create_and_migrate vs the raw DDL floors, {samples} tenants each:\n");
    table(
        &["", "p50", "p95", "create_and_migrate / floor, p50", "p95"],
        &rows,
    );
    Ok(())
}
