//! Which tables are tenant-scoped and which are shared.

use rustc_hash::FxHashMap as HashMap;

use crate::error::{Error, Result};

/// Where an entity's table lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// One table per tenant, in the tenant's home.
    Tenant,
    /// One table for everyone, in the shared home.
    Shared,
    /// Left exactly as written, wherever the connection's session finds it
    /// (an explicit opt-out of strict routing for one table, e.g. a view or
    /// a table the database resolves itself). Register with
    /// [`TenancyBuilder::table`](crate::TenancyBuilder::table).
    Passthrough,
}

/// Implemented by `#[derive(TenantScoped)]`: the entity's table and scope.
///
/// # Examples
/// ```
/// use sea_orm::entity::prelude::*;
/// use tenancy::{Scope, TenantScoped};
///
/// #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
/// #[sea_orm(table_name = "plans")]
/// #[shared]
/// pub struct Model {
///     #[sea_orm(primary_key)]
///     pub id: i32,
/// }
/// # #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)] pub enum Relation {}
/// # impl ActiveModelBehavior for ActiveModel {}
///
/// assert_eq!(<Model as TenantScoped>::TABLE_NAME, "plans");
/// assert_eq!(<Model as TenantScoped>::SCOPE, Scope::Shared);
/// ```
pub trait TenantScoped {
    /// The table name, as in `#[sea_orm(table_name = "...")]`.
    const TABLE_NAME: &'static str;
    /// Tenant-scoped or shared.
    const SCOPE: Scope;
}

/// One registered table, collected at link time with `inventory`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Registration {
    /// The table name.
    pub table: &'static str,
    /// Its scope.
    pub scope: Scope,
    /// Where it was declared, for error messages.
    pub module: &'static str,
}

inventory::collect!(Registration);

/// The library's own tables (see `store/`), both shared.
pub(crate) const TENANTS_TABLE: &str = "tenancy_tenants";
/// Custom domains, see `store/domains.rs`.
pub(crate) const DOMAINS_TABLE: &str = "tenancy_domains";

/// The tables a [`Tenancy`](crate::Tenancy) routes, frozen at build time.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    exact: HashMap<Box<str>, Scope>,
    folded: HashMap<Box<str>, Scope>,
    max_len: usize,
    /// Whether a table in none of the maps is refused (strict routing).
    strict: bool,
}

impl Registry {
    /// All entities registered with `#[derive(TenantScoped)]` in the binary,
    /// the library's own tables, and `extra`.
    pub(crate) fn collect(extra: &[(String, Scope)], strict: bool) -> Result<Self> {
        let mut registry = Registry {
            strict,
            ..Registry::default()
        };
        registry.insert(TENANTS_TABLE, Scope::Shared)?;
        registry.insert(DOMAINS_TABLE, Scope::Shared)?;
        for reg in inventory::iter::<Registration> {
            registry.insert(reg.table, reg.scope).map_err(|e| match e {
                Error::Config(msg) => Error::Config(format!("{msg} (declared in {})", reg.module)),
                other => other,
            })?;
        }
        for (table, scope) in extra {
            registry.insert(table, *scope)?;
        }
        Ok(registry)
    }

    pub(crate) fn insert(&mut self, table: &str, scope: Scope) -> Result<()> {
        if let Some(old) = self.exact.insert(table.into(), scope)
            && old != scope
        {
            return Err(Error::Config(format!(
                "table {table} is registered both as tenant-scoped and as shared"
            )));
        }
        self.folded.insert(table.to_ascii_lowercase().into(), scope);
        self.max_len = self.max_len.max(table.len());
        Ok(())
    }

    /// The scope of a table name exactly as spelled.
    pub(crate) fn exact(&self, name: &str) -> Option<Scope> {
        if name.len() > self.max_len {
            return None;
        }
        self.exact.get(name).copied()
    }

    /// The scope of a table name compared without ASCII case.
    pub(crate) fn folded(&self, name: &str) -> Option<Scope> {
        if name.len() > self.max_len {
            return None;
        }
        if !name.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.folded.get(name).copied();
        }
        let mut buf = [0u8; 64];
        let Some(slot) = buf.get_mut(..name.len()) else {
            return self.folded.get(name.to_ascii_lowercase().as_str()).copied();
        };
        slot.copy_from_slice(name.as_bytes());
        slot.make_ascii_lowercase();
        std::str::from_utf8(slot)
            .ok()
            .and_then(|lower| self.folded.get(lower).copied())
    }

    /// Whether tables that are not registered are refused.
    pub(crate) fn is_strict(&self) -> bool {
        self.strict
    }

    /// The registered tables of `scope`, sorted.
    pub(crate) fn tables(&self, scope: Scope) -> Vec<&str> {
        let mut tables: Vec<&str> = self
            .exact
            .iter()
            .filter(|(_, s)| **s == scope)
            .map(|(t, _)| &**t)
            .collect();
        tables.sort_unstable();
        tables
    }

    /// The registered tenant-scoped tables, sorted.
    pub(crate) fn tenant_tables(&self) -> Vec<&str> {
        self.tables(Scope::Tenant)
    }

    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, Scope)]) -> Self {
        Self::from_pairs_strict(pairs, false)
    }

    #[cfg(test)]
    pub(crate) fn from_pairs_strict(pairs: &[(&str, Scope)], strict: bool) -> Self {
        let mut registry = Registry {
            strict,
            ..Registry::default()
        };
        for (t, s) in pairs {
            registry
                .insert(t, *s)
                .expect("no conflicts in test registry");
        }
        registry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_exact_and_folded() {
        let r = Registry::from_pairs(&[("posts", Scope::Tenant), ("Plans", Scope::Shared)]);
        assert_eq!(r.exact("posts"), Some(Scope::Tenant));
        assert_eq!(r.exact("POSTS"), None);
        assert_eq!(r.folded("POSTS"), Some(Scope::Tenant));
        assert_eq!(r.exact("Plans"), Some(Scope::Shared));
        assert_eq!(r.folded("plans"), Some(Scope::Shared));
        assert_eq!(r.folded(&"x".repeat(100)), None);
    }

    #[test]
    fn conflicting_scopes_are_refused() {
        let mut r = Registry::default();
        r.insert("posts", Scope::Tenant).expect("first");
        r.insert("posts", Scope::Tenant)
            .expect("same scope twice is fine");
        assert!(matches!(
            r.insert("posts", Scope::Shared),
            Err(Error::Config(_))
        ));
    }
}
