//! Test cases for the `rewrite` target, generated from fuzz bytes.
//!
//! Byte 0 picks the dialect, byte 1 the homes, byte 2 the mode: mostly
//! SeaORM-shaped statements from a small grammar over a fixed registry
//! (tables as written, upper-cased, quoted, qualified; strings, comments,
//! dollar quotes and placeholders that spell out table names), sometimes a
//! soup of the tokens the rewriter reacts to, sometimes the raw bytes as
//! text.

use super::bytes::Bytes;

/// Tenant-scoped tables of the fuzz registry.
pub(crate) const TENANT_TABLES: &[&str] = &["cake", "fruit", "cake_filling", "Order", "user"];
/// Shared tables of the fuzz registry.
pub(crate) const SHARED_TABLES: &[&str] = &["plans", "tenancy_tenants", "Country"];
/// Tables outside the registry, some close to registered names.
const OTHER_TABLES: &[&str] = &["cakes", "other", "x", "cake2", "fruit_cake", "tenant_acme"];
/// Tenant homes the route may use.
const TENANT_HOMES: &[&str] = &["tenant_acme", "tenant_Acme", "t-1", "tenant_b"];
/// Shared homes the route may use.
const SHARED_HOMES: &[&str] = &["public", "shared", "Shared-Db"];
/// Qualifiers that belong to nobody here, or to someone else.
const OTHER_HOMES: &[&str] = &["tenant_evil", "TENANT_ACME", "main", "temp", "public"];
const COLUMNS: &[&str] = &[
    "id",
    "name",
    "cake_id",
    "price",
    "cake",
    "fruit",
    "key",
    "updated_at",
    "plans",
];

/// The dialect index of [`tenancy::__fuzz::DIALECTS`].
pub(crate) const POSTGRES: usize = 0;
/// MySQL.
pub(crate) const MYSQL: usize = 1;
/// SQLite.
pub(crate) const SQLITE: usize = 2;

/// One input of the `rewrite` target.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) dialect: usize,
    pub(crate) tenant_home: &'static str,
    pub(crate) shared_home: &'static str,
    pub(crate) sql: String,
}

impl Case {
    /// Decodes an input.
    pub(crate) fn from_bytes(data: &[u8]) -> Self {
        let mut b = Bytes::new(data);
        let dialect = b.below(3);
        let homes = b.u8();
        let tenant_home = TENANT_HOMES[usize::from(homes) % TENANT_HOMES.len()];
        let shared_home = SHARED_HOMES[usize::from(homes >> 4) % SHARED_HOMES.len()];
        let mode = b.below(10);
        let mut g = Gen {
            b,
            d: dialect,
            tenant_home,
            shared_home,
            out: String::new(),
            fuel: 400,
        };
        match mode {
            7 => g.soup(),
            8 => g.out = String::from_utf8_lossy(g.b.rest()).into_owned(),
            _ => {
                g.statements();
                if mode == 9 {
                    let tail = String::from_utf8_lossy(g.b.rest()).into_owned();
                    g.out.push_str(&tail);
                }
            }
        }
        Case {
            dialect,
            tenant_home,
            shared_home,
            sql: g.out,
        }
    }
}

struct Gen<'a> {
    b: Bytes<'a>,
    d: usize,
    tenant_home: &'static str,
    shared_home: &'static str,
    out: String,
    fuel: u32,
}

