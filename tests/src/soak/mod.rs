//! The isolation soak: many tenants, many concurrent tasks, a mix of every
//! kind of statement (reads, writes, transactions committed and rolled back,
//! streams, pagination, relations, raw SQL), then a scan of every tenant's
//! tables through the plain connection, by qualified name, proving that each
//! row is in its owner's home and that each home holds exactly the rows the
//! tasks committed there.
//!
//! Every row carries its tenant's name: post titles, comment bodies and tag
//! names are `{tenant}:{task}:{seq}` (comments `{title}/c{n}`). Each task
//! only changes the rows it made, so it knows exactly which of them must
//! exist; reads check both the task's own rows and that nothing of another
//! tenant is visible.
//!
//! ```no_run
//! # async fn run(db: sea_orm::DatabaseConnection) {
//! use tenancy_tests::soak::{Soak, SoakConfig};
//! let soak = Soak::build(db).await.expect("tenancy");
//! let report = soak.run(&SoakConfig::default()).await;
//! assert!(report.is_clean(), "{report}");
//! # }
//! ```

use std::{
    collections::BTreeMap,
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, Schema, Set, Statement,
};
use tenancy::{Irreversibly, Tenancy, TenantConnection};

use crate::{Kind, comment, connect_server, install_shared, plan, post, tag, unique};

mod worker;

use worker::{Rng, TenantState, Worker};

/// How big a soak is.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Tenants, each with posts, comments and tags.
    pub tenants: usize,
    /// Concurrent tasks; each picks a random tenant for every operation.
    pub tasks: usize,
    /// Routed statements to reach (counted by the tenancy's observer).
    pub statements: u64,
    /// Seed of the tasks' random choices.
    pub seed: u64,
    /// Every operation inside a transaction (for poolers that cannot carry
    /// a prepared statement from one transaction to the next).
    pub pinned: bool,
}

impl Default for SoakConfig {
    /// The sizes of the reliability issue: 100 tenants, 64 tasks, 200,000
    /// statements.
    fn default() -> Self {
        SoakConfig {
            tenants: 100,
            tasks: 64,
            statements: 200_000,
            seed: 0x5eed,
            pinned: false,
        }
    }
}

impl SoakConfig {
    /// The default sizes, each overridable by `TENANCY_SOAK_TENANTS`,
    /// `TENANCY_SOAK_TASKS`, `TENANCY_SOAK_STATEMENTS` (for a longer run, or a
    /// quick one while developing).
    pub fn from_env() -> Self {
        fn var(name: &str) -> Option<u64> {
            std::env::var(name).ok()?.parse().ok()
        }
        let d = SoakConfig::default();
        SoakConfig {
            tenants: var("TENANCY_SOAK_TENANTS").map_or(d.tenants, |v| v as usize),
            tasks: var("TENANCY_SOAK_TASKS").map_or(d.tasks, |v| v as usize),
            statements: var("TENANCY_SOAK_STATEMENTS").unwrap_or(d.statements),
            seed: d.seed,
            pinned: d.pinned,
        }
    }
}

/// The kinds of operation a task performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// `ActiveModel::insert` of a post.
    Insert,
    /// `find_by_id` of one of the task's posts.
    FindById,
    /// A filtered select of the task's posts.
    FilterOwn,
    /// A filtered select over the whole tenant.
    FilterTenant,
    /// `ActiveModel::update` of one of the task's posts.
    Update,
    /// `update_many` with a filter.
    UpdateMany,
    /// `delete_by_id` (comments go by cascade).
    Delete,
    /// A transaction inserting a post, comments and a tag, committed.
    Commit,
    /// A transaction inserting and deleting, rolled back.
    Rollback,
    /// `.stream()` over the tenant's posts, outside and inside a transaction.
    Stream,
    /// `paginate` over the task's posts.
    Paginate,
    /// `find_with_related` (comments) and `find_also_related` (the shared plan).
    Related,
    /// Raw SQL: a parameterized select and an unprepared update.
    Raw,
    /// A tag inserted or deleted.
    Tag,
}

