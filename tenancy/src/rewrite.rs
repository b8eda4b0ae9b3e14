//! The statement rewriter: qualifies registered table names where they stand
//! in table position.
//!
//! A small tokenizer walks the SQL once. It knows quoted identifiers, string
//! literals (with each dialect's escapes), comments, dollar-quoted bodies and
//! placeholders, and tracks just enough grammar to tell a table from a column:
//! the word after `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE`, `TRUNCATE`,
//! `REFERENCES`, `USING` (in `DELETE`/`MERGE`), `ON` (in `CREATE`/`DROP INDEX`),
//! and the items of a `FROM` list. Known traps are handled: `ON DUPLICATE KEY
//! UPDATE col`, `FOR UPDATE OF t`, `DO UPDATE`, `ON UPDATE CASCADE`,
//! `IS DISTINCT FROM`, `EXTRACT(x FROM col)`.
//!
//! Pure functions, no I/O; when nothing changes the input is returned
//! borrowed and nothing is allocated.

use std::borrow::Cow;

use crate::registry::{Registry, Scope};

/// The SQL dialect, for quoting and tokenizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

impl Dialect {
    /// `name` quoted as an identifier of this dialect.
    pub(crate) fn quote(self, name: &str) -> String {
        let q = if self == Dialect::MySql { '`' } else { '"' };
        let mut out = String::with_capacity(name.len() + 2);
        out.push(q);
        for c in name.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }
}

/// Where one tenant's statements go.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) dialect: Dialect,
    /// Prefix written before tenant tables, e.g. `"tenant_acme".`; `None`
    /// leaves them as written (SQLite, where the pool is the tenant's file).
    pub(crate) tenant_prefix: Option<Box<str>>,
    /// The one qualifier a statement may spell out on a tenant table.
    pub(crate) tenant_home: Box<str>,
    /// Prefix written before shared tables; `None` leaves them as written.
    pub(crate) shared_prefix: Option<Box<str>>,
}

impl Route {
    pub(crate) fn new(
        dialect: Dialect,
        tenant_home: &str,
        qualify_tenant: bool,
        shared_home: Option<&str>,
    ) -> Self {
        let prefix = |home: &str| format!("{}.", dialect.quote(home)).into_boxed_str();
        Route {
            dialect,
            tenant_prefix: qualify_tenant.then(|| prefix(tenant_home)),
            tenant_home: tenant_home.into(),
            shared_prefix: shared_home.map(prefix),
        }
    }
}

/// A table reference the route refuses: a tenant table qualified with a home
/// that is not the route's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrossTenant(pub(crate) String);

