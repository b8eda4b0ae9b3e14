//! Names: unquoting, scopes, the statement's own names, system catalogs.

use std::borrow::Cow;

use super::{grammar::Rewriter, scan::Tok};
use crate::{dialect::Dialect, registry::Scope};

impl<'s> Rewriter<'s, '_> {
    /// Whether unregistered tables are refused on this route: strict
    /// routing, and a tenant's statement (the library's own statements on
    /// the shared home name only its own tables).
    pub(super) fn strict(&self) -> bool {
        self.registry.is_strict() && !self.route.tenant_home.is_empty()
    }

    /// Whether `name` (spelled by `tok`) is one of the visible common table
    /// expressions, compared as the database compares them: PostgreSQL
    /// folds unquoted names to lower case, SQLite ignores ASCII case, MySQL
    /// compares as written.
    pub(super) fn is_cte(&self, name: &str, tok: Tok) -> bool {
        let quoted = matches!(tok, Tok::Quoted(..));
        self.st.ctes.iter().any(|&(s, e, _)| {
            let cte_quoted = matches!(self.sc.b.get(s), Some(b'"' | b'`' | b'['));
            let cte_tok = if cte_quoted {
                Tok::Quoted(s, e)
            } else {
                Tok::Word(s, e)
            };
            self.name(cte_tok)
                .is_some_and(|cte| match self.route.dialect {
                    Dialect::Sqlite => cte.eq_ignore_ascii_case(name),
                    Dialect::MySql => *cte == *name,
                    Dialect::Postgres => folded_eq(name, quoted, &cte, cte_quoted),
                })
        })
    }

    /// Whether `tok` names a registered table.
    pub(super) fn is_registered(&self, tok: Tok) -> bool {
        self.name(tok)
            .is_some_and(|name| self.scope(&name, tok).is_some())
    }

    /// Whether a qualifier names the shared home.
    pub(super) fn is_shared_home(&self, home: Tok) -> bool {
        self.names_home(home, &self.route.shared_home)
    }

    /// A qualifier naming one of the dialect's system schemas.
    pub(super) fn is_system_schema(&self, home: Tok) -> bool {
        self.name(home).is_some_and(|home| {
            self.route
                .catalogs
                .schemas
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&home))
        })
    }

    /// An unqualified system table of the dialect.
    pub(super) fn is_system_table(&self, name: &str) -> bool {
        let catalogs = &self.route.catalogs;
        catalogs.tables.iter().any(|t| t.eq_ignore_ascii_case(name))
            || catalogs.prefixes.iter().any(|prefix| {
                name.as_bytes()
                    .get(..prefix.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
            })
    }

    /// The identifier a token names, unquoted.
    pub(super) fn name(&self, tok: Tok) -> Option<Cow<'s, str>> {
        match tok {
            Tok::Word(s, e) => Some(Cow::Borrowed(&self.sql[s..e])),
            Tok::Quoted(s, e) => {
                let q = self.sc.b[s];
                let close = if q == b'[' { b']' } else { q };
                if e < s + 2 || self.sc.b.get(e - 1) != Some(&close) {
                    return None; // unterminated
                }
                let inner = &self.sql[s + 1..e - 1];
                let quote = close as char;
                if q != b'[' && inner.contains(quote) {
                    let doubled: String = [quote, quote].iter().collect();
                    Some(Cow::Owned(inner.replace(&doubled, &quote.to_string())))
                } else {
                    Some(Cow::Borrowed(inner))
                }
            }
            _ => None,
        }
    }

    /// Whether a qualifier names this route's tenant home, as the database
    /// will read it (PostgreSQL folds unquoted names to lower case).
    pub(super) fn is_own_home(&self, home: Tok) -> bool {
        self.names_home(home, &self.route.tenant_home)
    }

    /// Whether a qualifier names `own`, as the database will read it.
    fn names_home(&self, home: Tok, own: &str) -> bool {
        let Some(name) = self.name(home) else {
            return false;
        };
        match (self.route.dialect, home) {
            (Dialect::Postgres, Tok::Word(..)) => {
                own.bytes().all(|b| !b.is_ascii_uppercase()) && name.eq_ignore_ascii_case(own)
            }
            _ => *name == *own,
        }
    }

    pub(super) fn scope(&self, name: &str, tok: Tok) -> Option<Scope> {
        match (self.route.dialect, tok) {
            (Dialect::Sqlite, _) => self.registry.folded(name),
            (Dialect::Postgres, Tok::Word(..)) => self.registry.folded(name),
            _ => self.registry.exact(name),
        }
    }
}

/// PostgreSQL's comparison of two names, each folded to lower case unless
/// quoted.
fn folded_eq(a: &str, a_quoted: bool, b: &str, b_quoted: bool) -> bool {
    let lower = |s: &str| !s.bytes().any(|c| c.is_ascii_uppercase());
    match (a_quoted, b_quoted) {
        (false, false) => a.eq_ignore_ascii_case(b),
        (false, true) => lower(b) && a.eq_ignore_ascii_case(b),
        (true, false) => lower(a) && a.eq_ignore_ascii_case(b),
        (true, true) => a == b,
    }
}