pub(super) const OPS: [(Op, u32); 14] = [
    (Op::Insert, 14),
    (Op::FindById, 14),
    (Op::FilterOwn, 8),
    (Op::FilterTenant, 6),
    (Op::Update, 8),
    (Op::UpdateMany, 5),
    (Op::Delete, 6),
    (Op::Commit, 8),
    (Op::Rollback, 6),
    (Op::Stream, 5),
    (Op::Paginate, 5),
    (Op::Related, 5),
    (Op::Raw, 6),
    (Op::Tag, 6),
];

/// What a soak did and found.
#[derive(Debug, Default)]
pub struct SoakReport {
    /// Routed statements (the observer's count, over the whole run).
    pub statements: u64,
    /// Operations performed, by kind.
    pub ops: BTreeMap<Op, u64>,
    /// Operations the database aborted (deadlock, lock timeout), which
    /// changed nothing and were not counted as done.
    pub aborted: u64,
    /// Rows read back by the final scan.
    pub rows_checked: u64,
    /// Time of the mixed phase (setup and the final scan excluded).
    pub elapsed: Duration,
    /// Rows seen where they must not be, or missing where they must be.
    pub violations: Vec<String>,
    /// Unexpected errors (each ends its task).
    pub errors: Vec<String>,
}

impl SoakReport {
    /// No violation and no unexpected error.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty() && self.errors.is_empty()
    }
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        writeln!(
            f,
            "{} statements in {secs:.1} s ({:.0}/s), {} operations aborted by the database, \
             {} rows checked",
            self.statements,
            self.statements as f64 / secs.max(1e-9),
            self.aborted,
            self.rows_checked
        )?;
        writeln!(f, "operations: {:?}", self.ops)?;
        for v in self.violations.iter().take(20) {
            writeln!(f, "VIOLATION: {v}")?;
        }
        for e in self.errors.iter().take(20) {
            writeln!(f, "ERROR: {e}")?;
        }
        Ok(())
    }
}

/// Opens a pool of `max_connections` on `url`, creating its database when
/// missing (through `admin_url`, which may differ when `url` goes through a
/// pooler). Without `statement_cache`, sqlx re-prepares every statement
/// instead of reusing a server-side prepared statement across transactions.
///
/// # Errors
/// The connection error, as text.
pub async fn connect(
    kind: Kind,
    admin_url: &str,
    url: &str,
    max_connections: u32,
    statement_cache: bool,
) -> Result<DatabaseConnection, String> {
    connect_server(kind, admin_url)
        .await?
        .close()
        .await
        .map_err(|e| e.to_string())?;
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(60))
        .sqlx_logging(false);
    if !statement_cache {
        options.map_sqlx_postgres_opts(|o| o.statement_cache_capacity(0));
    }
    sea_orm::Database::connect(options)
        .await
        .map_err(|e| e.to_string())
}

/// A pool of `max_connections` on the server of `kind`, or `None`
/// (reported loudly) when it is unreachable and not required.
///
/// # Panics
/// When the server is unreachable and `TENANCY_REQUIRE` lists it.
pub async fn server(kind: Kind, max_connections: u32) -> Option<DatabaseConnection> {
    let url = kind.url();
    match connect(kind, &url, &url, max_connections, true).await {
        Ok(db) => Some(db),
        Err(err) => {
            unreachable(kind, &url, &err);
            None
        }
    }
}

