//! Strict routing, objects created through a tenant, and the statement
//! shapes an outside review found unrouted (issue 10).

use super::*;
use crate::{
    dialect::Dialect,
    registry::{Registry, Scope},
};

pub(super) fn registry() -> Registry {
    Registry::from_pairs_strict(
        &[
            ("posts", Scope::Tenant),
            ("comments", Scope::Tenant),
            ("plans", Scope::Shared),
            ("legacy", Scope::Passthrough),
        ],
        true,
    )
}

// The catalogs the backends supply (`backend/*.rs`).
pub(super) fn pg() -> Route {
    Route::qualified(Dialect::Postgres, "tenant_a", "public").with_catalogs(Catalogs {
        schemas: &["pg_catalog", "information_schema"],
        prefixes: &["pg_"],
        tables: &[],
    })
}

pub(super) fn my() -> Route {
    Route::qualified(Dialect::MySql, "tenant_a", "app").with_catalogs(Catalogs {
        schemas: &["information_schema", "mysql", "performance_schema", "sys"],
        prefixes: &[],
        tables: &["dual"],
    })
}

pub(super) fn lite() -> Route {
    Route::qualified(Dialect::Sqlite, "main", "shared").with_catalogs(Catalogs {
        schemas: &[],
        prefixes: &["sqlite_"],
        tables: &[],
    })
}

#[track_caller]
pub(super) fn check(route: &Route, sql: &str, expected: &str) {
    let got = rewrite(sql, &registry(), route).expect("rewrite");
    assert_eq!(got, expected, "\n  input: {sql}");
}

#[track_caller]
pub(super) fn unregistered(route: &Route, sql: &str, table: &str) {
    assert_eq!(
        rewrite(sql, &registry(), route),
        Err(Refused::Unregistered(table.to_owned())),
        "\n  input: {sql}"
    );
}

#[test]
fn unregistered_tables_are_refused() {
    for route in [pg(), my(), lite()] {
        unregistered(&route, "SELECT * FROM audit", "audit");
        unregistered(&route, "SELECT * FROM posts JOIN audit ON 1 = 1", "audit");
        unregistered(&route, "SELECT * FROM posts, audit", "audit");
        unregistered(&route, "INSERT INTO audit (a) VALUES (1)", "audit");
        unregistered(&route, "UPDATE audit SET a = 1", "audit");
        unregistered(&route, "DELETE FROM audit", "audit");
        unregistered(&route, "SELECT (SELECT 1 FROM audit) FROM posts", "audit");
        unregistered(&route, "TRUNCATE audit", "audit");
    }
    unregistered(&pg(), r#"SELECT * FROM "Audit""#, "Audit");
    unregistered(&pg(), "SELECT * FROM public.audit", "public.audit");
    unregistered(&my(), "SELECT * FROM app.audit", "app.audit");
    // Not refused on the shared route (the library's own statements).
    let shared = Route::shared(Dialect::Postgres, Some("public"));
    assert!(rewrite("SELECT * FROM audit", &registry(), &shared).is_ok());
}

#[test]
fn what_a_statement_defines_and_system_catalogs_pass() {
    for route in [pg(), my(), lite()] {
        check(&route, "SELECT * FROM legacy", "SELECT * FROM legacy");
        check(&route, "SELECT 1", "SELECT 1");
    }
    check(
        &pg(),
        "WITH recent AS (SELECT * FROM posts) SELECT * FROM recent r JOIN plans p ON 1 = 1",
        r#"WITH recent AS (SELECT * FROM "tenant_a".posts) SELECT * FROM recent r JOIN "public".plans p ON 1 = 1"#,
    );
    check(
        &pg(),
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3), u AS (SELECT * FROM comments) SELECT * FROM t, u",
        r#"WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3), u AS (SELECT * FROM "tenant_a".comments) SELECT * FROM t, u"#,
    );
    check(
        &pg(),
        "SELECT * FROM generate_series(1, 3) g, LATERAL unnest(ARRAY[1]) x JOIN LATERAL (SELECT 1) s ON true",
        "SELECT * FROM generate_series(1, 3) g, LATERAL unnest(ARRAY[1]) x JOIN LATERAL (SELECT 1) s ON true",
    );
    for sql in [
        "SELECT * FROM pg_catalog.pg_class",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM pg_tables",
        r#"SELECT * FROM "tenant_a".audit"#,
    ] {
        check(&pg(), sql, sql);
    }
    for sql in [
        "SELECT 1 FROM dual",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM mysql.user",
        "SELECT * FROM performance_schema.threads",
        "SELECT 1 INTO OUTFILE '/tmp/x'",
    ] {
        check(&my(), sql, sql);
    }
    for sql in ["SELECT * FROM sqlite_master", "SELECT * FROM main.audit"] {
        check(&lite(), sql, sql);
    }
    // MySQL's multi-table DELETE names aliases before FROM.
    check(
        &my(),
        "DELETE p FROM posts p JOIN comments c ON c.post_id = p.id",
        "DELETE p FROM `tenant_a`.posts p JOIN `tenant_a`.comments c ON c.post_id = p.id",
    );
}

