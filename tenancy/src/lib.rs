//! Multi-tenancy for [SeaORM](https://www.sea-ql.org/SeaORM/): a schema
//! (PostgreSQL), a database (MySQL/MariaDB) or a file (SQLite) per tenant,
//! behind a connection type that SeaORM takes wherever it takes a
//! `DatabaseConnection`.
//!
//! # Where to find things
//!
//! - **Marking entities.** `#[derive(TenantScoped)]` on a SeaORM model makes
//!   its table tenant-scoped; add `#[shared]` for tables that exist once for
//!   everyone. The derive registers the table at link time; see
//!   [`TenantScoped`], [`Scope`] and [`TenancyBuilder::table`] for the
//!   explicit path.
//! - **Setting up.** [`Tenancy::builder`] wraps your `DatabaseConnection`,
//!   picks the layout from its backend, and installs the tenant registry
//!   table (`tenancy_tenants`) in the shared home.
//! - **Querying.** [`Tenancy::tenant`] returns a [`TenantConnection`], which
//!   implements SeaORM's `ConnectionTrait`, `StreamTrait` and
//!   `TransactionTrait`; its transactions are [`TenantTransaction`]s. Every
//!   statement is rewritten so that tenant tables resolve in the tenant's
//!   home and shared tables in the shared home: nothing depends on
//!   `search_path` or `USE`, so pooled connections (and PgBouncer in
//!   transaction mode) never carry a tenant from one request to the next.
//! - **Task-local tenant.** [`scope`], [`current`], [`spawn`] and
//!   [`Tenancy::contextual`] for code that cannot pass a connection along.
//! - **Lifecycle.** [`Tenancy::create`], [`Tenancy::drop`],
//!   [`Tenancy::exists`], [`Tenancy::list`], [`Tenancy::suspend`].
//! - **Migrations.** [`Tenancy::migrations`] replays a `sea-orm-migration`
//!   migrator in one tenant, a list, or all of them ([`Migrations`]), and
//!   [`Migrations::create_and_migrate`] makes a tenant as one unit.
//! - **Errors.** One [`enum@Error`]; inside SeaORM's traits it travels as
//!   `DbErr::Custom` and [`Error::code_of`] recovers its [`ErrorCode`].
//!
//! # Crate feature flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `postgres` | yes | PostgreSQL: a schema per tenant (sqlx's PostgreSQL driver) |
//! | `mysql` | yes | MySQL and MariaDB: a database per tenant (sqlx's MySQL driver) |
//! | `sqlite` | yes | SQLite: a file per tenant (sqlx's SQLite driver) |
//! | `axum` | no | [`resolve`](crate::resolve): the tower layer, extractors and health route |
//! | `cli` | no | [`cli`](crate::cli): the `sea-orm-cli migrate`-style command line |
//!
//! A build without a backend's feature refuses that backend at
//! [`TenancyBuilder::build`] with [`Error::Config`]. Turn off the default
//! features to compile one driver: `tenancy = { version = "0.1",
//! default-features = false, features = ["postgres"] }`.
//!
//! # Where things live in the source
//!
//! `tenant_id.rs`, `tenant.rs`, `dialect.rs`, `registry.rs`, `events.rs`,
//! `error.rs` are the vocabulary; `rewrite/` the statement rewriter (pure);
//! `backend/` the three strategies and the only dialect SQL
//! (`backend/migrate.rs`: what the migration runner needs from a dialect);
//! `connection/` the routed connections; `store/` the library's own tables;
//! `tenancy.rs` the hub; `lifecycle.rs`, `lookup.rs`, `metadata.rs`,
//! `domains.rs`, `health.rs`, `each.rs` (a job in every tenant), `context/`
//! and `migrate/` its capabilities; `builder.rs` composes them. `retry.rs`
//! and `pace.rs` are plain policies (retries; how many tenants at a time).
//! Each layer imports only from the ones listed before it.
//!
//! # Fail closed
//!
//! Tenant names are validated into a [`TenantId`] before any SQL is built and
//! every identifier is quoted. A statement that spells out another tenant's
//! home for a tenant table is refused
//! ([`Error::CrossTenantReference`]). Tenant tables exist only in tenant
//! homes, so a tenant-scoped query through the plain `DatabaseConnection`
//! fails instead of reading anyone's rows, and the contextual connection
//! fails with [`Error::NoTenant`] outside a scope.

