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

    /// Whether `name` is one of the statement's common table expressions.
    pub(super) fn is_cte(&self, name: &str, tok: Tok) -> bool {
        let folds = matches!(
            (self.route.dialect, tok),
            (Dialect::Postgres, Tok::Word(..)) | (Dialect::Sqlite, _)
        );
        self.st.ctes.iter().any(|&(s, e)| {
            let cte = match self.sc.b.get(s) {
                Some(b'"' | b'`' | b'[') => self.name(Tok::Quoted(s, e)),
                _ => self.name(Tok::Word(s, e)),
            };
            cte.is_some_and(|cte| {
                if folds {
                    cte.eq_ignore_ascii_case(name)
                } else {
                    *cte == *name
                }
            })
        })
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
        let Some(name) = self.name(home) else {
            return false;
        };
        let own = &*self.route.tenant_home;
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
