//! The one error type of the crate.

use sea_orm::DbErr;

/// A `Result` whose error defaults to [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `tenancy`.
///
/// Database errors pass through unchanged as [`Error::Db`]. Inside SeaORM's
/// traits, which can only return [`DbErr`], our own errors travel as
/// [`DbErr::Custom`] with a stable `tenancy[code]` prefix; [`Error::code_of`]
/// recovers the [`ErrorCode`] from such a `DbErr`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Returned by every function taking a tenant name when the name fails
    /// validation. Nothing has been sent to the database.
    #[error("invalid tenant name {name:?}: {reason}")]
    InvalidTenantName {
        /// The refused input (possibly hostile: escape it before display).
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Returned by lifecycle operations and [`Tenancy::connect`](crate::Tenancy::connect)
    /// when the registry has no such tenant.
    #[error("tenant {tenant} not found")]
    TenantNotFound {
        /// The tenant that was asked for.
        tenant: String,
    },
    /// Returned by [`Tenancy::create`](crate::Tenancy::create) when the tenant is already registered.
    #[error("tenant {tenant} already exists")]
    TenantExists {
        /// The tenant that exists.
        tenant: String,
    },
    /// Returned by [`Tenancy::connect`](crate::Tenancy::connect) for a suspended tenant.
    #[error("tenant {tenant} is suspended")]
    TenantSuspended {
        /// The suspended tenant.
        tenant: String,
    },
    /// Returned by a tenant connection's statement that finds no table while
    /// the tenant's registry row says it is being created (dropped and
    /// re-created by another process, its migrations not yet done): retry
    /// shortly.
    #[error("tenant {tenant} is being created")]
    TenantProvisioning {
        /// The tenant.
        tenant: String,
    },
    /// Returned by the contextual connection and [`require_current`](crate::require_current)
    /// outside a [`scope`](crate::scope).
    #[error("no tenant in scope")]
    NoTenant,
    /// Returned when a statement explicitly names a tenant table in another
    /// tenant's (or the shared) home. The statement is not executed.
    #[error("statement references tenant table {table} outside tenant {tenant}")]
    CrossTenantReference {
        /// The tenant the connection is bound to.
        tenant: String,
        /// The offending table reference, as written.
        table: String,
    },
    /// Returned when a statement names, in table position, a table that is
    /// neither tenant-scoped nor shared (strict routing, the default). The
    /// statement is not executed. Fix: derive `TenantScoped` on its entity,
    /// register it with
    /// [`TenancyBuilder::table`](crate::TenancyBuilder::table) (a scope, or
    /// [`Scope::Passthrough`](crate::Scope::Passthrough) to leave it as
    /// written), or turn strict routing off with
    /// [`TenancyBuilder::strict`](crate::TenancyBuilder::strict).
    #[error(
        "table {table} is not registered: derive TenantScoped on its entity or register it with TenancyBuilder::table"
    )]
    UnregisteredTable {
        /// The table, as written.
        table: String,
    },
    /// Returned by [`Tenancy::add_domain`](crate::Tenancy::add_domain) and
    /// [`Tenancy::remove_domain`](crate::Tenancy::remove_domain) when the
    /// input is not a host name. Nothing has been sent to the database.
    #[error("{domain:?} is not a domain name")]
    InvalidDomain {
        /// The refused input (possibly hostile: escape it before display).
        domain: String,
    },
    /// Returned by [`Tenancy::add_domain`](crate::Tenancy::add_domain) when
    /// the domain already belongs to a tenant.
    #[error("domain {domain} already belongs to a tenant")]
    DomainTaken {
        /// The domain, in its stored form.
        domain: String,
    },
    /// Returned by [`TenancyBuilder::build`](crate::TenancyBuilder::build) when the
    /// configuration cannot work (unsupported backend, no database selected,
    /// one table registered as both tenant and shared...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Returned by the migration runner when a tenant's migration fails. On
    /// PostgreSQL the tenant is left as it was before the run.
    #[error("migration of tenant {tenant} failed")]
    Migration {
        /// The tenant.
        tenant: String,
        /// The underlying error.
        #[source]
        source: Box<Error>,
    },
    /// Returned by [`Tenancy::set_metadata`](crate::Tenancy::set_metadata)
    /// when the value does not serialize to JSON, and by
    /// [`Tenancy::metadata`](crate::Tenancy::metadata) when the stored
    /// metadata does not fit the type asked for.
    #[error("metadata of tenant {tenant} does not fit")]
    Metadata {
        /// The tenant.
        tenant: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// An error from the database, unchanged.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A stable, matchable code for each [`enum@Error`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// [`Error::InvalidTenantName`]
    InvalidTenantName,
    /// [`Error::TenantNotFound`]
    TenantNotFound,
    /// [`Error::TenantExists`]
    TenantExists,
    /// [`Error::TenantSuspended`]
    TenantSuspended,
    /// [`Error::TenantProvisioning`]
    TenantProvisioning,
    /// [`Error::NoTenant`]
    NoTenant,
    /// [`Error::CrossTenantReference`]
    CrossTenantReference,
    /// [`Error::UnregisteredTable`]
    UnregisteredTable,
    /// [`Error::InvalidDomain`]
    InvalidDomain,
    /// [`Error::DomainTaken`]
    DomainTaken,
    /// [`Error::Config`]
    Config,
    /// [`Error::Migration`]
    Migration,
    /// [`Error::Metadata`]
    Metadata,
    /// [`Error::Db`]
    Db,
}

