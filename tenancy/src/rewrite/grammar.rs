//! Just enough grammar to tell a table from a column, one statement at a
//! time.

use std::borrow::Cow;

use super::{
    Refused, Route,
    keyword::{Kw, keyword},
    scan::{Scanner, Tok},
    state::{State, bit},
};
use crate::{
    dialect::Dialect,
    registry::{Registry, Scope},
};

/// One statement (or several) being rewritten.
pub(super) struct Rewriter<'s, 'r> {
    pub(super) sc: Scanner<'s>,
    pub(super) sql: &'s str,
    pub(super) registry: &'r Registry,
    pub(super) route: &'r Route,
    pub(super) out: Option<String>,
    pub(super) copied: usize,
    pub(super) st: State,
}

impl<'s, 'r> Rewriter<'s, 'r> {
    pub(super) fn new(sql: &'s str, registry: &'r Registry, route: &'r Route) -> Self {
        Rewriter {
            sc: Scanner::new(sql.as_bytes(), route.dialect),
            sql,
            registry,
            route,
            out: None,
            copied: 0,
            st: State::default(),
        }
    }

    /// Runs over the whole statement; the input borrowed when nothing changed.
    pub(super) fn finish(mut self) -> Result<Cow<'s, str>, Refused> {
        self.run()?;
        Ok(match self.out {
            None => Cow::Borrowed(self.sql),
            Some(mut out) => {
                out.push_str(&self.sql[self.copied..]);
                Cow::Owned(out)
            }
        })
    }

    fn run(&mut self) -> Result<(), Refused> {
        loop {
            let tok = self.sc.next();
            match tok {
                Tok::End => return Ok(()),
                Tok::Word(s, e) => {
                    let after_paren = std::mem::take(&mut self.st.after_paren);
                    let kw = keyword(&self.sc.b[s..e]);
                    self.sqlite_item_word(kw, s);
                    if self.st.trigger_body {
                        self.trigger_body_word(kw);
                        continue;
                    }
                    if self.st.expect_table {
                        match kw {
                            Kw::Only
                            | Kw::If
                            | Kw::Not
                            | Kw::Exists
                            | Kw::Table
                            | Kw::Modifier
                            | Kw::Lateral => {
                                self.st.prev = kw;
                                continue;
                            }
                            Kw::Other => {
                                self.table_ref(tok)?;
                                continue;
                            }
                            // A registered table spelled like a keyword.
                            _ if self.is_registered(tok) => {
                                self.table_ref(tok)?;
                                continue;
                            }
                            _ => self.st.expect_table = false,
                        }
                    }
                    if self.st.cte_next && kw != Kw::Recursive {
                        self.cte_name((s, e));
                        continue;
                    }
                    self.on_keyword(kw, after_paren);
                    self.st.prev = kw;
                }
                Tok::Quoted(s, e) => {
                    self.st.after_paren = false;
                    if self.st.trigger_body {
                        self.st.prev = Kw::Other;
                    } else if self.st.expect_table {
                        self.table_ref(tok)?;
                    } else if self.st.cte_next {
                        self.cte_name((s, e));
                    } else {
                        self.st.prev = Kw::Other;
                    }
                }
                Tok::Punct(c) => {
                    // `FROM (a JOIN b)`: the parenthesis holds tables, not a
                    // subquery.
                    let holds_tables = c == b'('
                        && self.st.expect_table
                        && !self.st.trigger_body
                        && self.paren_holds_tables();
                    self.st.expect_table = false;
                    self.sqlite_item_punct(c, self.sc.i - 1);
                    self.on_punct(c);
                    if holds_tables {
                        self.st.expect_table = true;
                        self.st.list |= bit(self.st.depth);
                    }
                    self.st.prev = Kw::None;
                    self.st.after_paren = c == b'(';
                }
                Tok::Other => {
                    self.st.expect_table = false;
                    self.st.prev = Kw::None;
                    self.st.after_paren = false;
                }
            }
        }
    }

    fn on_punct(&mut self, c: u8) {
        let st = &mut self.st;
        match c {
            b'(' => {
                st.depth += 1;
                if st.prev == Kw::FromFn {
                    st.from_fn |= bit(st.depth);
                }
            }
            b')' => {
                st.from_fn &= !bit(st.depth);
                st.list &= !bit(st.depth);
                st.delete_at &= !bit(st.depth);
                st.cte_list &= !bit(st.depth);
                st.depth = st.depth.saturating_sub(1);
                st.ctes.close(st.depth);
                if let Some((span, depth, true)) = st.pending_cte
                    && depth == st.depth
                {
                    st.ctes.push((span.0, span.1, depth));
                    st.pending_cte = None;
                }
            }
            b',' => {
                st.expect_table = st.list & bit(st.depth) != 0;
                if st.expect_table && st.via != Kw::Delete {
                    st.via = Kw::From;
                }
                st.cte_next = st.cte_list & bit(st.depth) != 0;
            }
            b';' if !st.trigger_body => self.st = State::default(),
            _ => {}
        }
    }

    /// The name `tok` stands in table position.
    fn table_ref(&mut self, tok: Tok) -> Result<(), Refused> {
        self.st.expect_table = false;
        self.st.prev = Kw::Other;
        let mut peek = self.sc;
        let after = peek.next();
        if after == Tok::Punct(b'.') {
            // Already qualified: accept it only if it is not a tenant table
            // somewhere other than this tenant's home. In `a.b.c` (PostgreSQL
            // allows the current database in front) the table is the last
            // part and its home the one before.
            let (mut home, mut table) = (tok, peek.next());
            loop {
                let mut further = peek;
                if further.next() != Tok::Punct(b'.') {
                    break;
                }
                (home, table) = (table, further.next());
                peek = further;
            }
            self.sc = peek;
            let Some(name) = self.name(table) else {
                return Ok(());
            };
            let scope = self.scope(&name, table);
            if self.st.via == Kw::Table && self.st.create_table {
                self.st.creating_shared = scope == Some(Scope::Shared);
            }
            let own = self.is_own_home(home);
            return match scope {
                Some(Scope::Tenant) if !own => {
                    let home = self.name(home).unwrap_or_default();
                    Err(Refused::CrossTenant(format!("{home}.{name}")))
                }
                // A shared table spelled in a home that is neither this
                // tenant's nor the shared one.
                Some(Scope::Shared)
                    if self.strict()
                        && !own
                        && !self.is_shared_home(home)
                        && !self.is_system_schema(home) =>
                {
                    let home = self.name(home).unwrap_or_default();
                    Err(Refused::CrossTenant(format!("{home}.{name}")))
                }
                None if self.strict()
                    && !self.is_own_home(home)
                    && !self.is_system_schema(home) =>
                {
                    let home = self.name(home).unwrap_or_default();
                    Err(Refused::Unregistered(format!("{home}.{name}")))
                }
                _ => Ok(()),
            };
        }
        let Some(name) = self.name(tok) else {
            return Ok(());
        };
        if self.is_cte(&name, tok) {
            return Ok(());
        }
        let scope = self.scope(&name, tok);
        if self.st.via == Kw::Table && self.st.create_table {
            self.st.creating_shared = scope == Some(Scope::Shared);
        }
        let prefix = match scope {
            // `CREATE TEMP TABLE t`: the session's, in no home.
            _ if self.st.temporary && self.st.via == Kw::Table => None,
            // SQLite: an index or trigger is named in its table's schema.
            _ if self.route.dialect == Dialect::Sqlite
                && matches!(self.st.via, Kw::Index | Kw::Trigger) =>
            {
                if self.st.first == Kw::Create && self.on_table_is_shared() {
                    self.route.shared_prefix.as_deref()
                } else {
                    self.route.tenant_prefix.as_deref()
                }
            }
            Some(Scope::Tenant) => self.route.tenant_prefix.as_deref(),
            Some(Scope::Shared) => self.route.shared_prefix.as_deref(),
            Some(_) => None,
            // An object a tenant's DDL creates, drops or points at is the
            // tenant's own, in its home.
            None if self.st.ddl && self.strict() => self.route.tenant_prefix.as_deref(),
            None => {
                // A table function (`FROM generate_series(1, 3)`), an alias
                // in MySQL's multi-table `DELETE` list, or a system catalog.
                let function = after == Tok::Punct(b'(')
                    && matches!(self.st.via, Kw::From | Kw::Join | Kw::Using);
                let alias = self.st.via == Kw::Delete;
                if self.strict() && !function && !alias && !self.is_system_table(&name) {
                    return Err(Refused::Unregistered(name.into_owned()));
                }
                None
            }
        };
        if let (Some(prefix), Tok::Word(start, _) | Tok::Quoted(start, _)) = (prefix, tok) {
            let out = self
                .out
                .get_or_insert_with(|| String::with_capacity(self.sql.len() + 2 * prefix.len()));
            out.push_str(&self.sql[self.copied..start]);
            out.push_str(prefix);
            self.copied = start;
        }
        Ok(())
    }
}
