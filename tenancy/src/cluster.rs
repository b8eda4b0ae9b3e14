//! The words of a distributed deployment (Citus): nodes, how a tenant's
//! data moves between them, and what a cluster refuses that one server
//! accepts. Plain types; the SQL is in `backend/citus.rs`.

use std::fmt;

/// A node of the cluster, as the coordinator's metadata names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Node {
    /// Host name or address.
    pub host: String,
    /// PostgreSQL port.
    pub port: u16,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl std::str::FromStr for Node {
    type Err = String;

    /// `host:port`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| format!("{s:?} is not host:port"))?;
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        if !host_ok {
            return Err(format!("{host:?} is not a host name or address"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{port:?} is not a port"))?;
        Ok(Node {
            host: host.to_owned(),
            port,
        })
    }
}

/// How a tenant's tables are copied to another node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transfer {
    /// Writes to the tenant wait while its tables are copied. Works for
    /// every table; the tenant is read-only for the duration (the default).
    #[default]
    BlockWrites,
    /// Logical replication: the tenant keeps writing while it moves. Every
    /// table of the tenant needs a primary key or a replica identity.
    Online,
}

impl Transfer {
    /// Citus's name for the mode.
    pub(crate) fn citus_mode(self) -> &'static str {
        match self {
            Transfer::BlockWrites => "block_writes",
            Transfer::Online => "force_logical",
        }
    }
}

/// A tenant's tables moving from one node to another.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Move {
    /// The tenant's home (its schema).
    pub home: String,
    /// Where it was.
    pub from: Node,
    /// Where it goes.
    pub to: Node,
}

/// Something a Citus cluster refuses or gets wrong that one PostgreSQL
/// server accepts, found in the catalog before it bites in production.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Lint {
    /// A shared table that is a plain table on the coordinator: tenant
    /// tables cannot have foreign keys into it and joins to it take two
    /// hops. Make it a reference table
    /// (`tenancy::citus::reference_table`).
    LocalSharedTable {
        /// The shared table.
        table: String,
    },
    /// A foreign key from a shared table into a tenant's table: Citus
    /// accepts it on a local table, and it dangles when the tenant's row
    /// goes. Shared rows must not point into a tenant.
    ForeignKeyIntoTenant {
        /// The shared table holding the key.
        table: String,
        /// The constraint.
        constraint: String,
        /// The tenant table it points at (`home.table`).
        references: String,
    },
    /// A key filled from an `integer` or `smallint` sequence (`serial`,
    /// an `i32` identity) in a tenant table: inserts that reach a worker
    /// directly fail, and the key space is small. Use `bigint`
    /// (`i64`, `bigserial`).
    NarrowKey {
        /// The tenant table (unqualified: the same in every tenant).
        table: String,
        /// The column.
        column: String,
        /// Its type.
        type_name: String,
        /// How many tenants have it.
        tenants: u64,
    },
    /// A trigger on a tenant table: Citus refuses to create them unless
    /// `citus.enable_unsafe_triggers` is on, and then does not run them
    /// across nodes.
    Trigger {
        /// The tenant table.
        table: String,
        /// The trigger.
        trigger: String,
        /// How many tenants have it.
        tenants: u64,
    },
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lint::LocalSharedTable { table } => write!(
                f,
                "shared table {table} is local to the coordinator: make it a reference table"
            ),
            Lint::ForeignKeyIntoTenant {
                table,
                constraint,
                references,
            } => write!(
                f,
                "shared table {table} has foreign key {constraint} into tenant table {references}: it dangles when the tenant row goes"
            ),
            Lint::NarrowKey {
                table,
                column,
                type_name,
                tenants,
            } => write!(
                f,
                "tenant table {table} ({tenants} tenants) fills {column} from a sequence of type {type_name}: use bigint"
            ),
            Lint::Trigger {
                table,
                trigger,
                tenants,
            } => write!(
                f,
                "tenant table {table} ({tenants} tenants) has trigger {trigger}: Citus does not run triggers across nodes"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Node;

    #[test]
    fn a_node_parses_from_host_and_port_and_refuses_the_rest() {
        let node: Node = "127.0.0.1:5434".parse().expect("parses");
        assert_eq!((node.host.as_str(), node.port), ("127.0.0.1", 5434));
        assert_eq!(node.to_string(), "127.0.0.1:5434");
        for bad in [
            "",
            "host",
            ":5432",
            "host:",
            "host:0",
            "host:70000",
            "h'ost:1",
            "a b:1",
        ] {
            assert!(bad.parse::<Node>().is_err(), "{bad:?} parsed");
        }
    }
}