/// Reports an unreachable server: a panic when `TENANCY_REQUIRE` lists it,
/// a loud NOT RUN otherwise.
///
/// # Panics
/// When the server is required.
pub fn unreachable(kind: Kind, url: &str, err: &str) {
    let (var, key) = match kind {
        Kind::Postgres | Kind::Citus => ("TENANCY_PG_URL", "postgres"),
        Kind::MySql => ("TENANCY_MYSQL_URL", "mysql"),
        Kind::Sqlite => ("", "sqlite"),
    };
    assert!(
        !kind.required(),
        "{var} ({url}) is unreachable and TENANCY_REQUIRE lists {key}: {err}"
    );
    eprintln!(
        "\n*** NOT RUN: {kind:?} tests skipped, {var} ({url}) unreachable: {err}\n\
         *** set TENANCY_REQUIRE={key} to make this a failure\n"
    );
}

/// A tenancy that counts the statements it routes.
#[derive(Debug, Clone)]
pub struct Soak {
    /// Setup, the final scan and cleanup.
    tenancy: Tenancy,
    /// The tasks' statements (the same tenancy unless [`Soak::through`]).
    traffic: Tenancy,
    routed: Arc<AtomicU64>,
    kind: Kind,
}

impl Soak {
    /// Builds the tenancy over `db` (PostgreSQL or MySQL) and installs the
    /// shared tables.
    ///
    /// # Errors
    /// A database or configuration error, as text.
    pub async fn build(db: DatabaseConnection) -> Result<Soak, String> {
        let kind = match db.get_database_backend() {
            DbBackend::Postgres => Kind::Postgres,
            DbBackend::MySql => Kind::MySql,
            _ => return Err("the soak runs on PostgreSQL or MySQL".to_owned()),
        };
        install_shared(&db).await.map_err(|e| e.to_string())?;
        let routed = Arc::new(AtomicU64::new(0));
        let counter = routed.clone();
        let tenancy = Tenancy::builder(db)
            .on_statement(move |_| {
                counter.fetch_add(1, Ordering::Relaxed);
            })
            .build()
            .await
            .map_err(|e| e.to_string())?;
        Ok(Soak {
            traffic: tenancy.clone(),
            tenancy,
            routed,
            kind,
        })
    }

    /// Sends the tasks' statements through `db` (a pooler in front of the
    /// same server), keeping setup, the final scan and cleanup on the
    /// direct connection.
    ///
    /// # Errors
    /// A database or configuration error, as text.
    pub async fn through(mut self, db: DatabaseConnection) -> Result<Soak, String> {
        let counter = self.routed.clone();
        self.traffic = Tenancy::builder(db)
            .install_registry(false)
            .on_statement(move |_| {
                counter.fetch_add(1, Ordering::Relaxed);
            })
            .build()
            .await
            .map_err(|e| e.to_string())?;
        Ok(self)
    }

    /// The tenancy of setup, scan and cleanup.
    pub fn tenancy(&self) -> &Tenancy {
        &self.tenancy
    }

    /// Statements routed so far.
    pub fn routed(&self) -> u64 {
        self.routed.load(Ordering::Relaxed)
    }

    /// Makes `cfg.tenants` tenants, runs `cfg.tasks` tasks until
    /// `cfg.statements` statements were routed, scans every tenant, then
    /// drops the tenants.
    ///
    /// # Panics
    /// When the tenants cannot be set up.
    pub async fn run(&self, cfg: &SoakConfig) -> SoakReport {
        let plan = plan::ActiveModel {
            name: Set(unique("soakplan")),
            ..Default::default()
        }
        .insert(self.tenancy.inner())
        .await
        .expect("plan inserted");
        let names: Vec<String> = (0..cfg.tenants).map(|_| unique("soak")).collect();
        let created = self.create_tenants(&names).await;
        let report = match created {
            Ok(()) => self.mixed_phase(cfg, &names, plan.id).await,
            Err(e) => SoakReport {
                errors: vec![format!("setup: {e}")],
                ..Default::default()
            },
        };
        self.drop_tenants(&names).await;
        let _ = plan::Entity::delete_by_id(plan.id)
            .exec(self.tenancy.inner())
            .await;
        report
    }

