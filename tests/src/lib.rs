//! Support for the integration tests: connections to the local services,
//! fixtures with uniquely named tenants that clean up after themselves, the
//! test entities, the leak matrix and the rewriter oracle.
//!
//! | variable | default |
//! |---|---|
//! | `TENANCY_PG_URL` | `postgres://postgres@127.0.0.1:5432/tenancy_test` |
//! | `TENANCY_MYSQL_URL` | `mysql://root@127.0.0.1:3306/tenancy_test` |
//! | `TENANCY_CITUS_URL` | `postgres://postgres@127.0.0.1:5433/tenancy_test` with `citus.enable_schema_based_sharding` off |
//! | `TENANCY_REQUIRE` | unset; `postgres,mysql,citus` makes an unreachable server fail the run |
//!
//! The databases named in the URLs are created when missing, except on
//! Citus, where a database needs the extension on every node: make it with
//! `../shared/citus/cluster.sh mkdb tenancy_test`.

pub mod behaviour;
pub mod citus;
pub mod corpus;
pub mod entities;
pub mod isolated;
pub mod matrix;
pub mod migrations;
pub mod oracle;
pub mod pgbouncer;
pub mod soak;
pub mod strict;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, Schema, Statement, TransactionTrait,
};
use tenancy::{Irreversibly, Tenancy, TenantConnection};

pub use crate::entities::{comment, plan, post, tag};

/// A backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// PostgreSQL: schema per tenant.
    Postgres,
    /// MySQL/MariaDB: database per tenant.
    MySql,
    /// SQLite: file per tenant.
    Sqlite,
    /// A Citus coordinator: PostgreSQL whose tenant schemas are spread over
    /// workers.
    Citus,
}

impl Kind {
    /// The dialect the backend speaks: Citus is PostgreSQL.
    pub fn flavour(self) -> Kind {
        if self == Kind::Citus {
            Kind::Postgres
        } else {
            self
        }
    }

    fn env(self) -> &'static str {
        match self {
            Kind::Postgres => "TENANCY_PG_URL",
            Kind::MySql => "TENANCY_MYSQL_URL",
            Kind::Sqlite => "",
            Kind::Citus => "TENANCY_CITUS_URL",
        }
    }

    fn default_url(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres://postgres@127.0.0.1:5432/tenancy_test",
            Kind::MySql => "mysql://root@127.0.0.1:3306/tenancy_test",
            Kind::Sqlite => "",
            // Each test's tenants are distributed by the library, not by
            // the cluster's setting.
            Kind::Citus => {
                "postgres://postgres@127.0.0.1:5433/tenancy_test\
                 ?options=-c%20citus.enable_schema_based_sharding%3Doff"
            }
        }
    }

    fn require_key(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres",
            Kind::MySql => "mysql",
            Kind::Sqlite => "sqlite",
            Kind::Citus => "citus",
        }
    }

    /// The server URL from the environment, or the local default.
    pub fn url(self) -> String {
        std::env::var(self.env()).unwrap_or_else(|_| self.default_url().to_owned())
    }

    /// Whether `TENANCY_REQUIRE` lists this backend.
    pub fn required(self) -> bool {
        std::env::var("TENANCY_REQUIRE")
            .map(|v| v.split(',').any(|k| k.trim() == self.require_key()))
            .unwrap_or(false)
    }

    /// A positional placeholder.
    pub fn param(self, n: usize) -> String {
        match self {
            Kind::Postgres | Kind::Citus => format!("${n}"),
            _ => "?".to_owned(),
        }
    }

    /// The SeaORM backend.
    pub fn backend(self) -> DbBackend {
        match self {
            Kind::Postgres | Kind::Citus => DbBackend::Postgres,
            Kind::MySql => DbBackend::MySql,
            Kind::Sqlite => DbBackend::Sqlite,
        }
    }
}

/// A name no other test, process or earlier run uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{:x}_{n}_{:x}",
        std::process::id(),
        nanos % 0xfffff
    )
}

