//! What each keyword does to the grammar's state: which names it puts in
//! table position, the statement's verb, common table expressions, and the
//! parenthesis and trigger-body cases.

use super::{
    grammar::Rewriter,
    keyword::{Kw, keyword},
    scan::Tok,
    state::{State, bit},
};
use crate::dialect::Dialect;

impl Rewriter<'_, '_> {
    /// A common table expression's name: visible at once in `WITH
    /// RECURSIVE`, after its body otherwise.
    pub(super) fn cte_name(&mut self, span: (usize, usize)) {
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
    pub(super) fn trigger_body_word(&mut self, kw: Kw) {
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
    pub(super) fn paren_holds_tables(&self) -> bool {
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

    pub(super) fn on_keyword(&mut self, kw: Kw, after_paren: bool) {
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
        // `REFRESH MATERIALIZED VIEW v` names a view like DDL does.
        let ddl_verb = matches!(
            st.first,
            Kw::Create | Kw::Drop | Kw::Alter | Kw::Rename | Kw::Refresh
        );
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
}
