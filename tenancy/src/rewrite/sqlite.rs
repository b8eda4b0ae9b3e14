//! What only SQLite needs: foreign keys into the shared file cut from
//! tenant DDL (SQLite cannot enforce them across files), and indexes and
//! triggers named in the schema of their table.

use super::{
    grammar::Rewriter,
    keyword::{Kw, keyword},
    scan::Tok,
};
use crate::{dialect::Dialect, registry::Scope};

/// One column or table constraint of a SQLite `CREATE TABLE`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Item {
    /// The comma before it (none for the first).
    pub(super) comma: Option<usize>,
    pub(super) kind: ItemKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ItemKind {
    Unknown,
    Column,
    Constraint,
}

impl Rewriter<'_, '_> {
    /// SQLite cannot enforce a foreign key into another database file, and
    /// refuses a qualified `REFERENCES` target: a foreign key from a tenant
    /// table to a shared table is cut from tenant DDL (the relation itself
    /// still works in queries).
    pub(super) fn sqlite_item_word(&mut self, kw: Kw, start: usize) {
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

    pub(super) fn sqlite_item_punct(&mut self, c: u8, at: usize) {
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

    /// SQLite `CREATE INDEX`/`CREATE TRIGGER`: whether the table after the
    /// statement's `ON` is shared.
    pub(super) fn on_table_is_shared(&self) -> bool {
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
}