impl Gen<'_> {
    fn w(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.b.below(xs.len())]
    }

    /// Whether to take an optional part (about 1 in `n`).
    fn maybe(&mut self, n: usize) -> bool {
        self.b.below(n) == 1
    }

    /// Whether a loop goes on: stops on byte 0 and when the fuel runs out.
    fn more(&mut self) -> bool {
        self.fuel = self.fuel.saturating_sub(1);
        self.fuel > 0 && self.b.below(3) == 1
    }

    fn deeper(&mut self, depth: u32) -> bool {
        self.fuel = self.fuel.saturating_sub(1);
        depth < 4 && self.fuel > 0
    }

    /// Whitespace, sometimes a comment that spells out SQL.
    fn sp(&mut self) {
        match self.b.below(24) {
            1 => self.w("\n"),
            2 => self.w("\t"),
            3 => self.w("/* FROM cake */ "),
            4 => self.w(" -- JOIN fruit\n"),
            5 => self.w(" /* /* UPDATE cake */ FROM fruit */ "),
            6 if self.d == MYSQL => self.w(" # FROM cake\n"),
            7 => self.w(" --FROM cake\n"),
            8 => self.w("/**/"),
            9 => self.w(" /* ' */ "),
            _ => self.w(" "),
        }
    }

    fn quoted(&mut self, name: &str, alt: bool) {
        let (open, close) = match (self.d, alt) {
            (MYSQL, false) => ('`', '`'),
            (MYSQL, true) | (POSTGRES, _) | (SQLITE, false) => ('"', '"'),
            _ => *[('[', ']'), ('`', '`')]
                .get(self.b.below(2))
                .unwrap_or(&('[', ']')),
        };
        self.out.push(open);
        for c in name.chars() {
            if c == close && open != '[' {
                self.out.push(c);
            }
            self.out.push(c);
        }
        self.out.push(close);
    }

    /// `name` as written, in another case, or quoted.
    fn ident(&mut self, name: &str) {
        if name == "Order" {
            // A reserved word: SeaORM always quotes it.
            return self.quoted(name, false);
        }
        match self.b.below(10) {
            1 => self.w(&name.to_ascii_uppercase()),
            2 => {
                let mut chars = name.chars();
                let first = chars.next().map(|c| c.to_ascii_uppercase());
                self.out.extend(first);
                self.out.extend(chars);
            }
            3..=5 => self.quoted(name, false),
            6 => self.quoted(name, true),
            7 => self.quoted(&name.to_ascii_uppercase(), false),
            _ => self.w(name),
        }
    }

    fn table_name(&mut self) -> &'static str {
        match self.b.below(8) {
            0..=3 => self.pick(TENANT_TABLES),
            4 | 5 => self.pick(SHARED_TABLES),
            _ => self.pick(OTHER_TABLES),
        }
    }

    /// A table reference, sometimes qualified.
    fn table(&mut self) {
        match self.b.below(14) {
            1 => {
                let home = self.tenant_home;
                self.quoted(home, false);
                self.w(".");
            }
            2 => {
                let home = self.pick(OTHER_HOMES);
                self.ident(home);
                self.w(".");
            }
            3 => {
                let home = self.shared_home;
                self.ident(home);
                self.w(".");
            }
            4 => {
                let home = self.tenant_home;
                self.w(home);
                self.w(".");
            }
            5 => {
                // Three parts: database, schema, table.
                self.w("fuzz.");
                let home = self.pick(OTHER_HOMES);
                self.ident(home);
                self.w(".");
            }
            6 => {
                let home = self.tenant_home;
                self.quoted(home, false);
                self.sp();
                self.w(".");
                self.sp();
            }
            _ => {}
        }
        let name = self.table_name();
        self.ident(name);
    }

    fn column(&mut self) {
        if self.maybe(4) {
            let table = self.table_name();
            self.ident(table);
            self.w(".");
        }
        let column = self.pick(COLUMNS);
        self.ident(column);
    }

    fn literal(&mut self) {
        let common: &[&str] = &[
            "1",
            "'FROM cake'",
            "'it''s JOIN fruit'",
            "''",
            "2.5",
            "NULL",
            "TRUE",
            "'a\\'",
            "'x' 'y'",
            "1e3",
        ];
        let own: &[&str] = match self.d {
            POSTGRES => &[
                "$1",
                "E'\\' FROM cake'",
                "$$ FROM cake $$",
                "$t$ FROM cake $$ $t$",
                "$2",
                "E'\\\\'",
                "'{1,2}'::int[]",
                "U&'d\\0061t'",
            ],
            MYSQL => &[
                "?",
                "\"FROM cake\"",
                "'a\\' FROM cake'",
                "\"a\\\" JOIN fruit\"",
                "X'0A'",
                "_utf8mb4'x'",
                "b'01'",
                "@v",
            ],
            _ => &["?", "?1", ":name", "@p", "X'0A'", "$v", "'a''b'", "?2"],
        };
        if self.maybe(2) {
            let s = self.pick(common);
            self.w(s);
        } else {
            let s = self.pick(own);
            self.w(s);
        }
    }

    fn expr(&mut self, depth: u32) {
        if !self.deeper(depth) {
            return self.atom();
        }
        match self.b.below(20) {
            1 | 2 => {
                self.expr(depth + 1);
                let op = self.pick(&[
                    " = ", " <> ", " AND ", " OR ", " + ", " || ", " < ", " LIKE ",
                ]);
                self.w(op);
                self.expr(depth + 1);
            }
            3 => {
                self.w("NOT ");
                self.expr(depth + 1);
            }
            4 => {
                let f = self.pick(&["lower", "COUNT", "coalesce", "MAX", "abs"]);
                self.w(f);
                self.w("(");
                self.expr(depth + 1);
                self.w(")");
            }
            5 => {
                self.w("EXTRACT(YEAR FROM ");
                self.column();
                self.w(")");
            }
            6 => {
                self.w("SUBSTRING(");
                self.column();
                self.w(" FROM 1 FOR 2)");
            }
            7 => {
                self.w("TRIM(BOTH 'x' FROM ");
                self.column();
                self.w(")");
            }
            8 => {
                self.column();
                self.w(" IS DISTINCT FROM ");
                self.column();
            }
            9 => {
                self.column();
                self.w(" IN (");
                self.select(depth + 1);
                self.w(")");
            }
            10 => {
                self.w("EXISTS (");
                self.select(depth + 1);
                self.w(")");
            }
            11 => {
                self.w("(");
                self.expr(depth + 1);
                self.w(")");
            }
            12 => {
                self.w("CAST(");
                self.expr(depth + 1);
                self.w(" AS INTEGER)");
            }
            13 => {
                self.w("CASE WHEN ");
                self.expr(depth + 1);
                self.w(" THEN ");
                self.expr(depth + 1);
                self.w(" ELSE ");
                self.expr(depth + 1);
                self.w(" END");
            }
            14 => {
                self.column();
                self.w(" IN (");
                self.literal();
                self.w(", ");
                self.literal();
                self.w(")");
            }
            15 => {
                self.w("(");
                self.select(depth + 1);
                self.w(")");
            }
            16 => {
                self.w("POSITION('a' IN ");
                self.column();
                self.w(")");
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) {
        if self.maybe(2) {
            self.literal();
        } else {
            self.column();
        }
    }

    fn alias(&mut self) {
        match self.b.below(6) {
            1 => self.w(" AS t1"),
            2 => self.w(" c"),
            3 => {
                self.w(" AS ");
                let name = self.table_name();
                self.ident(name);
            }
            _ => {}
        }
    }

    fn table_item(&mut self, depth: u32) {
        match self.b.below(10) {
            1 if self.deeper(depth) => {
                self.w("(");
                self.select(depth + 1);
                self.w(") AS sub");
            }
            2 if self.d == POSTGRES => {
                self.w("ONLY ");
                self.table();
            }
            3 => {
                self.table();
                self.w("(1)");
            }
            _ => {
                self.table();
                self.alias();
            }
        }
    }

    fn table_list(&mut self, depth: u32) {
        self.table_item(depth);
        while self.more() {
            self.w(",");
            self.sp();
            self.table_item(depth);
        }
        while self.more() {
            let join = self.pick(&[
                " JOIN ",
                " INNER JOIN ",
                " LEFT JOIN ",
                " LEFT OUTER JOIN ",
                " CROSS JOIN ",
                " NATURAL JOIN ",
                " STRAIGHT_JOIN ",
                " FULL JOIN ",
            ]);
            self.w(join);
            self.table_item(depth);
            match self.b.below(4) {
                0 | 1 => {
                    self.w(" ON ");
                    self.expr(depth + 1);
                }
                2 => self.w(" USING (id)"),
                _ => {}
            }
        }
    }

    fn columns(&mut self, depth: u32) {
        if self.maybe(3) {
            self.w("*");
            return;
        }
        self.expr(depth + 1);
        if self.maybe(3) {
            self.w(" AS \"A\"");
        }
        while self.more() {
            self.w(", ");
            self.expr(depth + 1);
        }
    }

    fn select(&mut self, depth: u32) {
        if depth == 0 && self.maybe(8) {
            self.w("WITH ");
            let name = self.table_name();
            self.ident(name);
            self.w(" AS (");
            self.select(depth + 1);
            self.w(") ");
        }
        self.w("SELECT");
        self.sp();
        if self.maybe(6) {
            self.w("DISTINCT ");
        }
        self.columns(depth);
        self.sp();
        self.w("FROM");
        self.sp();
        self.table_list(depth);
        if self.maybe(2) {
            self.w(" WHERE ");
            self.expr(depth + 1);
        }
        if self.maybe(6) {
            self.w(" GROUP BY ");
            self.column();
            if self.maybe(2) {
                self.w(" HAVING COUNT(*) > 1");
            }
        }
        if self.maybe(3) {
            self.w(" ORDER BY ");
            self.column();
            let dir = self.pick(&["", " ASC", " DESC"]);
            self.w(dir);
        }
        if self.maybe(3) {
            self.w(" LIMIT ");
            self.literal();
            if self.maybe(2) {
                self.w(" OFFSET 2");
            }
        }
        if depth == 0 {
            match self.b.below(8) {
                1 => self.w(" FOR UPDATE"),
                2 => {
                    self.w(" FOR UPDATE OF ");
                    let name = self.table_name();
                    self.ident(name);
                }
                3 => self.w(" FOR SHARE"),
                4 => self.w(" LOCK IN SHARE MODE"),
                5 => {
                    let op = self.pick(&[" UNION ", " UNION ALL ", " EXCEPT "]);
                    self.w(op);
                    self.select(depth + 1);
                }
                _ => {}
            }
        }
    }

    fn assignments(&mut self) {
        let column = self.pick(COLUMNS);
        self.ident(column);
        self.w(" = ");
        self.expr(1);
        while self.more() {
            self.w(", ");
            let column = self.pick(COLUMNS);
            self.ident(column);
            self.w(" = ");
            self.expr(1);
        }
    }

    fn returning(&mut self) {
        if self.d != MYSQL && self.maybe(3) {
            self.w(" RETURNING ");
            self.columns(1);
        }
    }

    fn insert(&mut self) {
        let verb = match self.d {
            MYSQL => self.pick(&["INSERT INTO ", "REPLACE INTO ", "INSERT IGNORE INTO "]),
            SQLITE => self.pick(&["INSERT INTO ", "INSERT OR REPLACE INTO ", "REPLACE INTO "]),
            _ => "INSERT INTO ",
        };
        self.w(verb);
        self.table();
        if self.d == POSTGRES && self.maybe(4) {
            self.w(" AS c");
        }
        self.w(" (");
        let column = self.pick(COLUMNS);
        self.ident(column);
        while self.more() {
            self.w(", ");
            let column = self.pick(COLUMNS);
            self.ident(column);
        }
        self.w(")");
        self.sp();
        if self.maybe(4) {
            self.select(1);
        } else {
            self.w("VALUES (");
            self.expr(2);
            while self.more() {
                self.w(", ");
                self.expr(2);
            }
            self.w(")");
        }
        match (self.d, self.b.below(4)) {
            (MYSQL, 1) => {
                self.w(" ON DUPLICATE KEY UPDATE ");
                let column = self.pick(COLUMNS);
                self.ident(column);
                self.w(" = VALUES(");
                self.ident(column);
                self.w(")");
            }
            (MYSQL, _) => {}
            (_, 1) => {
                self.w(" ON CONFLICT (id) DO UPDATE SET ");
                self.assignments();
            }
            (_, 2) => self.w(" ON CONFLICT DO NOTHING"),
            _ => {}
        }
        self.returning();
    }

    fn update(&mut self) {
        self.w("UPDATE ");
        self.table();
        self.alias();
        self.w(" SET ");
        self.assignments();
        if self.d == POSTGRES && self.maybe(4) {
            self.w(" FROM ");
            self.table_list(1);
        }
        if self.maybe(2) {
            self.w(" WHERE ");
            self.expr(1);
        }
        self.returning();
    }

    fn delete(&mut self) {
        self.w("DELETE FROM ");
        self.table();
        if self.d == POSTGRES && self.maybe(4) {
            self.w(" USING ");
            self.table_list(1);
        }
        if self.maybe(2) {
            self.w(" WHERE ");
            self.expr(1);
        }
        self.returning();
    }

    fn references(&mut self) {
        self.w(" REFERENCES ");
        self.table();
        self.w(" (id)");
        match self.b.below(4) {
            1 => self.w(" ON DELETE CASCADE"),
            2 => self.w(" ON UPDATE CASCADE"),
            3 => self.w(" ON DELETE SET NULL ON UPDATE RESTRICT"),
            _ => {}
        }
    }

    fn column_def(&mut self) {
        let column = self.pick(COLUMNS);
        self.ident(column);
        let ty = self.pick(&[" integer", " text", " varchar(255)", " bigint"]);
        self.w(ty);
        match self.b.below(6) {
            1 => self.w(" NOT NULL"),
            2 => self.w(" PRIMARY KEY"),
            3 => {
                self.w(" DEFAULT ");
                self.literal();
            }
            4 => self.references(),
            _ => {}
        }
    }

    fn create_table(&mut self) {
        self.w("CREATE TABLE ");
        if self.maybe(3) {
            self.w("IF NOT EXISTS ");
        }
        self.table();
        self.w(" (");
        self.column_def();
        while self.more() {
            self.w(",");
            self.sp();
            self.column_def();
        }
        while self.more() {
            self.w(", ");
            if self.maybe(2) {
                self.w("CONSTRAINT \"fk-cake\" ");
            }
            self.w("FOREIGN KEY (cake_id)");
            self.references();
        }
        self.w(")");
    }

    fn statement(&mut self) {
        match self.b.below(16) {
            4 | 5 => self.insert(),
            6 => self.update(),
            7 => self.delete(),
            8 => self.create_table(),
            9 => {
                self.w("CREATE ");
                if self.maybe(2) {
                    self.w("UNIQUE ");
                }
                self.w("INDEX ");
                if self.maybe(3) {
                    self.w("IF NOT EXISTS ");
                }
                self.w("\"idx-cake-name\" ON ");
                self.table();
                self.w(" (name)");
            }
            10 => {
                self.w("DROP TABLE ");
                if self.maybe(2) {
                    self.w("IF EXISTS ");
                }
                self.table();
                while self.more() {
                    self.w(", ");
                    self.table();
                }
                if self.maybe(3) {
                    self.w(" CASCADE");
                }
            }
            11 => {
                self.w("DROP INDEX ");
                if self.maybe(3) {
                    self.w("IF EXISTS ");
                }
                self.w("\"idx-cake-name\"");
                if self.d == MYSQL || self.maybe(4) {
                    self.w(" ON ");
                    self.table();
                }
            }
            12 => {
                self.w("ALTER TABLE ");
                self.table();
                match self.b.below(6) {
                    1 => {
                        self.w(" DROP COLUMN ");
                        let column = self.pick(COLUMNS);
                        self.ident(column);
                    }
                    2 => {
                        let verb = self.pick(&[" RENAME TO ", " RENAME AS "]);
                        self.w(verb);
                        let name = self.table_name();
                        self.ident(name);
                    }
                    3 => self.w(" RENAME COLUMN name TO cake"),
                    4 => {
                        self.w(" ADD CONSTRAINT \"fk-x\" FOREIGN KEY (cake_id)");
                        self.references();
                    }
                    _ => {
                        self.w(" ADD COLUMN ");
                        self.column_def();
                    }
                }
            }
            13 => {
                self.w("TRUNCATE TABLE ");
                self.table();
            }
            14 => {
                self.w("RENAME TABLE ");
                self.table();
                self.w(" TO ");
                self.table();
            }
            15 => self.soup(),
            _ => self.select(0),
        }
    }

    fn statements(&mut self) {
        self.statement();
        while self.more() {
            self.w(";");
            self.sp();
            self.statement();
        }
        if self.maybe(4) {
            self.w(";");
        }
    }

    /// Tokens the rewriter reacts to, in any order.
    fn soup(&mut self) {
        const WORDS: &[&str] = &[
            "SELECT",
            "FROM",
            "JOIN",
            "INTO",
            "UPDATE",
            "TABLE",
            "REFERENCES",
            "ON",
            "USING",
            "DELETE",
            "CREATE",
            "INDEX",
            "DROP",
            "FOR",
            "KEY",
            "DO",
            "DISTINCT",
            "IS",
            "EXTRACT",
            "AS",
            "TO",
            "RENAME",
            "WHERE",
            "SET",
            "ONLY",
            "IF",
            "NOT",
            "EXISTS",
            "CONSTRAINT",
            "FOREIGN",
            "MERGE",
            "INSERT",
            "TRUNCATE",
            "ALTER",
            "(",
            ")",
            ",",
            ".",
            ";",
            "*",
            "=",
            "OF",
            "DUPLICATE",
            "CONFLICT",
            "VALUES",
            "WITH",
            "LATERAL",
        ];
        loop {
            match self.b.below(5) {
                0 | 1 => {
                    let word = self.pick(WORDS);
                    self.w(word);
                }
                2 => self.table(),
                3 => self.literal(),
                _ => self.column(),
            }
            if !self.more() && !self.more() {
                break;
            }
            self.sp();
        }
    }
}