    async fn create_tenants(&self, names: &[String]) -> Result<(), String> {
        let backend = self.kind.backend();
        let results: Vec<Result<(), String>> = stream::iter(names)
            .map(|name| async move {
                self.tenancy.create(name).await.map_err(|e| e.to_string())?;
                let conn = self.tenancy.tenant(name).map_err(|e| e.to_string())?;
                let schema = Schema::new(backend);
                conn.execute(&schema.create_table_from_entity(post::Entity))
                    .await
                    .map_err(|e| e.to_string())?;
                conn.execute(&schema.create_table_from_entity(comment::Entity))
                    .await
                    .map_err(|e| e.to_string())?;
                conn.execute(&schema.create_table_from_entity(tag::Entity))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(())
            })
            .buffer_unordered(8)
            .collect()
            .await;
        results.into_iter().collect()
    }

    async fn drop_tenants(&self, names: &[String]) {
        stream::iter(names)
            .for_each_concurrent(8, |name| async move {
                let _ = self.tenancy.drop(name, Irreversibly).await;
            })
            .await;
    }

    async fn mixed_phase(&self, cfg: &SoakConfig, names: &[String], plan_id: i32) -> SoakReport {
        let conns: Arc<Vec<TenantConnection>> = Arc::new(
            names
                .iter()
                .map(|n| self.traffic.tenant(n).expect("valid name"))
                .collect(),
        );
        let shared = Arc::new(Shared {
            routed: self.routed.clone(),
            target: self.routed() + cfg.statements,
            violations: Mutex::default(),
            errors: Mutex::default(),
            aborted: AtomicU64::new(0),
        });
        let start = Instant::now();
        let before = self.routed();
        let handles: Vec<_> = (0..cfg.tasks)
            .map(|task| {
                let mut worker = Worker {
                    task,
                    pinned: cfg.pinned,
                    rng: Rng::new(cfg.seed ^ (task as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                    conns: conns.clone(),
                    state: vec![TenantState::default(); conns.len()],
                    shared: shared.clone(),
                    plan_id,
                    kind: self.kind,
                    ops: BTreeMap::new(),
                };
                tokio::spawn(async move {
                    worker.run().await;
                    (worker.state, worker.ops)
                })
            })
            .collect();
        let mut expected = vec![TenantState::default(); conns.len()];
        let mut report = SoakReport::default();
        for handle in handles {
            match handle.await {
                Ok((state, ops)) => {
                    for (total, mine) in expected.iter_mut().zip(state) {
                        total.posts.extend(mine.posts);
                        total.tags.extend(mine.tags);
                    }
                    for (op, n) in ops {
                        *report.ops.entry(op).or_default() += n;
                    }
                }
                Err(e) => shared.error(format!("task panicked: {e}")),
            }
        }
        report.elapsed = start.elapsed();
        report.statements = self.routed() - before;
        report.aborted = shared.aborted.load(Ordering::Relaxed);
        report.violations = std::mem::take(&mut *lock(&shared.violations));
        report.errors = std::mem::take(&mut *lock(&shared.errors));
        let (violations, rows) = self.scan(names, &expected).await;
        report.violations.extend(violations);
        report.rows_checked = rows;
        report
    }

    /// Reads a tenant's tables by qualified name through the plain connection.
    async fn rows(&self, name: &str, select: &str, table: &str) -> Result<Vec<Row>, DbErr> {
        let home = self.tenancy.home_of(name).map_err(DbErr::from)?;
        let qualified = match self.kind {
            Kind::MySql => format!("`{home}`.`{table}`"),
            _ => format!("\"{home}\".\"{table}\""),
        };
        let sql = format!("SELECT {select} FROM {qualified}");
        let rows = self
            .tenancy
            .inner()
            .query_all_raw(Statement::from_string(self.kind.backend(), sql))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Row {
                    id: r.try_get_by_index(0)?,
                    text: r.try_get_by_index(1)?,
                    extra: r.try_get_by_index(2)?,
                })
            })
            .collect()
    }

    /// The final check: every row of every tenant, by qualified name; the
    /// violations and the number of rows read.
    async fn scan(&self, names: &[String], expected: &[TenantState]) -> (Vec<String>, u64) {
        let mut out = Vec::new();
        let mut read = 0;
        let status = match self.kind {
            Kind::Postgres => "status::text",
            _ => "CAST(status AS CHAR)",
        };
        for (name, want) in names.iter().zip(expected) {
            let posts = match self
                .rows(name, &format!("id, title, {status}"), "posts")
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    out.push(format!("posts of {name} unreadable: {e}"));
                    continue;
                }
            };
            let comments = self.rows(name, "id, body, body", "comments").await;
            let tags = self.rows(name, "id, name, name", "tags").await;
            let (Ok(comments), Ok(tags)) = (comments, tags) else {
                out.push(format!("comments or tags of {name} unreadable"));
                continue;
            };
            read += (posts.len() + comments.len() + tags.len()) as u64;
            let owner = format!("{name}:");
            let mut check = |what: &str, text: &str| {
                if !text.starts_with(&owner) {
                    out.push(format!("{what} {text:?} found in tenant {name}"));
                }
            };
            for r in &posts {
                check("post", &r.text);
            }
            for r in &comments {
                check("comment", &r.text);
            }
            for r in &tags {
                check("tag", &r.text);
            }
            let got: BTreeMap<i32, (String, String)> = posts
                .into_iter()
                .map(|r| (r.id, (r.text, r.extra)))
                .collect();
            let want_posts: BTreeMap<i32, (String, String)> = want
                .posts
                .iter()
                .map(|(id, p)| (*id, (p.title.clone(), status_str(&p.status).to_owned())))
                .collect();
            diff(&mut out, name, "post", &want_posts, &got);
            let got_comments: BTreeMap<i32, String> =
                comments.into_iter().map(|r| (r.id, r.text)).collect();
            let want_comments: BTreeMap<i32, String> = want
                .posts
                .values()
                .flat_map(|p| p.comments.iter().map(|(id, body)| (*id, body.clone())))
                .collect();
            diff(&mut out, name, "comment", &want_comments, &got_comments);
            let got_tags: BTreeMap<i32, String> =
                tags.into_iter().map(|r| (r.id, r.text)).collect();
            diff(&mut out, name, "tag", &want.tags, &got_tags);
        }
        (out, read)
    }
}

