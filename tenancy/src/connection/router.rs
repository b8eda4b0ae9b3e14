//! Routing one statement: rewrite, check, observe.

use std::{borrow::Cow, fmt, sync::Arc};

use sea_orm::{DbBackend, DbErr, Statement};

use crate::{
    error::Error,
    registry::Registry,
    rewrite::{Refused, Route, rewrite},
    tenant_id::TenantId,
};

/// One statement as a [`TenantConnection`](crate::TenantConnection) (or the
/// library, on the shared home) routed it,
/// passed to the observer set with
/// [`TenancyBuilder::on_statement`](crate::TenancyBuilder::on_statement).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct StatementEvent<'a> {
    /// The tenant, or `None` for the library's own statements on the shared home.
    pub tenant: Option<&'a TenantId>,
    /// The SQL as SeaORM (or the caller) built it.
    pub original: &'a str,
    /// The SQL sent to the database.
    pub routed: &'a str,
}

/// A callback seeing every routed statement.
pub type StatementObserver = dyn Fn(&StatementEvent<'_>) + Send + Sync;

/// Rewrites statements for one tenant (or for the shared home).
pub(crate) struct Router {
    pub(crate) registry: Arc<Registry>,
    pub(crate) route: Route,
    pub(crate) tenant: Option<TenantId>,
    pub(crate) home: Box<str>,
    pub(crate) observer: Option<Arc<StatementObserver>>,
    /// `tenancy_statements_total` of this tenant, when enabled.
    pub(crate) statements: Option<metrics::Counter>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("tenant", &self.tenant)
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

impl Router {
    /// The router of the library's own statements on the shared home.
    pub(crate) fn shared(
        registry: Arc<Registry>,
        route: Route,
        observer: Option<Arc<StatementObserver>>,
    ) -> Self {
        Router {
            registry,
            route,
            tenant: None,
            home: Box::from(""),
            observer,
            statements: None,
        }
    }

    pub(crate) fn backend(&self) -> DbBackend {
        self.route.dialect.backend()
    }

    /// The SQL to send for `sql`.
    pub(crate) fn sql<'a>(&self, sql: &'a str) -> Result<Cow<'a, str>, Error> {
        let routed =
            rewrite(sql, &self.registry, &self.route).map_err(|refused| match refused {
                Refused::CrossTenant(table) => Error::CrossTenantReference {
                    tenant: self
                        .tenant
                        .as_ref()
                        .map_or_else(|| "(shared)".to_owned(), ToString::to_string),
                    table,
                },
                Refused::Unregistered(table) => Error::UnregisteredTable { table },
            })?;
        tracing::debug!(target: "tenancy::statement", tenant = self.tenant.as_ref().map(TenantId::as_str), sql = %routed);
        if let Some(counter) = &self.statements {
            counter.increment(1);
        }
        if let Some(observer) = &self.observer {
            observer(&StatementEvent {
                tenant: self.tenant.as_ref(),
                original: sql,
                routed: &routed,
            });
        }
        Ok(routed)
    }

    /// The statement to send for `stmt`; the SQL is replaced only when it changed.
    pub(crate) fn statement(&self, mut stmt: Statement) -> Result<Statement, DbErr> {
        if let Cow::Owned(sql) = self.sql(&stmt.sql)? {
            stmt.sql = sql;
        }
        Ok(stmt)
    }
}