// A build with fewer than the three drivers leaves the others' helpers unused.
#![cfg_attr(
    not(all(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, unreachable_code, unused_variables)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Vocabulary: plain types and names, no I/O.
mod cluster;
mod dialect;
mod error;
mod events;
mod pace;
mod registry;
mod retry;
mod tenant;
mod tenant_id;
// Routing: the statement rewriter, pure functions.
mod rewrite;
// Strategies: everything dialect-specific, the only place that writes dialect SQL.
mod backend;
// Connections: `TenantConnection`, `TenantTransaction` and the statement router.
mod connection;
// The library's own tables in the shared home.
mod store;
// The hub: `Tenancy`'s state and the connections it hands out.
mod tenancy;
// Capabilities: `impl Tenancy` blocks over the hub.
pub mod citus;
mod context;
mod domains;
mod each;
mod health;
mod lifecycle;
mod lookup;
mod metadata;
mod migrate;
mod suspension;
// Composition: `TenancyBuilder`.
mod builder;
// Integrations.
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "axum")]
pub mod resolve;

pub use tenancy_derive::TenantScoped;

pub use crate::{
    builder::{Affinity, TenancyBuilder},
    connection::{
        StatementEvent, StatementObserver, TenantConnection, TenantTransaction,
        transaction_with_retry,
    },
    context::{ContextualConnection, current, require_current, scope, spawn},
    each::{EachOptions, JobOutcome, JobReport, JobResult},
    error::{Error, ErrorCode, Result},
    events::{Operation, TenantEvent},
    health::{
        HealthCounts, HealthOptions, HealthProblem, HealthReport, HealthStatus, SharedHealth,
        TenantHealth,
    },
    migrate::{
        MigrateOptions, MigrationOutcome, MigrationReport, Migrations, OnFailure, TenantReport,
        Verb,
    },
    registry::{Scope, TenantScoped},
    retry::Retry,
    tenancy::{SeedFn, Tenancy},
    tenant::{Irreversibly, MigrationState, TenantInfo, TenantStatus},
    tenant_id::{HomeFn, TenantId, ValidateFn},
};

/// The statement rewriter and name validation as plain functions, for the
/// fuzz targets in `fuzz/`; not public API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    use std::borrow::Cow;

    use crate::{
        dialect::Dialect,
        registry::{Registry, Scope},
        rewrite::{Route, rewrite},
    };

    /// The dialects the fuzzer may pick, by index.
    pub const DIALECTS: [&str; 3] = ["postgres", "mysql", "sqlite"];

    /// A registry of `tenant` and `shared` tables (not strict: other
    /// tables pass through) and a route to `tenant_home` and `shared_home`
    /// (SQLite: tenant tables are qualified with `main`, the tenant's file).
    #[derive(Debug)]
    pub struct Rewriter {
        registry: Registry,
        route: Route,
    }

    impl Rewriter {
        /// Builds the rewriter; `dialect` indexes [`DIALECTS`] (modulo 3).
        ///
        /// # Errors
        /// When a table is listed as both tenant and shared.
        pub fn new(
            dialect: usize,
            tenant: &[&str],
            shared: &[&str],
            tenant_home: &str,
            shared_home: &str,
        ) -> Result<Self, String> {
            let dialect = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite][dialect % 3];
            let mut registry = Registry::default();
            for (tables, scope) in [(tenant, Scope::Tenant), (shared, Scope::Shared)] {
                for t in tables {
                    registry.insert(t, scope).map_err(|e| e.to_string())?;
                }
            }
            // SQLite: the tenant's file is `main` of its pool, the shared
            // file is attached.
            let route = match dialect {
                Dialect::Sqlite => Route::qualified(dialect, "main", shared_home),
                _ => Route::qualified(dialect, tenant_home, shared_home),
            };
            Ok(Rewriter { registry, route })
        }

        /// Rewrites `sql`; `Err` carries the refused cross-tenant reference.
        ///
        /// # Errors
        /// When the statement names another tenant's home for a tenant table.
        pub fn rewrite<'s>(&self, sql: &'s str) -> Result<Cow<'s, str>, String> {
            rewrite(sql, &self.registry, &self.route).map_err(|e| format!("{e:?}"))
        }
    }
}

/// Used by the derive's generated code; not public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;

    pub use crate::registry::Registration;
}