fn status_str(s: &post::Status) -> &'static str {
    match s {
        post::Status::Draft => "draft",
        post::Status::Published => "published",
    }
}

fn diff<V: PartialEq + fmt::Debug>(
    out: &mut Vec<String>,
    tenant: &str,
    what: &str,
    want: &BTreeMap<i32, V>,
    got: &BTreeMap<i32, V>,
) {
    for (id, v) in want {
        match got.get(id) {
            None => out.push(format!("{what} {id} {v:?} missing from {tenant}")),
            Some(g) if g != v => out.push(format!("{what} {id} of {tenant} is {g:?}, want {v:?}")),
            Some(_) => {}
        }
    }
    for (id, g) in got {
        if !want.contains_key(id) {
            out.push(format!(
                "{what} {id} {g:?} in {tenant} was never committed there"
            ));
        }
    }
}

struct Row {
    id: i32,
    text: String,
    extra: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) struct Shared {
    routed: Arc<AtomicU64>,
    target: u64,
    violations: Mutex<Vec<String>>,
    errors: Mutex<Vec<String>>,
    pub(super) aborted: AtomicU64,
}

impl Shared {
    pub(super) fn violation(&self, v: String) {
        lock(&self.violations).push(v);
    }

    pub(super) fn error(&self, e: String) {
        lock(&self.errors).push(e);
    }

    pub(super) fn done(&self) -> bool {
        self.routed.load(Ordering::Relaxed) >= self.target
    }
}