#[test]
fn common_table_expressions_shadow_tables() {
    check(
        &pg(),
        "WITH posts AS (SELECT 1 AS id) SELECT * FROM posts",
        "WITH posts AS (SELECT 1 AS id) SELECT * FROM posts",
    );
    check(
        &pg(),
        r#"WITH "posts" AS (SELECT * FROM comments) SELECT * FROM "posts""#,
        r#"WITH "posts" AS (SELECT * FROM "tenant_a".comments) SELECT * FROM "posts""#,
    );
    check(
        &my(),
        "WITH posts AS (SELECT 1 AS id) SELECT * FROM posts JOIN comments ON 1 = 1",
        "WITH posts AS (SELECT 1 AS id) SELECT * FROM posts JOIN `tenant_a`.comments ON 1 = 1",
    );
    check(
        &lite(),
        "WITH plans AS (SELECT 1 AS id) SELECT * FROM plans",
        "WITH plans AS (SELECT 1 AS id) SELECT * FROM plans",
    );
    // Inside its own body a (non-recursive) expression's name is the table.
    check(
        &pg(),
        "WITH posts AS (SELECT * FROM posts WHERE id > 1), c(n) AS (SELECT 1 FROM posts) SELECT * FROM posts, c",
        r#"WITH posts AS (SELECT * FROM "tenant_a".posts WHERE id > 1), c(n) AS (SELECT 1 FROM posts) SELECT * FROM posts, c"#,
    );
    check(
        &pg(),
        "WITH RECURSIVE posts(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM posts) SELECT * FROM posts",
        "WITH RECURSIVE posts(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM posts) SELECT * FROM posts",
    );
    // The next statement does not inherit the names.
    check(
        &pg(),
        "WITH posts AS (SELECT 1) SELECT * FROM posts; SELECT * FROM posts",
        r#"WITH posts AS (SELECT 1) SELECT * FROM posts; SELECT * FROM "tenant_a".posts"#,
    );
}

#[test]
fn with_before_delete_and_merge() {
    check(
        &pg(),
        "WITH x AS (SELECT 1) DELETE FROM posts USING comments WHERE comments.post_id = posts.id",
        r#"WITH x AS (SELECT 1) DELETE FROM "tenant_a".posts USING "tenant_a".comments WHERE comments.post_id = posts.id"#,
    );
    check(
        &pg(),
        "WITH x AS (SELECT 1) MERGE INTO posts USING comments ON true WHEN MATCHED THEN DELETE",
        r#"WITH x AS (SELECT 1) MERGE INTO "tenant_a".posts USING "tenant_a".comments ON true WHEN MATCHED THEN DELETE"#,
    );
}

