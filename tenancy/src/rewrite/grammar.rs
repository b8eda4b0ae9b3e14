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

    /// A common table expression's name: visible at once in `WITH
    /// RECURSIVE`, after its body otherwise.
    fn cte_name(&mut self, span: (usize, usize)) {
        let st = &mut self.st;
        st.cte_next = false;
        st.prev = Kw::Other;
        if st.recursive {
            st.ctes.push((span.0, span.1, st.depth));
        } else {
            st.pending_cte = Some((span, st.depth, false));
        }
    }

    /// A word inside a SQLite trigger's body: only its end matters.
    fn trigger_body_word(&mut self, kw: Kw) {
        let st = &mut self.st;
        match kw {
            Kw::Case => st.case_depth += 1,
            Kw::End if st.case_depth > 0 => st.case_depth -= 1,
            Kw::End => st.trigger_body = false,
            _ => {}
        }
        st.prev = kw;
    }

    /// After `(` in table position: whether the parenthesis holds table
    /// references (`FROM (a JOIN b)`) rather than a subquery.
    fn paren_holds_tables(&self) -> bool {
        let mut peek = self.sc;
        match peek.next() {
            Tok::Quoted(..) | Tok::Punct(b'(') => true,
            tok @ Tok::Word(s, e) => {
                matches!(
                    keyword(&self.sc.b[s..e]),
                    Kw::Other | Kw::Only | Kw::Lateral
                ) || self.is_registered(tok)
            }
            _ => false,
        }
    }

    fn on_keyword(&mut self, kw: Kw, after_paren: bool) {
        let st = &mut self.st;
        let d = st.depth;
        let verb = matches!(
            kw,
            Kw::Select | Kw::Insert | Kw::Update | Kw::Delete | Kw::Merge
        );
        // The statement's verb: its first keyword, or the one after a
        // `WITH` list (`WITH .. DELETE FROM t USING u`).
        let first = st.first == Kw::None || (st.first == Kw::With && d == 0 && verb);
        if first {
            st.first = kw;
        }
        if verb {
            st.cte_list &= !bit(d);
        }
        if matches!(kw, Kw::Delete | Kw::Merge) {
            st.delete_at |= bit(d);
        }
        let dialect = self.route.dialect;
        let ddl_verb = matches!(st.first, Kw::Create | Kw::Drop | Kw::Alter | Kw::Rename);
        let table = |st: &mut State, ddl: bool| {
            st.expect_table = true;
            st.via = kw;
            st.ddl = ddl;
        };
        match kw {
            Kw::From => {
                let in_fn = st.from_fn & bit(d) != 0;
                if st.prev != Kw::Distinct && !in_fn {
                    table(st, false);
                    st.list |= bit(d);
                }
            }
            Kw::Table | Kw::Truncate => {
                st.create_table |= st.first == Kw::Create && d == 0;
                table(st, ddl_verb);
                // `DROP TABLE a, b`, `TRUNCATE a, b`; in `ALTER TABLE t ADD
                // .., ADD ..` a comma starts another operation.
                if !matches!(st.first, Kw::Create | Kw::Alter) {
                    st.list |= bit(d);
                }
            }
            Kw::Temporary if st.first == Kw::Create => st.temporary = true,
            // SQLite: `CREATE TRIGGER .. BEGIN stmt; stmt; END`.
            Kw::Begin if dialect == Dialect::Sqlite && st.trigger_stmt => {
                st.trigger_body = true;
            }
            Kw::Tables => {
                table(st, false);
                st.list |= bit(d);
            }
            Kw::View | Kw::Sequence if ddl_verb => table(st, true),
            Kw::Join | Kw::Into => table(st, false),
            // `SELECT STRAIGHT_JOIN ...` is a modifier; elsewhere a join that
            // also ends the comma list.
            Kw::StraightJoin => {
                if st.prev != Kw::Select {
                    table(st, false);
                }
                st.list &= !bit(d);
            }
            // MySQL: `INTO` is optional (`INSERT t`, `REPLACE IGNORE t`).
            Kw::Insert if dialect == Dialect::MySql && st.first == Kw::Insert && d == 0 => {
                table(st, false);
            }
            Kw::Update if !matches!(st.prev, Kw::For | Kw::Key | Kw::Do | Kw::On) => {
                table(st, false);
                // MySQL: `UPDATE a, b SET ..` updates several tables.
                if dialect == Dialect::MySql && st.first == Kw::Update && d == 0 {
                    st.list |= bit(d);
                }
            }
            // MySQL: `DELETE t1, t2 FROM ..` names the tables (or aliases)
            // to delete from before `FROM`.
            Kw::Delete if dialect == Dialect::MySql && first && d == 0 => {
                table(st, false);
                st.list |= bit(d);
            }
            Kw::References if dialect != Dialect::Sqlite => table(st, true),
            Kw::On if (st.index_stmt || st.trigger_stmt) && dialect != Dialect::Sqlite => {
                table(st, true);
            }
            Kw::Index => {
                st.index_stmt |= d == 0 && ddl_verb;
                // PostgreSQL `DROP INDEX [CONCURRENTLY] [IF EXISTS] name`
                // names an index of a schema; SQLite qualifies the index
                // (not its table) with the schema both live in.
                let named = match dialect {
                    Dialect::Postgres => st.first == Kw::Drop,
                    Dialect::Sqlite => ddl_verb,
                    Dialect::MySql => false,
                };
                if named && d == 0 {
                    table(st, true);
                }
            }
            Kw::Trigger => {
                st.trigger_stmt |= d == 0 && ddl_verb;
                // MySQL and SQLite: a trigger lives with its table, and its
                // name carries the qualifier.
                if dialect != Dialect::Postgres && d == 0 && ddl_verb {
                    table(st, true);
                }
            }
            // `CREATE TABLE t (LIKE s ..)`, MySQL `CREATE TABLE t LIKE s`.
            Kw::Like if st.create_table && (d == 0 || (d == 1 && st.prev == Kw::None)) => {
                table(st, true);
            }
            Kw::Describe if first && d == 0 && dialect == Dialect::MySql => table(st, false),
            Kw::Analyze if first && d == 0 && dialect == Dialect::Postgres => {
                table(st, false);
                st.list |= bit(d);
            }
            Kw::Using if st.delete_at & bit(d) != 0 => {
                table(st, false);
                st.list |= bit(d);
            }
            Kw::To | Kw::As => {
                if kw == Kw::As
                    && let Some((_, depth, after_as)) = &mut st.pending_cte
                    && *depth == d
                {
                    *after_as = true;
                }
                if dialect == Dialect::MySql
                    && (st.prev == Kw::Rename || (kw == Kw::To && st.first == Kw::Rename))
                {
                    table(st, true);
                }
            }
            // A `WITH` list opens a statement or a parenthesis; elsewhere
            // `WITH` is `WITH ORDINALITY`, `WITH TIME ZONE`, `WITH CHECK ..`.
            Kw::With if first || after_paren => {
                st.cte_next = true;
                st.cte_list |= bit(d);
            }
            Kw::Recursive => st.recursive |= st.prev == Kw::With,

            Kw::EndList | Kw::For => st.list &= !bit(d),
            _ => {}
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
