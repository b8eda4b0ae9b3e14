//! Just enough grammar to tell a table from a column, one statement at a
//! time.

use std::borrow::Cow;

use super::{
    Refused, Route,
    keyword::{Kw, keyword},
    scan::{Scanner, Tok},
};
use crate::{
    dialect::Dialect,
    registry::{Registry, Scope},
};

/// Grammar state: one statement at a time, paren depth tracked in bit masks.
#[derive(Debug, Default)]
struct State {
    /// The next name is in table position.
    expect_table: bool,
    /// The statement's first keyword.
    first: Kw,
    /// The previous token's keyword (`None` for punctuation and literals).
    prev: Kw,
    /// `CREATE ... INDEX` / `DROP INDEX`: `ON` names a table.
    index_stmt: bool,
    depth: u32,
    /// Bit d: a comma at depth d starts another table (FROM lists).
    list: u64,
    /// Bit d: the parens at depth d are `EXTRACT(...)` and the like.
    from_fn: u64,
    /// `CREATE TABLE`.
    create_table: bool,
    /// SQLite `CREATE TABLE`: the column or constraint being read.
    item: Option<Item>,
    /// SQLite: a foreign key to a shared table being cut, from this offset
    /// to the end of its column or constraint.
    cut: Option<usize>,
    /// The keyword that put the next name in table position.
    via: Kw,
    /// The name in table position is an object a DDL statement creates,
    /// drops, alters or points at: one the registry does not know belongs
    /// to the tenant (created through its connection), not an error.
    ddl: bool,
    /// `CREATE ... TRIGGER` / `DROP TRIGGER`: `ON` names a table.
    trigger_stmt: bool,
    /// `CREATE TABLE` of a shared table (SQLite keeps its foreign keys to
    /// other shared tables: they are in the same file).
    creating_shared: bool,
    /// The next name is a common table expression's.
    cte_next: bool,
    /// `WITH RECURSIVE`: a name is visible in its own body.
    recursive: bool,
    /// A non-recursive expression's name, visible once its body closes
    /// (inside the body the same name is the table), with its depth and
    /// whether its `AS` has been read.
    pending_cte: Option<((usize, usize), u32, bool)>,
    /// Bit d: a comma at depth d introduces another common table expression.
    cte_list: u64,
    /// The names of the statement's common table expressions, which shadow
    /// tables of the same name.
    ctes: Ctes,
}

/// Spans of common table expression names; a few inline, more on the heap.
#[derive(Debug, Default)]
struct Ctes {
    inline: [(usize, usize); 8],
    len: usize,
    more: Vec<(usize, usize)>,
}

impl Ctes {
    fn push(&mut self, span: (usize, usize)) {
        if let Some(slot) = self.inline.get_mut(self.len) {
            *slot = span;
            self.len += 1;
        } else {
            self.more.push(span);
        }
    }

    fn iter(&self) -> impl Iterator<Item = &(usize, usize)> {
        self.inline[..self.len].iter().chain(&self.more)
    }
}

/// One column or table constraint of a SQLite `CREATE TABLE`.
#[derive(Debug, Clone, Copy)]
struct Item {
    /// The comma before it (none for the first).
    comma: Option<usize>,
    kind: ItemKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    Unknown,
    Column,
    Constraint,
}

fn bit(depth: u32) -> u64 {
    1u64.checked_shl(depth).unwrap_or(0)
}