#[test]
fn objects_created_through_a_tenant_are_the_tenants() {
    for (sql, expected) in [
        (
            "CREATE TABLE post_copy AS SELECT * FROM posts",
            r#"CREATE TABLE "tenant_a".post_copy AS SELECT * FROM "tenant_a".posts"#,
        ),
        (
            "CREATE VIEW v AS SELECT * FROM posts",
            r#"CREATE VIEW "tenant_a".v AS SELECT * FROM "tenant_a".posts"#,
        ),
        (
            "CREATE OR REPLACE VIEW v AS SELECT 1",
            r#"CREATE OR REPLACE VIEW "tenant_a".v AS SELECT 1"#,
        ),
        (
            "CREATE MATERIALIZED VIEW mv AS SELECT * FROM comments",
            r#"CREATE MATERIALIZED VIEW "tenant_a".mv AS SELECT * FROM "tenant_a".comments"#,
        ),
        (
            "DROP VIEW IF EXISTS v",
            r#"DROP VIEW IF EXISTS "tenant_a".v"#,
        ),
        ("DROP TABLE post_copy", r#"DROP TABLE "tenant_a".post_copy"#),
        ("CREATE SEQUENCE s", r#"CREATE SEQUENCE "tenant_a".s"#),
        ("DROP INDEX idx", r#"DROP INDEX "tenant_a".idx"#),
        (
            "DROP INDEX CONCURRENTLY IF EXISTS idx",
            r#"DROP INDEX CONCURRENTLY IF EXISTS "tenant_a".idx"#,
        ),
        (
            "CREATE TABLE c (LIKE posts INCLUDING ALL)",
            r#"CREATE TABLE "tenant_a".c (LIKE "tenant_a".posts INCLUDING ALL)"#,
        ),
        (
            "CREATE TRIGGER trg BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION f()",
            r#"CREATE TRIGGER trg BEFORE INSERT ON "tenant_a".posts FOR EACH ROW EXECUTE FUNCTION f()"#,
        ),
        (
            "DROP TRIGGER trg ON posts",
            r#"DROP TRIGGER trg ON "tenant_a".posts"#,
        ),
        (
            "CREATE INDEX idx ON post_copy (id)",
            r#"CREATE INDEX idx ON "tenant_a".post_copy (id)"#,
        ),
        ("ANALYZE posts", r#"ANALYZE "tenant_a".posts"#),
        (
            "ANALYZE VERBOSE posts, comments",
            r#"ANALYZE VERBOSE "tenant_a".posts, "tenant_a".comments"#,
        ),
        (
            "REFRESH MATERIALIZED VIEW mv",
            r#"REFRESH MATERIALIZED VIEW "tenant_a".mv"#,
        ),
        (
            "REFRESH MATERIALIZED VIEW CONCURRENTLY mv WITH DATA",
            r#"REFRESH MATERIALIZED VIEW CONCURRENTLY "tenant_a".mv WITH DATA"#,
        ),
    ] {
        check(&pg(), sql, expected);
    }
    for (sql, expected) in [
        (
            "CREATE TABLE c LIKE posts",
            "CREATE TABLE `tenant_a`.c LIKE `tenant_a`.posts",
        ),
        (
            "CREATE TABLE post_copy AS SELECT * FROM posts",
            "CREATE TABLE `tenant_a`.post_copy AS SELECT * FROM `tenant_a`.posts",
        ),
        (
            "CREATE VIEW v AS SELECT * FROM posts",
            "CREATE VIEW `tenant_a`.v AS SELECT * FROM `tenant_a`.posts",
        ),
        (
            "RENAME TABLE posts TO posts_old",
            "RENAME TABLE `tenant_a`.posts TO `tenant_a`.posts_old",
        ),
        (
            "ALTER TABLE posts RENAME TO posts_old",
            "ALTER TABLE `tenant_a`.posts RENAME TO `tenant_a`.posts_old",
        ),
        (
            "CREATE TRIGGER trg BEFORE INSERT ON posts FOR EACH ROW SET NEW.title = 'x'",
            "CREATE TRIGGER `tenant_a`.trg BEFORE INSERT ON `tenant_a`.posts FOR EACH ROW SET NEW.title = 'x'",
        ),
        (
            "DROP TRIGGER IF EXISTS trg",
            "DROP TRIGGER IF EXISTS `tenant_a`.trg",
        ),
        ("DESCRIBE posts", "DESCRIBE `tenant_a`.posts"),
        (
            "LOCK TABLES posts READ, comments WRITE",
            "LOCK TABLES `tenant_a`.posts READ, `tenant_a`.comments WRITE",
        ),
    ] {
        check(&my(), sql, expected);
    }
}

#[test]
fn mysql_statement_shapes() {
    check(
        &my(),
        "INSERT INTO posts (title) SELECT title FROM comments ON DUPLICATE KEY UPDATE title = ?, posts = ?",
        "INSERT INTO `tenant_a`.posts (title) SELECT title FROM `tenant_a`.comments ON DUPLICATE KEY UPDATE title = ?, posts = ?",
    );
    check(
        &my(),
        "UPDATE posts, comments SET posts.title = comments.body WHERE comments.post_id = posts.id",
        "UPDATE `tenant_a`.posts, `tenant_a`.comments SET posts.title = comments.body WHERE comments.post_id = posts.id",
    );
    check(
        &my(),
        "DELETE posts FROM posts JOIN comments ON comments.post_id = posts.id",
        "DELETE `tenant_a`.posts FROM `tenant_a`.posts JOIN `tenant_a`.comments ON comments.post_id = posts.id",
    );
    check(
        &my(),
        "SELECT /*!50000 SQL_NO_CACHE */ * /*!50000 FROM posts */",
        "SELECT /*!50000 SQL_NO_CACHE */ * /*!50000 FROM `tenant_a`.posts */",
    );
    check(
        &my(),
        "SELECT * /*M!100100 FROM comments */",
        "SELECT * /*M!100100 FROM `tenant_a`.comments */",
    );
    unregistered(&my(), "SELECT * /*!FROM audit*/", "audit");
    // Plain comments stay comments.
    check(
        &my(),
        "SELECT 1 /* FROM audit */",
        "SELECT 1 /* FROM audit */",
    );
}

#[test]
fn sqlite_tenant_tables_never_fall_through_to_the_shared_file() {
    // Qualified with `main`: a tenant table missing from the tenant's file
    // is an error, never the shared file's table of the same name.
    check(
        &lite(),
        "SELECT * FROM posts JOIN plans ON 1 = 1",
        r#"SELECT * FROM "main".posts JOIN "shared".plans ON 1 = 1"#,
    );
    // Indexes and triggers are named in their table's schema.
    check(
        &lite(),
        "CREATE INDEX idx ON plans (id)",
        r#"CREATE INDEX "shared".idx ON plans (id)"#,
    );
    check(
        &lite(),
        "CREATE UNIQUE INDEX IF NOT EXISTS idx ON posts (id)",
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "main".idx ON posts (id)"#,
    );
    check(&lite(), "DROP INDEX idx", r#"DROP INDEX "main".idx"#);
    check(
        &lite(),
        "CREATE TRIGGER trg AFTER INSERT ON posts BEGIN SELECT 1; END",
        r#"CREATE TRIGGER "main".trg AFTER INSERT ON posts BEGIN SELECT 1; END"#,
    );
    check(&lite(), "DROP TRIGGER trg", r#"DROP TRIGGER "main".trg"#);
    check(
        &lite(),
        "CREATE VIEW v AS SELECT * FROM posts",
        r#"CREATE VIEW "main".v AS SELECT * FROM "main".posts"#,
    );
}