/// Connects to `url`, creating its database when missing.
///
/// # Errors
/// The connection error, as text.
pub async fn connect_server(kind: Kind, url: &str) -> Result<DatabaseConnection, String> {
    if kind == Kind::Citus {
        // Not created here: it needs the extension on every node.
        return Database::connect(url).await.map_err(|e| {
            format!("{e} (make the database with ../shared/citus/cluster.sh mkdb NAME)")
        });
    }
    let (server, db_name) = url
        .rsplit_once('/')
        .ok_or_else(|| format!("no database in {url}"))?;
    let db_name = db_name.split('?').next().unwrap_or(db_name);
    let admin_url = match kind {
        Kind::Postgres => format!("{server}/postgres"),
        _ => server.to_owned(),
    };
    let admin = Database::connect(&admin_url)
        .await
        .map_err(|e| e.to_string())?;
    let exists = match kind {
        Kind::Postgres => admin
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT 1 FROM pg_database WHERE datname = $1",
                [db_name.into()],
            ))
            .await
            .map_err(|e| e.to_string())?
            .is_some(),
        _ => false,
    };
    if !exists {
        let sql = match kind {
            Kind::Postgres => format!("CREATE DATABASE \"{db_name}\""),
            _ => format!("CREATE DATABASE IF NOT EXISTS `{db_name}`"),
        };
        // A concurrent creator may win: the connect below is what counts.
        let _created = admin.execute_unprepared(&sql).await;
    }
    admin.close().await.map_err(|e| e.to_string())?;
    Database::connect(url).await.map_err(|e| e.to_string())
}

/// A statement seen by the observer: tenant, original SQL, routed SQL.
pub type Captured = (Option<String>, String, String);

/// A tenancy on one backend, with cleanup of every tenant it made.
pub struct Fixture {
    /// The backend.
    pub kind: Kind,
    /// The tenancy under test.
    pub tenancy: Tenancy,
    /// Every statement routed so far.
    pub statements: Arc<Mutex<Vec<Captured>>>,
    /// The shared plan every seeded post points at.
    pub plan_id: i32,
    tenants: Mutex<Vec<String>>,
    _dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture").field("kind", &self.kind).finish()
    }
}

/// Creates the shared tables (and, on PostgreSQL, the shared enum type) once.
///
/// # Errors
/// A database error.
pub async fn install_shared(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let txn = db.begin().await?;
    let plans = sea_orm::EntityName::table_name(&plan::Entity).to_owned();
    if backend == DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(4242)")
            .await?;
        let exists = txn
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 WHERE t.typname = 'post_status' AND n.nspname = 'public'",
            ))
            .await?
            .is_some();
        if !exists {
            txn.execute_unprepared("CREATE TYPE public.post_status AS ENUM ('draft', 'published')")
                .await?;
        }
    }
    let create = Schema::new(backend)
        .create_table_from_entity(plan::Entity)
        .if_not_exists()
        .to_owned();
    txn.execute(&create).await?;
    // On Citus, tenant tables join it on their worker; elsewhere a no-op.
    tenancy::citus::reference_table(&txn, &plans)
        .await
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    txn.commit().await
}