pub(super) struct Rewriter<'s, 'r> {
    sc: Scanner<'s>,
    sql: &'s str,
    registry: &'r Registry,
    route: &'r Route,
    out: Option<String>,
    copied: usize,
    st: State,
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
                    let kw = keyword(&self.sc.b[s..e]);
                    self.sqlite_item_word(kw, s);
                    if self.st.cte_next && kw != Kw::Recursive {
                        self.cte_name((s, e));
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
                            _ => self.st.expect_table = false,
                        }
                    }
                    self.on_keyword(kw);
                    self.st.prev = kw;
                }
                Tok::Quoted(s, e) if self.st.cte_next => self.cte_name((s, e)),
                Tok::Quoted(..) => {
                    if self.st.expect_table {
                        self.table_ref(tok)?;
                    } else {
                        self.st.prev = Kw::Other;
                    }
                }
                Tok::Punct(c) => {
                    self.st.expect_table = false;
                    self.sqlite_item_punct(c, self.sc.i - 1);
                    self.on_punct(c);
                    self.st.prev = Kw::None;
                }
                Tok::Other => {
                    self.st.expect_table = false;
                    self.st.prev = Kw::None;
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
            st.ctes.push(span);
        } else {
            st.pending_cte = Some((span, st.depth, false));
        }
    }

    fn on_keyword(&mut self, kw: Kw) {
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
                st.list |= bit(d);
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
            Kw::Using if matches!(st.first, Kw::Delete | Kw::Merge) => {
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
            Kw::With => {
                st.cte_next = true;
                st.cte_list |= bit(d);
            }
            Kw::Recursive => st.recursive |= st.prev == Kw::With,

            Kw::EndList | Kw::For => st.list &= !bit(d),
            _ => {}
        }
    }

    /// SQLite cannot enforce a foreign key into another database file, and
    /// refuses a qualified `REFERENCES` target: a foreign key from a tenant
    /// table to a shared table is cut from tenant DDL (the relation itself
    /// still works in queries).
    fn sqlite_item_word(&mut self, kw: Kw, start: usize) {
        if self.route.dialect != Dialect::Sqlite || self.st.depth != 1 {
            return;
        }
        let Some(item) = &mut self.st.item else {
            return;
        };
        if item.kind == ItemKind::Unknown {
            item.kind = match kw {
                Kw::Constraint | Kw::Foreign => ItemKind::Constraint,
                _ => ItemKind::Column,
            };
        }
        let item = *item;
        if kw != Kw::References || self.st.cut.is_some() || self.st.creating_shared {
            return;
        }
        let mut peek = self.sc;
        let target = peek.next();
        let shared = self
            .name(target)
            .is_some_and(|name| self.scope(&name, target) == Some(Scope::Shared));
        let from = match item.kind {
            ItemKind::Constraint => item.comma,
            _ => Some(start),
        };
        if let Some(from) = from.filter(|&from| shared && from >= self.copied) {
            self.st.cut = Some(from);
        }
    }

    fn sqlite_item_punct(&mut self, c: u8, at: usize) {
        if self.route.dialect != Dialect::Sqlite {
            return;
        }
        match (c, self.st.depth) {
            (b'(', 0) if self.st.create_table && self.st.item.is_none() => {
                self.st.item = Some(Item {
                    comma: None,
                    kind: ItemKind::Unknown,
                });
            }
            (b',' | b')', 1) if self.st.item.is_some() => {
                if let Some(from) = self.st.cut.take() {
                    let out = self
                        .out
                        .get_or_insert_with(|| String::with_capacity(self.sql.len()));
                    out.push_str(&self.sql[self.copied..from]);
                    self.copied = at;
                }
                self.st.item = (c == b',').then_some(Item {
                    comma: Some(at),
                    kind: ItemKind::Unknown,
                });
            }
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
                st.depth = st.depth.saturating_sub(1);
                if let Some((span, depth, true)) = st.pending_cte
                    && depth == st.depth
                {
                    st.ctes.push(span);
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
            b';' => self.st = State::default(),
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
            return match scope {
                Some(Scope::Tenant) if !self.is_own_home(home) => {
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

    /// SQLite `CREATE INDEX`/`CREATE TRIGGER`: whether the table after the
    /// statement's `ON` is shared.
    fn on_table_is_shared(&self) -> bool {
        let mut peek = self.sc;
        let mut depth = 0u32;
        loop {
            match peek.next() {
                Tok::End | Tok::Punct(b';') => return false,
                Tok::Punct(b'(') => depth += 1,
                Tok::Punct(b')') => depth = depth.saturating_sub(1),
                Tok::Word(s, e) if depth == 0 && keyword(&self.sc.b[s..e]) == Kw::On => {
                    let table = peek.next();
                    return self
                        .name(table)
                        .is_some_and(|name| self.scope(&name, table) == Some(Scope::Shared));
                }
                _ => {}
            }
        }
    }

    /// Whether unregistered tables are refused on this route: strict
    /// routing, and a tenant's statement (the library's own statements on
    /// the shared home name only its own tables).
    fn strict(&self) -> bool {
        self.registry.is_strict() && !self.route.tenant_home.is_empty()
    }

    /// Whether `name` is one of the statement's common table expressions.
    fn is_cte(&self, name: &str, tok: Tok) -> bool {
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

    /// A qualifier naming a system schema: `pg_catalog`,
    /// `information_schema`; MySQL's `mysql`, `performance_schema`, `sys`.
    fn is_system_schema(&self, home: Tok) -> bool {
        let Some(home) = self.name(home) else {
            return false;
        };
        let home = home.to_ascii_lowercase();
        match self.route.dialect {
            Dialect::Postgres => {
                matches!(home.as_str(), "pg_catalog" | "information_schema")
            }
            Dialect::MySql => matches!(
                home.as_str(),
                "information_schema" | "mysql" | "performance_schema" | "sys"
            ),
            Dialect::Sqlite => false,
        }
    }

    /// An unqualified system table: PostgreSQL's `pg_*` catalogs (always
    /// found first), SQLite's `sqlite_*`, MySQL's `dual`.
    fn is_system_table(&self, name: &str) -> bool {
        let lower = |prefix: &str| {
            name.as_bytes()
                .get(..prefix.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
        };
        match self.route.dialect {
            Dialect::Postgres => lower("pg_"),
            Dialect::Sqlite => lower("sqlite_"),
            Dialect::MySql => name.eq_ignore_ascii_case("dual"),
        }
    }

    /// The identifier a token names, unquoted.
    fn name(&self, tok: Tok) -> Option<Cow<'s, str>> {
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
    fn is_own_home(&self, home: Tok) -> bool {
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

    fn scope(&self, name: &str, tok: Tok) -> Option<Scope> {
        match (self.route.dialect, tok) {
            (Dialect::Sqlite, _) => self.registry.folded(name),
            (Dialect::Postgres, Tok::Word(..)) => self.registry.folded(name),
            _ => self.registry.exact(name),
        }
    }
}
