//! Just enough grammar to tell a table from a column, one statement at a
//! time.

use std::borrow::Cow;

use super::{
    CrossTenant, Route,
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
    pub(super) fn finish(mut self) -> Result<Cow<'s, str>, CrossTenant> {
        self.run()?;
        Ok(match self.out {
            None => Cow::Borrowed(self.sql),
            Some(mut out) => {
                out.push_str(&self.sql[self.copied..]);
                Cow::Owned(out)
            }
        })
    }

    fn run(&mut self) -> Result<(), CrossTenant> {
        loop {
            let tok = self.sc.next();
            match tok {
                Tok::End => return Ok(()),
                Tok::Word(s, e) => {
                    let kw = keyword(&self.sc.b[s..e]);
                    self.sqlite_item_word(kw, s);
                    if self.st.expect_table {
                        match kw {
                            Kw::Only | Kw::If | Kw::Not | Kw::Exists | Kw::Table | Kw::Modifier => {
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

    fn on_keyword(&mut self, kw: Kw) {
        let st = &mut self.st;
        if st.first == Kw::None {
            st.first = kw;
        }
        let d = st.depth;
        let dialect = self.route.dialect;
        match kw {
            Kw::From => {
                let in_fn = st.from_fn & bit(d) != 0;
                if st.prev != Kw::Distinct && !in_fn {
                    st.expect_table = true;
                    st.list |= bit(d);
                }
            }
            Kw::Table | Kw::Truncate => {
                st.create_table |= st.first == Kw::Create && d == 0;
                st.expect_table = true;
                st.list |= bit(d);
            }
            Kw::Join | Kw::Into => st.expect_table = true,
            // `SELECT STRAIGHT_JOIN ...` is a modifier; elsewhere a join that
            // also ends the comma list.
            Kw::StraightJoin => {
                st.expect_table = st.prev != Kw::Select;
                st.list &= !bit(d);
            }
            // MySQL: `INTO` is optional (`INSERT t`, `REPLACE IGNORE t`).
            Kw::Insert => {
                st.expect_table = dialect == Dialect::MySql && st.first == Kw::Insert && d == 0;
            }
            Kw::Update => {
                st.expect_table = !matches!(st.prev, Kw::For | Kw::Key | Kw::Do | Kw::On);
            }
            Kw::References => st.expect_table = dialect != Dialect::Sqlite,
            Kw::On => st.expect_table = st.index_stmt && dialect != Dialect::Sqlite,
            Kw::Index => {
                st.index_stmt |= d == 0 && matches!(st.first, Kw::Create | Kw::Drop);
            }
            Kw::Using => {
                if matches!(st.first, Kw::Delete | Kw::Merge) {
                    st.expect_table = true;
                    st.list |= bit(d);
                }
            }
            Kw::To | Kw::As => {
                st.expect_table = dialect == Dialect::MySql
                    && (st.prev == Kw::Rename || (kw == Kw::To && st.first == Kw::Rename));
            }
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
        if kw != Kw::References || self.st.cut.is_some() {
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
            }
            b',' => st.expect_table = st.list & bit(st.depth) != 0,
            b';' => self.st = State::default(),
            _ => {}
        }
    }

    /// The name `tok` stands in table position.
    fn table_ref(&mut self, tok: Tok) -> Result<(), CrossTenant> {
        self.st.expect_table = false;
        self.st.prev = Kw::Other;
        let mut peek = self.sc;
        if peek.next() == Tok::Punct(b'.') {
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
            if self.scope(&name, table) == Some(Scope::Tenant) && !self.is_own_home(home) {
                let home = self.name(home).unwrap_or_default();
                return Err(CrossTenant(format!("{home}.{name}")));
            }
            return Ok(());
        }
        let Some(name) = self.name(tok) else {
            return Ok(());
        };
        let prefix = match self.scope(&name, tok) {
            Some(Scope::Tenant) => self.route.tenant_prefix.as_deref(),
            Some(Scope::Shared) => self.route.shared_prefix.as_deref(),
            None => None,
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
