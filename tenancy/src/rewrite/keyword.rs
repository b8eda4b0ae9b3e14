//! The keywords the grammar acts on, recognised without allocating.

/// The keywords the rewriter acts on; every other word is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Kw {
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
    /// `WITH`: common table expressions follow.
    With,
    /// `RECURSIVE`, after `WITH`.
    Recursive,
    /// `VIEW` (`CREATE [MATERIALIZED] VIEW v`, `DROP VIEW v`).
    View,
    /// `SEQUENCE`.
    Sequence,
    /// `TRIGGER`.
    Trigger,
    /// `DESCRIBE`, `DESC` (MySQL, first in a statement).
    Describe,
    /// `REFRESH` (PostgreSQL `REFRESH MATERIALIZED VIEW v`).
    Refresh,
    /// `ANALYZE`, `ANALYSE` (PostgreSQL, first in a statement).
    Analyze,
    /// `TABLES` (MySQL `LOCK TABLES t READ, u WRITE`).
    Tables,
    /// `LIKE` (`CREATE TABLE t (LIKE s)`, MySQL `CREATE TABLE t LIKE s`).
    Like,
    /// `LATERAL`, which precedes a subquery or a function.
    Lateral,
    /// `TEMP`, `TEMPORARY`.
    Temporary,
    /// `BEGIN` (a SQLite trigger's body).
    Begin,
    /// `END`.
    End,
    /// `CASE` (its `END` does not end a trigger's body).
    Case,
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

pub(super) fn keyword(word: &[u8]) -> Kw {
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
    const CONCURRENTLY: u128 = pack(b"CONCURRENTLY");
    const VERBOSE: u128 = pack(b"VERBOSE");
    const DUPLICATE: u128 = pack(b"DUPLICATE");
    const OUTFILE: u128 = pack(b"OUTFILE");
    const DUMPFILE: u128 = pack(b"DUMPFILE");
    const WITH: u128 = pack(b"WITH");
    const RECURSIVE: u128 = pack(b"RECURSIVE");
    const VIEW: u128 = pack(b"VIEW");
    const SEQUENCE: u128 = pack(b"SEQUENCE");
    const TRIGGER: u128 = pack(b"TRIGGER");
    const DESCRIBE: u128 = pack(b"DESCRIBE");
    const REFRESH: u128 = pack(b"REFRESH");
    const DESC: u128 = pack(b"DESC");
    const ANALYZE: u128 = pack(b"ANALYZE");
    const ANALYSE: u128 = pack(b"ANALYSE");
    const TABLES: u128 = pack(b"TABLES");
    const LIKE: u128 = pack(b"LIKE");
    const LATERAL: u128 = pack(b"LATERAL");
    const TEMP: u128 = pack(b"TEMP");
    const TEMPORARY: u128 = pack(b"TEMPORARY");
    const BEGIN: u128 = pack(b"BEGIN");
    const END: u128 = pack(b"END");
    const CASE: u128 = pack(b"CASE");
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
        IGNORE | LOW_PRIORITY | HIGH_PRIORITY | DELAYED | QUICK | CONCURRENTLY | VERBOSE => {
            Kw::Modifier
        }
        WITH => Kw::With,
        RECURSIVE => Kw::Recursive,
        VIEW => Kw::View,
        SEQUENCE => Kw::Sequence,
        TRIGGER => Kw::Trigger,
        DESCRIBE | DESC => Kw::Describe,
        REFRESH => Kw::Refresh,
        ANALYZE | ANALYSE => Kw::Analyze,
        TABLES => Kw::Tables,
        LIKE => Kw::Like,
        LATERAL => Kw::Lateral,
        TEMP | TEMPORARY => Kw::Temporary,
        BEGIN => Kw::Begin,
        END => Kw::End,
        CASE => Kw::Case,
        WHERE | GROUP | ORDER | HAVING | LIMIT | OFFSET | UNION | EXCEPT | INTERSECT | SET
        | RETURNING | VALUES | WINDOW | FETCH | INNER | LEFT | RIGHT | FULL | CROSS | NATURAL
        | CASCADE | RESTRICT | LOCK | DUPLICATE | OUTFILE | DUMPFILE => Kw::EndList,
        _ => Kw::Other,
    }
}
