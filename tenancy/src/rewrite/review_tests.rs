//! Rewriter cases from the outside review and the fuzzer's findings, on
//! the registry and routes of `strict_tests`.

use super::strict_tests::{check, lite, my, pg, registry};
use super::*;
use crate::registry::Scope;

/// The shapes a review of the strict-routing change found.
#[test]
fn review_findings() {
    // Parenthesised table references are table references.
    assert_eq!(
        rewrite(
            r#"SELECT * FROM ("tenant_b".posts CROSS JOIN comments)"#,
            &registry(),
            &pg()
        ),
        Err(Refused::CrossTenant("tenant_b.posts".to_owned()))
    );
    check(
        &pg(),
        "DELETE FROM ONLY (posts) WHERE id = 1",
        r#"DELETE FROM ONLY ("tenant_a".posts) WHERE id = 1"#,
    );
    check(
        &my(),
        "SELECT * FROM (posts JOIN (comments) ON 1 = 1)",
        "SELECT * FROM (`tenant_a`.posts JOIN (`tenant_a`.comments) ON 1 = 1)",
    );
    check(
        &pg(),
        "SELECT * FROM (SELECT 1) x",
        "SELECT * FROM (SELECT 1) x",
    );
    // `WITH` that opens no list of expressions.
    assert_eq!(
        rewrite(
            r#"SELECT * FROM unnest($1::int[]) WITH ORDINALITY AS u(v, n), "tenant_b".posts"#,
            &registry(),
            &pg()
        ),
        Err(Refused::CrossTenant("tenant_b.posts".to_owned()))
    );
    check(
        &pg(),
        "SELECT CAST(a AS timestamp with time zone) FROM comments, posts",
        r#"SELECT CAST(a AS timestamp with time zone) FROM "tenant_a".comments, "tenant_a".posts"#,
    );
    // PostgreSQL folds unquoted names only.
    check(
        &pg(),
        r#"WITH "Posts" AS (SELECT 1) SELECT * FROM posts, "Posts""#,
        r#"WITH "Posts" AS (SELECT 1) SELECT * FROM "tenant_a".posts, "Posts""#,
    );
    // A name defined in a subquery is not visible outside it.
    check(
        &pg(),
        "SELECT * FROM (WITH posts AS (SELECT 1) SELECT * FROM posts) x JOIN posts ON true",
        r#"SELECT * FROM (WITH posts AS (SELECT 1) SELECT * FROM posts) x JOIN "tenant_a".posts ON true"#,
    );
    // USING belongs to the DELETE at its depth, whatever comes first.
    check(
        &pg(),
        "EXPLAIN ANALYZE DELETE FROM posts USING comments WHERE true",
        r#"EXPLAIN ANALYZE DELETE FROM "tenant_a".posts USING "tenant_a".comments WHERE true"#,
    );
    check(
        &pg(),
        "WITH d AS (DELETE FROM posts USING comments WHERE true RETURNING 1) SELECT * FROM d",
        r#"WITH d AS (DELETE FROM "tenant_a".posts USING "tenant_a".comments WHERE true RETURNING 1) SELECT * FROM d"#,
    );
    // SQLite trigger bodies stay as written (SQLite refuses qualified names there).
    check(
        &lite(),
        "CREATE TRIGGER t AFTER INSERT ON posts BEGIN UPDATE posts SET n = CASE WHEN 1 THEN 2 END; DELETE FROM comments; END; SELECT * FROM posts",
        r#"CREATE TRIGGER "main".t AFTER INSERT ON posts BEGIN UPDATE posts SET n = CASE WHEN 1 THEN 2 END; DELETE FROM comments; END; SELECT * FROM "main".posts"#,
    );
    // ALTER TABLE with several operations; temporary tables.
    check(
        &pg(),
        r#"ALTER TABLE "posts" ADD COLUMN "a" int, ADD COLUMN "b" int"#,
        r#"ALTER TABLE "tenant_a"."posts" ADD COLUMN "a" int, ADD COLUMN "b" int"#,
    );
    check(
        &pg(),
        "CREATE TEMP TABLE scratch (id int)",
        "CREATE TEMP TABLE scratch (id int)",
    );
    // A shared table spelled in another tenant's home.
    assert_eq!(
        rewrite(r#"SELECT * FROM "tenant_b".plans"#, &registry(), &pg()),
        Err(Refused::CrossTenant("tenant_b.plans".to_owned()))
    );
    check(
        &pg(),
        r#"SELECT * FROM "public".plans"#,
        r#"SELECT * FROM "public".plans"#,
    );
}

#[test]
fn registered_tables_spelled_like_keywords() {
    let registry =
        Registry::from_pairs_strict(&[("view", Scope::Tenant), ("tables", Scope::Shared)], true);
    let got =
        rewrite("SELECT * FROM view JOIN tables ON 1 = 1", &registry, &pg()).expect("rewrite");
    assert_eq!(
        got,
        r#"SELECT * FROM "tenant_a".view JOIN "public".tables ON 1 = 1"#
    );
}