/// Rewrites `sql` for `route`.
///
/// # Errors
/// [`CrossTenant`] when the statement spells out another home for a tenant table.
pub(crate) fn rewrite<'s>(
    sql: &'s str,
    registry: &Registry,
    route: &Route,
) -> Result<Cow<'s, str>, CrossTenant> {
    let mut rw = Rewriter {
        sc: Scanner {
            b: sql.as_bytes(),
            i: 0,
            dialect: route.dialect,
        },
        sql,
        registry,
        route,
        out: None,
        copied: 0,
        st: State::default(),
    };
    rw.run()?;
    Ok(match rw.out {
        None => Cow::Borrowed(sql),
        Some(mut out) => {
            out.push_str(&sql[rw.copied..]);
            Cow::Owned(out)
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// A bare word: keyword or unquoted identifier.
    Word(usize, usize),
    /// A quoted identifier, span including the quotes.
    Quoted(usize, usize),
    /// One of `( ) , . ;`
    Punct(u8),
    /// Anything else: literals, numbers, operators, placeholders.
    Other,
    End,
}

#[derive(Debug, Clone, Copy)]
struct Scanner<'s> {
    b: &'s [u8],
    i: usize,
    dialect: Dialect,
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

impl Scanner<'_> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// Index of the first byte after the closing `close`, honouring doubled
    /// closers and (when `backslash`) backslash escapes.
    fn skip_quoted(&self, mut i: usize, close: u8, backslash: bool) -> usize {
        loop {
            let rest = self.b.get(i..).unwrap_or_default();
            let found = if backslash {
                rest.iter().position(|&c| c == close || c == b'\\')
            } else {
                rest.iter().position(|&c| c == close)
            };
            let Some(offset) = found else {
                return self.b.len();
            };
            let at = i + offset;
            if self.b[at] == close && self.at(at + 1) != close {
                return at + 1;
            }
            i = at + 2;
        }
    }

    fn skip_line(&self, i: usize) -> usize {
        let rest = self.b.get(i..).unwrap_or_default();
        memchr::memchr(b'\n', rest).map_or(self.b.len(), |offset| i + offset)
    }

    fn skip_block_comment(&self, mut i: usize) -> usize {
        let nests = self.dialect == Dialect::Postgres;
        let mut depth = 1usize;
        while i < self.b.len() {
            if self.b[i] == b'*' && self.at(i + 1) == b'/' {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            } else if nests && self.b[i] == b'/' && self.at(i + 1) == b'*' {
                depth += 1;
                i += 2;
            } else {
                i += 1;
            }
        }
        self.b.len()
    }

    /// PostgreSQL `$tag$ ... $tag$` starting at `i` (on the first `$`), or
    /// `None` when this `$` does not open one.
    fn skip_dollar_quoted(&self, i: usize) -> Option<usize> {
        let mut j = i + 1;
        while j < self.b.len() && (self.b[j].is_ascii_alphanumeric() || self.b[j] == b'_') {
            j += 1;
        }
        if self.at(j) != b'$' || self.at(i + 1).is_ascii_digit() {
            return None;
        }
        let tag = &self.b[i..=j];
        let mut k = j + 1;
        while k + tag.len() <= self.b.len() {
            if self.b[k] == b'$' && &self.b[k..k + tag.len()] == tag {
                return Some(k + tag.len());
            }
            k += 1;
        }
        Some(self.b.len())
    }

    fn next(&mut self) -> Tok {
        let mysql = self.dialect == Dialect::MySql;
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Tok::End;
            };
            let start = self.i;
            // The common bytes first: a predictable branch beats the jump table.
            if c == b' ' {
                self.i += 1;
                continue;
            }
            match c {
                b'\t' | b'\n' | b'\r' | b'\x0c' => self.i += 1,
                b'-' if self.at(start + 1) == b'-' && (!mysql || self.at(start + 2) <= b' ') => {
                    self.i = self.skip_line(start);
                }
                b'#' if mysql => self.i = self.skip_line(start),
                b'/' if self.at(start + 1) == b'*' => {
                    self.i = self.skip_block_comment(start + 2);
                }
                b'\'' => {
                    self.i = self.skip_quoted(start + 1, b'\'', mysql);
                    return Tok::Other;
                }
                b'"' if mysql => {
                    self.i = self.skip_quoted(start + 1, b'"', true);
                    return Tok::Other;
                }
                b'"' => {
                    self.i = self.skip_quoted(start + 1, b'"', false);
                    return Tok::Quoted(start, self.i);
                }
                b'`' if self.dialect != Dialect::Postgres => {
                    self.i = self.skip_quoted(start + 1, b'`', false);
                    return Tok::Quoted(start, self.i);
                }
                b'[' if self.dialect == Dialect::Sqlite => {
                    let end = self.b[start..]
                        .iter()
                        .position(|&x| x == b']')
                        .map_or(self.b.len(), |p| start + p + 1);
                    self.i = end;
                    return Tok::Quoted(start, end);
                }
                b'$' if self.dialect == Dialect::Postgres => {
                    if let Some(end) = self.skip_dollar_quoted(start) {
                        self.i = end;
                    } else {
                        self.i += 1;
                        while self.at(self.i).is_ascii_digit() {
                            self.i += 1;
                        }
                    }
                    return Tok::Other;
                }
                b'(' | b')' | b',' | b'.' | b';' => {
                    self.i += 1;
                    return Tok::Punct(c);
                }
                c if is_word_start(c) => {
                    let rest = &self.b[start + 1..];
                    let j = start
                        + 1
                        + rest
                            .iter()
                            .position(|&c| !is_word_byte(c))
                            .unwrap_or(rest.len());
                    // PostgreSQL E'...' strings take backslash escapes.
                    if self.dialect == Dialect::Postgres
                        && j == start + 1
                        && (c == b'e' || c == b'E')
                        && self.at(j) == b'\''
                    {
                        self.i = self.skip_quoted(j + 1, b'\'', true);
                        return Tok::Other;
                    }
                    self.i = j;
                    return Tok::Word(start, j);
                }
                c if c.is_ascii_digit() => {
                    let mut j = start + 1;
                    while j < self.b.len()
                        && (self.b[j].is_ascii_alphanumeric() || self.b[j] == b'_')
                    {
                        j += 1;
                    }
                    self.i = j;
                    return Tok::Other;
                }
                _ => {
                    self.i += 1;
                    return Tok::Other;
                }
            }
        }
    }
}