impl Fixture {
    /// A fixture on `kind`, or `None` (reported loudly) when the server is
    /// unreachable and not required.
    ///
    /// # Panics
    /// When the server is unreachable and `TENANCY_REQUIRE` lists it.
    pub async fn new(kind: Kind) -> Option<Fixture> {
        let (db, dir) = match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("shared.db").display()
                );
                let db = Database::connect(&url).await.expect("sqlite opens");
                (db, Some(dir))
            }
            _ => {
                let url = kind.url();
                match connect_server(kind, &url).await {
                    Ok(db) => (db, None),
                    Err(err) if kind.required() => panic!(
                        "{} ({url}) is unreachable and TENANCY_REQUIRE lists {}: {err}",
                        kind.env(),
                        kind.require_key()
                    ),
                    Err(err) => {
                        eprintln!(
                            "\n*** NOT RUN: {kind:?} tests skipped, {} ({url}) unreachable: {err}\n\
                             *** set TENANCY_REQUIRE={} to make this a failure\n",
                            kind.env(),
                            kind.require_key()
                        );
                        return None;
                    }
                }
            }
        };
        install_shared(&db).await.expect("shared tables install");
        let plan = sea_orm::ActiveModelTrait::insert(
            plan::ActiveModel {
                name: sea_orm::Set(unique("plan")),
                ..Default::default()
            },
            &db,
        )
        .await
        .expect("plan inserted");
        let statements: Arc<Mutex<Vec<Captured>>> = Arc::default();
        let sink = statements.clone();
        let mut builder = Tenancy::builder(db);
        // The tables of the example migrator in `migration/`.
        for table in [
            "authors",
            "categories",
            "articles",
            "article_comments",
            "labels",
            "article_labels",
            "attachments",
            "reactions",
        ] {
            builder = builder.table(table, tenancy::Scope::Tenant);
        }
        let tenancy = builder
            .table("billing_plans", tenancy::Scope::Shared)
            .on_statement(move |event| {
                let mut sink = sink.lock().unwrap_or_else(|p| p.into_inner());
                sink.push((
                    event.tenant.map(ToString::to_string),
                    event.original.to_owned(),
                    event.routed.to_owned(),
                ));
            })
            .build()
            .await
            .expect("tenancy builds");
        Some(Fixture {
            kind,
            tenancy,
            statements,
            plan_id: plan.id,
            tenants: Mutex::default(),
            _dir: dir,
        })
    }

    /// A fresh unique tenant name, dropped with the fixture.
    pub fn name(&self) -> String {
        let name = unique("t");
        self.tenants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(name.clone());
        name
    }

    /// A new tenant with the test tables, created through its own
    /// (routed) connection.
    pub async fn tenant(&self) -> TenantConnection {
        let name = self.name();
        self.tenancy.create(&name).await.expect("tenant created");
        let conn = self.tenancy.tenant(&name).expect("valid name");
        let schema = Schema::new(self.kind.backend());
        conn.execute(&schema.create_table_from_entity(post::Entity))
            .await
            .expect("posts created");
        conn.execute(&schema.create_table_from_entity(comment::Entity))
            .await
            .expect("comments created");
        conn.execute(&schema.create_table_from_entity(tag::Entity))
            .await
            .expect("tags created");
        conn
    }

    /// A new tenant holding posts titled `{prefix}-1..=n`, each with two
    /// comments `{title}-c1`, `{title}-c2`, and tags `{prefix}-tag-1..=n`.
    pub async fn seeded(&self, prefix: &str, n: usize) -> TenantConnection {
        let conn = self.tenant().await;
        matrix::seed(&conn, self.plan_id, prefix, n).await;
        conn
    }

    /// The temporary directory of a SQLite fixture.
    pub fn dir(&self) -> Option<&std::path::Path> {
        self._dir.as_ref().map(tempfile::TempDir::path)
    }

    /// Routed statements captured so far.
    pub fn captured(&self) -> Vec<Captured> {
        self.statements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn cleanup(&self) {
        let names = std::mem::take(&mut *self.tenants.lock().unwrap_or_else(|p| p.into_inner()));
        for name in names {
            let _ = self.tenancy.drop(&name, Irreversibly).await;
            // Drop homes a failed or partial test left without a registry row.
            if let Ok(home) = self.tenancy.home_of(&name) {
                let sql = match self.kind {
                    Kind::Postgres | Kind::Citus => {
                        format!("DROP SCHEMA IF EXISTS \"{home}\" CASCADE")
                    }
                    Kind::MySql => format!("DROP DATABASE IF EXISTS `{home}`"),
                    Kind::Sqlite => continue,
                };
                let _ = self.tenancy.inner().execute_unprepared(&sql).await;
            }
        }
        let _ = <plan::Entity as sea_orm::EntityTrait>::delete_by_id(self.plan_id)
            .exec(self.tenancy.inner())
            .await;
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // Tests run on the multi-threaded runtime, where this may block.
        if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            tokio::task::block_in_place(|| handle.block_on(self.cleanup()));
        }
    }
}

/// Fails unless `listed` (the names a per-backend macro expands) and
/// `defined` (the names the support library defines) are the same set, so
/// that a test added to one list and forgotten in the other cannot run on no
/// backend.
///
/// # Panics
/// When the two differ, naming the difference.
pub fn assert_listed(listed: &[&str], mut defined: Vec<&str>) {
    let mut listed = listed.to_vec();
    listed.sort_unstable();
    defined.sort_unstable();
    let missing: Vec<&&str> = defined.iter().filter(|d| !listed.contains(d)).collect();
    let unknown: Vec<&&str> = listed.iter().filter(|l| !defined.contains(l)).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "defined but not run per backend: {missing:?}; run but not defined: {unknown:?}"
    );
}