const CODES: [(ErrorCode, &str); 14] = [
    (ErrorCode::Migration, "migration"),
    (ErrorCode::InvalidTenantName, "invalid_tenant_name"),
    (ErrorCode::TenantNotFound, "tenant_not_found"),
    (ErrorCode::TenantExists, "tenant_exists"),
    (ErrorCode::TenantSuspended, "tenant_suspended"),
    (ErrorCode::TenantProvisioning, "tenant_provisioning"),
    (ErrorCode::NoTenant, "no_tenant"),
    (ErrorCode::CrossTenantReference, "cross_tenant_reference"),
    (ErrorCode::UnregisteredTable, "unregistered_table"),
    (ErrorCode::InvalidDomain, "invalid_domain"),
    (ErrorCode::DomainTaken, "domain_taken"),
    (ErrorCode::Config, "config"),
    (ErrorCode::Metadata, "metadata"),
    (ErrorCode::Db, "db"),
];

impl ErrorCode {
    /// The code as a short snake_case string, stable across releases
    /// (suitable for JSON error bodies).
    pub fn as_str(self) -> &'static str {
        CODES
            .iter()
            .find(|(code, _)| *code == self)
            .map_or("db", |(_, s)| s)
    }
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidTenantName { .. } => ErrorCode::InvalidTenantName,
            Error::TenantNotFound { .. } => ErrorCode::TenantNotFound,
            Error::TenantExists { .. } => ErrorCode::TenantExists,
            Error::TenantSuspended { .. } => ErrorCode::TenantSuspended,
            Error::TenantProvisioning { .. } => ErrorCode::TenantProvisioning,
            Error::NoTenant => ErrorCode::NoTenant,
            Error::CrossTenantReference { .. } => ErrorCode::CrossTenantReference,
            Error::UnregisteredTable { .. } => ErrorCode::UnregisteredTable,
            Error::InvalidDomain { .. } => ErrorCode::InvalidDomain,
            Error::DomainTaken { .. } => ErrorCode::DomainTaken,
            Error::Config(_) => ErrorCode::Config,
            Error::Migration { .. } => ErrorCode::Migration,
            Error::Metadata { .. } => ErrorCode::Metadata,
            Error::Db(_) => ErrorCode::Db,
        }
    }

    /// Recovers the code of a `tenancy` error that crossed a SeaORM trait as a
    /// [`DbErr`]; `None` for any other `DbErr`.
    ///
    /// # Examples
    /// ```
    /// use tenancy::{Error, ErrorCode};
    /// let db_err: sea_orm::DbErr = Error::NoTenant.into();
    /// assert_eq!(Error::code_of(&db_err), Some(ErrorCode::NoTenant));
    /// ```
    pub fn code_of(err: &DbErr) -> Option<ErrorCode> {
        let DbErr::Custom(text) = err else {
            return None;
        };
        let rest = text.strip_prefix("tenancy[")?;
        let (code, _) = rest.split_once(']')?;
        CODES.iter().find(|(_, s)| *s == code).map(|(c, _)| *c)
    }

    /// Whether the tenant does not exist (unknown to the registry).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::TenantNotFound { .. })
    }

    /// Whether the tenant already exists.
    pub fn is_exists(&self) -> bool {
        matches!(self, Error::TenantExists { .. })
    }

    /// Whether the tenant name was refused by validation.
    pub fn is_invalid_name(&self) -> bool {
        matches!(self, Error::InvalidTenantName { .. })
    }
}

impl From<Error> for DbErr {
    fn from(err: Error) -> Self {
        match err {
            Error::Db(db) => db,
            other => DbErr::Custom(format!("tenancy[{}]: {other}", other.code().as_str())),
        }
    }
}
