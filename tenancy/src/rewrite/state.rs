//! The grammar's state for one statement: what the next name is, paren
//! depth in bit masks, and the names the statement defines.

use super::{keyword::Kw, sqlite::Item};

/// Grammar state: one statement at a time, paren depth tracked in bit masks.
#[derive(Debug, Default)]
pub(super) struct State {
    /// The next name is in table position.
    pub(super) expect_table: bool,
    /// The statement's first keyword.
    pub(super) first: Kw,
    /// The previous token's keyword (`None` for punctuation and literals).
    pub(super) prev: Kw,
    /// `CREATE ... INDEX` / `DROP INDEX`: `ON` names a table.
    pub(super) index_stmt: bool,
    pub(super) depth: u32,
    /// Bit d: a comma at depth d starts another table (FROM lists).
    pub(super) list: u64,
    /// Bit d: the parens at depth d are `EXTRACT(...)` and the like.
    pub(super) from_fn: u64,
    /// `CREATE TABLE`.
    pub(super) create_table: bool,
    /// SQLite `CREATE TABLE`: the column or constraint being read.
    pub(super) item: Option<Item>,
    /// SQLite: a foreign key to a shared table being cut, from this offset
    /// to the end of its column or constraint.
    pub(super) cut: Option<usize>,
    /// The keyword that put the next name in table position.
    pub(super) via: Kw,
    /// The name in table position is an object a DDL statement creates,
    /// drops, alters or points at: one the registry does not know belongs
    /// to the tenant (created through its connection), not an error.
    pub(super) ddl: bool,
    /// `CREATE ... TRIGGER` / `DROP TRIGGER`: `ON` names a table.
    pub(super) trigger_stmt: bool,
    /// `CREATE TABLE` of a shared table (SQLite keeps its foreign keys to
    /// other shared tables: they are in the same file).
    pub(super) creating_shared: bool,
    /// The next name is a common table expression's.
    pub(super) cte_next: bool,
    /// `WITH RECURSIVE`: a name is visible in its own body.
    pub(super) recursive: bool,
    /// A non-recursive expression's name, visible once its body closes
    /// (inside the body the same name is the table), with its depth and
    /// whether its `AS` has been read.
    pub(super) pending_cte: Option<((usize, usize), u32, bool)>,
    /// Bit d: a comma at depth d introduces another common table expression.
    pub(super) cte_list: u64,
    /// The names of the statement's common table expressions, which shadow
    /// tables of the same name.
    pub(super) ctes: Ctes,
    /// The previous token was `(`.
    pub(super) after_paren: bool,
    /// Bit d: a `DELETE` or `MERGE` at depth d (its `USING` names tables).
    pub(super) delete_at: u64,
    /// `CREATE TEMP TABLE`: the name is the session's, not a home's.
    pub(super) temporary: bool,
    /// Inside a SQLite trigger's `BEGIN .. END`: names stay as written
    /// (SQLite refuses qualified names there), `;` does not end it.
    pub(super) trigger_body: bool,
    /// `CASE` nesting inside a trigger's body.
    pub(super) case_depth: u32,
}

/// A common table expression's name (its span) and the depth of the query
/// whose `WITH` defines it: visible until that query's parenthesis closes.
pub(super) type Cte = (usize, usize, u32);

/// The visible common table expression names; a few inline, more on the
/// heap.
#[derive(Debug, Default)]
pub(super) struct Ctes {
    pub(super) inline: [Cte; 8],
    pub(super) len: usize,
    pub(super) more: Vec<Cte>,
}

impl Ctes {
    pub(super) fn push(&mut self, cte: Cte) {
        if let Some(slot) = self.inline.get_mut(self.len) {
            *slot = cte;
            self.len += 1;
        } else {
            self.more.push(cte);
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Cte> {
        self.inline[..self.len].iter().chain(&self.more)
    }

    /// Forgets the names defined deeper than `depth` (their query closed).
    pub(super) fn close(&mut self, depth: u32) {
        self.more.retain(|c| c.2 <= depth);
        let mut kept = 0;
        for i in 0..self.len {
            if self.inline[i].2 <= depth {
                self.inline[kept] = self.inline[i];
                kept += 1;
            }
        }
        self.len = kept;
    }
}

pub(super) fn bit(depth: u32) -> u64 {
    1u64.checked_shl(depth).unwrap_or(0)
}
