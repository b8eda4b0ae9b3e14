//! The SQL dialects: identifier quoting and the mapping to SeaORM's
//! [`DbBackend`], written once.

use sea_orm::DbBackend;

use crate::error::{Error, Result};

/// The SQL dialect, for quoting and tokenizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

impl Dialect {
    /// `name` quoted as an identifier of this dialect.
    pub(crate) fn quote(self, name: &str) -> String {
        let q = if self == Dialect::MySql { '`' } else { '"' };
        let mut out = String::with_capacity(name.len() + 2);
        out.push(q);
        for c in name.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// The dialect of a SeaORM backend.
    ///
    /// # Errors
    /// [`Error::Config`] for a backend the crate does not support.
    pub(crate) fn of(backend: DbBackend) -> Result<Self> {
        match backend {
            DbBackend::Postgres => Ok(Dialect::Postgres),
            DbBackend::MySql => Ok(Dialect::MySql),
            DbBackend::Sqlite => Ok(Dialect::Sqlite),
            other => Err(Error::Config(format!(
                "unsupported database backend {}",
                other.as_str()
            ))),
        }
    }

    /// The SeaORM backend of this dialect.
    pub(crate) fn backend(self) -> DbBackend {
        match self {
            Dialect::Postgres => DbBackend::Postgres,
            Dialect::MySql => DbBackend::MySql,
            Dialect::Sqlite => DbBackend::Sqlite,
        }
    }
}
