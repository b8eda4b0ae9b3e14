//! Why the command line failed.

use crate::{error::Error, registry::TENANTS_TABLE};

/// Why the command line failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum CliError {
    /// No URL in `-u` or `DATABASE_URL`.
    #[error("set DATABASE_URL or pass -u")]
    NoUrl,
    /// A destructive verb over every tenant without `--force`.
    #[error("refusing `{verb} --all` without --force: it deletes data of every tenant")]
    AllNeedsForce {
        /// The verb.
        verb: &'static str,
    },
    /// `tenant drop` without `--force`.
    #[error("refusing to drop {tenant}: this deletes all its data; pass --force")]
    DropNeedsForce {
        /// The tenant.
        tenant: String,
    },
    /// `fresh`, `refresh` or `reset` with neither `--tenant` nor `--all`.
    #[error("{verb} applies to tenants: pass --tenant NAME or --all")]
    NoTarget {
        /// The verb.
        verb: &'static str,
    },
    /// A read-only verb on a database the registry was never installed in.
    #[error(
        "no tenancy registry in this database ({TENANTS_TABLE} is missing); \
         status and tenant list only read: `up` or `tenant create` installs it"
    )]
    NoRegistry,
    /// The server could not be reached (refused, no answer).
    #[error("cannot connect to the database: {cause}")]
    Unreachable {
        /// Why, from one direct connection attempt.
        cause: String,
    },
    /// A library error.
    #[error(transparent)]
    Tenancy(#[from] Error),
}

impl From<sea_orm::DbErr> for CliError {
    fn from(err: sea_orm::DbErr) -> Self {
        CliError::Tenancy(Error::Db(err))
    }
}
