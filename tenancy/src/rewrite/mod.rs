//! The statement rewriter: qualifies registered table names where they stand
//! in table position.
//!
//! A small tokenizer walks the SQL once. It knows quoted identifiers, string
//! literals (with each dialect's escapes), comments, dollar-quoted bodies and
//! placeholders, and tracks just enough grammar to tell a table from a column:
//! the word after `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE`, `TRUNCATE`,
//! `REFERENCES`, `USING` (in `DELETE`/`MERGE`), `ON` (in `CREATE`/`DROP INDEX`),
//! and the items of a `FROM` list. Known traps are handled: `ON DUPLICATE KEY
//! UPDATE col`, `FOR UPDATE OF t`, `DO UPDATE`, `ON UPDATE CASCADE`,
//! `IS DISTINCT FROM`, `EXTRACT(x FROM col)`.
//!
//! Pure functions, no I/O; when nothing changes the input is returned
//! borrowed and nothing is allocated.

use std::borrow::Cow;

use self::grammar::Rewriter;
use crate::{dialect::Dialect, registry::Registry};

mod clauses;
mod grammar;
mod keyword;
mod names;
mod scan;
mod sqlite;
mod state;

/// Where one tenant's statements go.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) dialect: Dialect,
    /// Prefix written before tenant tables, e.g. `"tenant_acme".`; `None`
    /// leaves them as written (SQLite, where the pool is the tenant's file).
    pub(crate) tenant_prefix: Option<Box<str>>,
    /// The one qualifier a statement may spell out on a tenant table.
    pub(crate) tenant_home: Box<str>,
    /// The shared home, as a qualifier a statement may spell out.
    pub(crate) shared_home: Box<str>,
    /// Prefix written before shared tables; `None` leaves them as written.
    pub(crate) shared_prefix: Option<Box<str>>,
    /// The dialect's system catalogs, never refused.
    pub(crate) catalogs: Catalogs,
}

/// A dialect's system catalogs, which strict routing never refuses; the
/// backend that owns the dialect supplies them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Catalogs {
    /// Schemas (qualifiers) of system tables.
    pub(crate) schemas: &'static [&'static str],
    /// Prefixes of unqualified system tables.
    pub(crate) prefixes: &'static [&'static str],
    /// Unqualified system tables.
    pub(crate) tables: &'static [&'static str],
}

impl Route {
    /// Tenant tables qualified with `tenant_home`, shared tables with
    /// `shared_home` (PostgreSQL schemas, MySQL databases).
    pub(crate) fn qualified(dialect: Dialect, tenant_home: &str, shared_home: &str) -> Self {
        Route {
            dialect,
            tenant_prefix: Some(prefix(dialect, tenant_home)),
            tenant_home: tenant_home.into(),
            shared_home: shared_home.into(),
            shared_prefix: Some(prefix(dialect, shared_home)),
            catalogs: Catalogs::default(),
        }
    }

    /// This route with the dialect's system catalogs.
    pub(crate) fn with_catalogs(mut self, catalogs: Catalogs) -> Self {
        self.catalogs = catalogs;
        self
    }

    /// The library's own statements on the shared pool: no tenant home,
    /// shared tables qualified with `shared_home` when given.
    pub(crate) fn shared(dialect: Dialect, shared_home: Option<&str>) -> Self {
        Route {
            dialect,
            tenant_prefix: None,
            tenant_home: "".into(),
            shared_home: shared_home.unwrap_or_default().into(),
            shared_prefix: shared_home.map(|home| prefix(dialect, home)),
            catalogs: Catalogs::default(),
        }
    }
}

/// `home` quoted, with the dot that precedes a table name.
fn prefix(dialect: Dialect, home: &str) -> Box<str> {
    format!("{}.", dialect.quote(home)).into_boxed_str()
}

/// A table reference the route refuses; the statement is not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A tenant table qualified with a home that is not the route's tenant.
    CrossTenant(String),
    /// A table in none of the registry's scopes (strict routing).
    Unregistered(String),
}

/// Rewrites `sql` for `route`.
///
/// # Errors
/// [`Refused`] when the statement spells out another home for a tenant
/// table, or (strict routing) names a table the registry does not know.
pub(crate) fn rewrite<'s>(
    sql: &'s str,
    registry: &Registry,
    route: &Route,
) -> Result<Cow<'s, str>, Refused> {
    Rewriter::new(sql, registry, route).finish()
}

#[cfg(test)]
mod review_tests;
#[cfg(test)]
mod strict_tests;
#[cfg(test)]
mod tests;
