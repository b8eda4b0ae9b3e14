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
//! # Fail closed
//!
//! Tenant names are validated into a [`TenantId`] before any SQL is built and
//! every identifier is quoted. A statement that spells out another tenant's
//! home for a tenant table is refused
//! ([`Error::CrossTenantReference`]). Tenant tables exist only in tenant
//! homes, so a tenant-scoped query through the plain `DatabaseConnection`
//! fails instead of reading anyone's rows, and the contextual connection
//! fails with [`Error::NoTenant`] outside a scope.

mod backend;
#[cfg(feature = "cli")]
pub mod cli;
mod connection;
mod context;
mod domains;
mod error;
mod events;
mod health;
mod lifecycle;
mod migrate;
mod migrator;
mod registry;
#[cfg(feature = "axum")]
pub mod resolve;
mod rewrite;
mod tenancy;
mod tenant_id;

pub use tenancy_derive::TenantScoped;

pub use crate::{
    connection::{
        ContextualConnection, TenantConnection, TenantTransaction,
        router::{StatementEvent, StatementObserver},
    },
    context::{current, require_current, scope, spawn},
    error::{Error, ErrorCode, Result},
    events::{Operation, TenantEvent},
    health::{HealthCounts, HealthOptions, HealthReport, HealthStatus, SharedHealth, TenantHealth},
    lifecycle::{Irreversibly, TenantInfo, TenantStatus},
    migrate::{MigrationState, Migrations, OnFailure, Outcome, Report, TenantReport, Verb},
    registry::{Scope, TenantScoped},
    tenancy::{Tenancy, TenancyBuilder},
    tenant_id::{HomeFn, TenantId, ValidateFn},
};

/// The statement rewriter and name validation as plain functions, for the
/// fuzz targets in `fuzz/`; not public API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    use std::borrow::Cow;

    use crate::{
        registry::{Registry, Scope},
        rewrite::{Dialect, Route, rewrite},
    };

    /// The dialects the fuzzer may pick, by index.
    pub const DIALECTS: [&str; 3] = ["postgres", "mysql", "sqlite"];

    /// A registry of `tenant` and `shared` tables and a route to
    /// `tenant_home` and `shared_home` (SQLite: tenant tables stay as
    /// written and `tenant_home` is `main`).
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
            // SQLite leaves tenant tables as written (the pool is the tenant's
            // file) and qualifies shared ones with the attached schema.
            let route = match dialect {
                Dialect::Sqlite => Route::new(dialect, "main", false, Some(shared_home)),
                _ => Route::new(dialect, tenant_home, true, Some(shared_home)),
            };
            Ok(Rewriter { registry, route })
        }

        /// Rewrites `sql`; `Err` carries the refused cross-tenant reference.
        ///
        /// # Errors
        /// When the statement names another tenant's home for a tenant table.
        pub fn rewrite<'s>(&self, sql: &'s str) -> Result<Cow<'s, str>, String> {
            rewrite(sql, &self.registry, &self.route).map_err(|e| e.0)
        }
    }
}

/// Used by the derive's generated code; not public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;

    pub use crate::registry::Registration;
}