/// The keywords the rewriter acts on; every other word is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Kw {
    #[default]
    None,
    Other,
    Select,
    Insert,
    Update,
    Delete,
    Create,
    Drop,
    Alter,
    Merge,
    Rename,
    Truncate,
    From,
    Join,
    Into,
    Table,
    References,
    On,
    Using,
    To,
    As,
    Index,
    Distinct,
    For,
    Key,
    Do,
    Only,
    If,
    Not,
    Exists,
    Constraint,
    Foreign,
    /// Functions whose arguments use `FROM` for a value: EXTRACT, SUBSTRING...
    FromFn,
    /// MySQL `STRAIGHT_JOIN`: a join, or a `SELECT` modifier.
    StraightJoin,
    /// MySQL modifiers between a verb and its table: `IGNORE`, `LOW_PRIORITY`...
    Modifier,
    /// Keywords that end a `FROM` list.
    EndList,
}

/// A word's bytes packed into an integer, ASCII letters folded to upper
/// case; words longer than 16 bytes are no keyword.
const fn pack(word: &[u8]) -> u128 {
    let mut key = 0u128;
    let mut i = 0;
    while i < word.len() {
        key |= ((word[i] & !0x20) as u128) << (8 * i);
        i += 1;
    }
    key
}

fn keyword(word: &[u8]) -> Kw {
    const SELECT: u128 = pack(b"SELECT");
    const INSERT: u128 = pack(b"INSERT");
    const REPLACE: u128 = pack(b"REPLACE");
    const UPDATE: u128 = pack(b"UPDATE");
    const DELETE: u128 = pack(b"DELETE");
    const CREATE: u128 = pack(b"CREATE");
    const DROP: u128 = pack(b"DROP");
    const ALTER: u128 = pack(b"ALTER");
    const MERGE: u128 = pack(b"MERGE");
    const RENAME: u128 = pack(b"RENAME");
    const TRUNCATE: u128 = pack(b"TRUNCATE");
    const FROM: u128 = pack(b"FROM");
    const JOIN: u128 = pack(b"JOIN");
    const INTO: u128 = pack(b"INTO");
    const TABLE: u128 = pack(b"TABLE");
    const REFERENCES: u128 = pack(b"REFERENCES");
    const ON: u128 = pack(b"ON");
    const USING: u128 = pack(b"USING");
    const TO: u128 = pack(b"TO");
    const AS: u128 = pack(b"AS");
    const INDEX: u128 = pack(b"INDEX");
    const DISTINCT: u128 = pack(b"DISTINCT");
    const FOR: u128 = pack(b"FOR");
    const KEY: u128 = pack(b"KEY");
    const DO: u128 = pack(b"DO");
    const ONLY: u128 = pack(b"ONLY");
    const IF: u128 = pack(b"IF");
    const NOT: u128 = pack(b"NOT");
    const EXISTS: u128 = pack(b"EXISTS");
    const CONSTRAINT: u128 = pack(b"CONSTRAINT");
    const FOREIGN: u128 = pack(b"FOREIGN");
    const EXTRACT: u128 = pack(b"EXTRACT");
    const SUBSTRING: u128 = pack(b"SUBSTRING");
    const SUBSTR: u128 = pack(b"SUBSTR");
    const TRIM: u128 = pack(b"TRIM");
    const OVERLAY: u128 = pack(b"OVERLAY");
    const POSITION: u128 = pack(b"POSITION");
    const WHERE: u128 = pack(b"WHERE");
    const GROUP: u128 = pack(b"GROUP");
    const ORDER: u128 = pack(b"ORDER");
    const HAVING: u128 = pack(b"HAVING");
    const LIMIT: u128 = pack(b"LIMIT");
    const OFFSET: u128 = pack(b"OFFSET");
    const UNION: u128 = pack(b"UNION");
    const EXCEPT: u128 = pack(b"EXCEPT");
    const INTERSECT: u128 = pack(b"INTERSECT");
    const SET: u128 = pack(b"SET");
    const RETURNING: u128 = pack(b"RETURNING");
    const VALUES: u128 = pack(b"VALUES");
    const WINDOW: u128 = pack(b"WINDOW");
    const FETCH: u128 = pack(b"FETCH");
    const INNER: u128 = pack(b"INNER");
    const LEFT: u128 = pack(b"LEFT");
    const RIGHT: u128 = pack(b"RIGHT");
    const FULL: u128 = pack(b"FULL");
    const CROSS: u128 = pack(b"CROSS");
    const NATURAL: u128 = pack(b"NATURAL");
    const STRAIGHT_JOIN: u128 = pack(b"STRAIGHT_JOIN");
    const CASCADE: u128 = pack(b"CASCADE");
    const RESTRICT: u128 = pack(b"RESTRICT");
    const LOCK: u128 = pack(b"LOCK");
    const IGNORE: u128 = pack(b"IGNORE");
    const LOW_PRIORITY: u128 = pack(b"LOW_PRIORITY");
    const HIGH_PRIORITY: u128 = pack(b"HIGH_PRIORITY");
    const DELAYED: u128 = pack(b"DELAYED");
    const QUICK: u128 = pack(b"QUICK");
    if word.len() < 2 || word.len() > 16 {
        return Kw::Other;
    }
    match pack(word) {
        SELECT => Kw::Select,
        INSERT | REPLACE => Kw::Insert,
        UPDATE => Kw::Update,
        DELETE => Kw::Delete,
        CREATE => Kw::Create,
        DROP => Kw::Drop,
        ALTER => Kw::Alter,
        MERGE => Kw::Merge,
        RENAME => Kw::Rename,
        TRUNCATE => Kw::Truncate,
        FROM => Kw::From,
        JOIN => Kw::Join,
        INTO => Kw::Into,
        TABLE => Kw::Table,
        REFERENCES => Kw::References,
        ON => Kw::On,
        USING => Kw::Using,
        TO => Kw::To,
        AS => Kw::As,
        INDEX => Kw::Index,
        DISTINCT => Kw::Distinct,
        FOR => Kw::For,
        KEY => Kw::Key,
        DO => Kw::Do,
        ONLY => Kw::Only,
        IF => Kw::If,
        NOT => Kw::Not,
        EXISTS => Kw::Exists,
        CONSTRAINT => Kw::Constraint,
        FOREIGN => Kw::Foreign,
        EXTRACT | SUBSTRING | SUBSTR | TRIM | OVERLAY | POSITION => Kw::FromFn,
        STRAIGHT_JOIN => Kw::StraightJoin,
        IGNORE | LOW_PRIORITY | HIGH_PRIORITY | DELAYED | QUICK => Kw::Modifier,
        WHERE | GROUP | ORDER | HAVING | LIMIT | OFFSET | UNION | EXCEPT | INTERSECT | SET
        | RETURNING | VALUES | WINDOW | FETCH | INNER | LEFT | RIGHT | FULL | CROSS | NATURAL
        | CASCADE | RESTRICT | LOCK => Kw::EndList,
        _ => Kw::Other,
    }
}

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

struct Rewriter<'s, 'r> {
    sc: Scanner<'s>,
    sql: &'s str,
    registry: &'r Registry,
    route: &'r Route,
    out: Option<String>,
    copied: usize,
    st: State,
}

impl<'s> Rewriter<'s, '_> {
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

#[cfg(test)]
mod tests;
