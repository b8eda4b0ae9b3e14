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
mod error;
mod lifecycle;
mod migrate;
mod registry;
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
    lifecycle::{Irreversibly, TenantInfo, TenantStatus},
    migrate::{MigrationState, Migrations, OnFailure, Outcome, Report, TenantReport, Verb},
    registry::{Scope, TenantScoped},
    tenancy::{Tenancy, TenancyBuilder},
    tenant_id::{HomeFn, TenantId, ValidateFn},
};

/// Used by the derive's generated code; not public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;

    pub use crate::registry::Registration;
}
