use super::*;
use crate::dialect::Dialect;
use crate::registry::{Registry, Scope};

fn registry() -> Registry {
    Registry::from_pairs(&[
        ("posts", Scope::Tenant),
        ("comments", Scope::Tenant),
        ("we\"ird", Scope::Tenant),
        ("plans", Scope::Shared),
    ])
}

fn pg() -> Route {
    Route::qualified(Dialect::Postgres, "tenant_a", "public")
}

fn my() -> Route {
    Route::qualified(Dialect::MySql, "tenant_a", "app")
}

fn lite() -> Route {
    Route::qualified(Dialect::Sqlite, "main", "shared")
}

#[track_caller]
fn check(route: &Route, sql: &str, expected: &str) {
    let reg = registry();
    let got = rewrite(sql, &reg, route).expect("rewrite");
    assert_eq!(got, expected, "\n  input: {sql}");
    if sql == expected {
        assert!(
            matches!(got, Cow::Borrowed(_)),
            "unchanged SQL must not allocate"
        );
    }
}

#[test]
fn select_and_join() {
    check(
        &pg(),
        r#"SELECT "posts"."id", "plans"."name" FROM "posts" LEFT JOIN "plans" ON "posts"."plan_id" = "plans"."id" WHERE "posts"."id" = $1 LIMIT $2"#,
        r#"SELECT "posts"."id", "plans"."name" FROM "tenant_a"."posts" LEFT JOIN "public"."plans" ON "posts"."plan_id" = "plans"."id" WHERE "posts"."id" = $1 LIMIT $2"#,
    );
    check(
        &my(),
        "SELECT `posts`.`id` FROM `posts` INNER JOIN `plans` ON `posts`.`plan_id` = `plans`.`id`",
        "SELECT `posts`.`id` FROM `tenant_a`.`posts` INNER JOIN `app`.`plans` ON `posts`.`plan_id` = `plans`.`id`",
    );
    check(
        &lite(),
        r#"SELECT "posts"."id" FROM "posts" LEFT JOIN "plans" ON 1 = 1"#,
        r#"SELECT "posts"."id" FROM "main"."posts" LEFT JOIN "shared"."plans" ON 1 = 1"#,
    );
}

#[test]
fn unregistered_and_unchanged_statements_are_borrowed() {
    for sql in [
        r#"SELECT 1"#,
        r#"SELECT * FROM "other""#,
        r#"SELECT "posts" FROM "other" WHERE "posts" = 'posts'"#,
        "",
        ";;;",
    ] {
        check(&pg(), sql, sql);
    }
    check(
        &lite(),
        r#"SELECT * FROM "main"."posts""#,
        r#"SELECT * FROM "main"."posts""#,
    );
}

#[test]
fn insert_update_delete() {
    check(
        &pg(),
        r#"INSERT INTO "posts" ("id", "title") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE SET "title" = "excluded"."title" RETURNING "id""#,
        r#"INSERT INTO "tenant_a"."posts" ("id", "title") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE SET "title" = "excluded"."title" RETURNING "id""#,
    );
    check(
        &my(),
        "INSERT INTO `posts` (`id`, `title`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `title` = VALUES(`title`)",
        "INSERT INTO `tenant_a`.`posts` (`id`, `title`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `title` = VALUES(`title`)",
    );
    // A column named like a table after ON DUPLICATE KEY UPDATE stays a column.
    check(
        &my(),
        "INSERT INTO `posts` (`plans`) VALUES (?) ON DUPLICATE KEY UPDATE `plans` = 1",
        "INSERT INTO `tenant_a`.`posts` (`plans`) VALUES (?) ON DUPLICATE KEY UPDATE `plans` = 1",
    );
    check(
        &pg(),
        r#"UPDATE "posts" SET "title" = $1 WHERE "posts"."id" = $2"#,
        r#"UPDATE "tenant_a"."posts" SET "title" = $1 WHERE "posts"."id" = $2"#,
    );
    check(
        &pg(),
        r#"DELETE FROM "posts" WHERE "posts"."id" IN (SELECT "post_id" FROM "comments")"#,
        r#"DELETE FROM "tenant_a"."posts" WHERE "posts"."id" IN (SELECT "post_id" FROM "tenant_a"."comments")"#,
    );
    check(
        &pg(),
        "DELETE FROM posts USING comments WHERE posts.id = comments.post_id",
        r#"DELETE FROM "tenant_a".posts USING "tenant_a".comments WHERE posts.id = comments.post_id"#,
    );
}

#[test]
fn locking_clauses_are_not_tables() {
    check(
        &pg(),
        r#"SELECT * FROM "posts" FOR UPDATE OF "posts""#,
        r#"SELECT * FROM "tenant_a"."posts" FOR UPDATE OF "posts""#,
    );
    check(
        &pg(),
        r#"SELECT * FROM "posts" FOR NO KEY UPDATE"#,
        r#"SELECT * FROM "tenant_a"."posts" FOR NO KEY UPDATE"#,
    );
}

#[test]
fn from_lists_subqueries_and_functions() {
    check(
        &pg(),
        "SELECT * FROM posts p, comments AS c, plans WHERE p.id = c.post_id",
        r#"SELECT * FROM "tenant_a".posts p, "tenant_a".comments AS c, "public".plans WHERE p.id = c.post_id"#,
    );
    check(
        &pg(),
        r#"SELECT COUNT(*) AS num_items FROM (SELECT "posts"."id" FROM "posts") AS "sub_query", comments"#,
        r#"SELECT COUNT(*) AS num_items FROM (SELECT "posts"."id" FROM "tenant_a"."posts") AS "sub_query", "tenant_a".comments"#,
    );
    // Commas in the select list, in parens and after WHERE are not tables.
    check(
        &pg(),
        "SELECT posts, comments FROM posts WHERE id IN (1, 2) ORDER BY posts, comments",
        r#"SELECT posts, comments FROM "tenant_a".posts WHERE id IN (1, 2) ORDER BY posts, comments"#,
    );
    check(
        &pg(),
        "SELECT EXTRACT(YEAR FROM posts), SUBSTRING(x FROM comments FOR 2) FROM posts",
        r#"SELECT EXTRACT(YEAR FROM posts), SUBSTRING(x FROM comments FOR 2) FROM "tenant_a".posts"#,
    );
    check(
        &pg(),
        "SELECT * FROM posts WHERE a IS DISTINCT FROM comments",
        r#"SELECT * FROM "tenant_a".posts WHERE a IS DISTINCT FROM comments"#,
    );
    check(
        &pg(),
        "SELECT EXISTS(SELECT 1 FROM ONLY posts)",
        r#"SELECT EXISTS(SELECT 1 FROM ONLY "tenant_a".posts)"#,
    );
}

#[test]
fn literals_comments_and_quotes() {
    check(
        &pg(),
        r#"SELECT 'FROM posts', "FROM posts", $$ FROM posts $$, $tag$ FROM posts $tag$, E'\' FROM posts' FROM posts -- FROM posts
/* FROM posts /* nested */ FROM posts */ WHERE x = 'it''s FROM posts'"#,
        r#"SELECT 'FROM posts', "FROM posts", $$ FROM posts $$, $tag$ FROM posts $tag$, E'\' FROM posts' FROM "tenant_a".posts -- FROM posts
/* FROM posts /* nested */ FROM posts */ WHERE x = 'it''s FROM posts'"#,
    );
    check(
        &my(),
        r#"SELECT 'a\' FROM posts', "b\" FROM posts" FROM posts # FROM posts
WHERE 1"#,
        r#"SELECT 'a\' FROM posts', "b\" FROM posts" FROM `tenant_a`.posts # FROM posts
WHERE 1"#,
    );
    check(
        &pg(),
        r#"SELECT * FROM "we""ird""#,
        r#"SELECT * FROM "tenant_a"."we""ird""#,
    );
    check(
        &pg(),
        r#"SELECT * FROM "Posts""#,
        r#"SELECT * FROM "Posts""#,
    );
    check(
        &pg(),
        "SELECT * FROM POSTS",
        r#"SELECT * FROM "tenant_a".POSTS"#,
    );
    check(
        &lite(),
        "SELECT * FROM [plans]",
        r#"SELECT * FROM "shared".[plans]"#,
    );
    // Unterminated input is left alone, never panics.
    for sql in [
        r#"SELECT * FROM "posts"#,
        "SELECT 'x",
        "SELECT $tag$",
        "/* x",
        "FROM",
    ] {
        let _ = rewrite(sql, &registry(), &pg());
        let _ = rewrite(sql, &registry(), &my());
        let _ = rewrite(sql, &registry(), &lite());
    }
}

#[test]
fn ddl() {
    check(
        &pg(),
        r#"CREATE TABLE IF NOT EXISTS "comments" ( "id" serial NOT NULL PRIMARY KEY, "post_id" integer NOT NULL, "plan_id" integer, CONSTRAINT "fk" FOREIGN KEY ("post_id") REFERENCES "posts" ("id") ON DELETE CASCADE ON UPDATE CASCADE, FOREIGN KEY ("plan_id") REFERENCES "plans" ("id") )"#,
        r#"CREATE TABLE IF NOT EXISTS "tenant_a"."comments" ( "id" serial NOT NULL PRIMARY KEY, "post_id" integer NOT NULL, "plan_id" integer, CONSTRAINT "fk" FOREIGN KEY ("post_id") REFERENCES "tenant_a"."posts" ("id") ON DELETE CASCADE ON UPDATE CASCADE, FOREIGN KEY ("plan_id") REFERENCES "public"."plans" ("id") )"#,
    );
    check(
        &pg(),
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "idx-posts-title" ON "posts" ("title")"#,
        r#"CREATE UNIQUE INDEX IF NOT EXISTS "idx-posts-title" ON "tenant_a"."posts" ("title")"#,
    );
    check(
        &my(),
        "DROP INDEX `idx` ON `posts`",
        "DROP INDEX `idx` ON `tenant_a`.`posts`",
    );
    check(
        &pg(),
        r#"DROP TABLE IF EXISTS "posts", "comments" CASCADE"#,
        r#"DROP TABLE IF EXISTS "tenant_a"."posts", "tenant_a"."comments" CASCADE"#,
    );
    check(
        &pg(),
        r#"ALTER TABLE "posts" ADD COLUMN "plans" integer"#,
        r#"ALTER TABLE "tenant_a"."posts" ADD COLUMN "plans" integer"#,
    );
    check(
        &pg(),
        "TRUNCATE posts, comments",
        r#"TRUNCATE "tenant_a".posts, "tenant_a".comments"#,
    );
    check(
        &my(),
        "RENAME TABLE `posts` TO `comments`",
        "RENAME TABLE `tenant_a`.`posts` TO `tenant_a`.`comments`",
    );
    check(
        &my(),
        "ALTER TABLE `posts` RENAME COLUMN `a` TO `posts`",
        "ALTER TABLE `tenant_a`.`posts` RENAME COLUMN `a` TO `posts`",
    );
    // SQLite refuses qualified names in CREATE INDEX ... ON.
    check(
        &lite(),
        r#"CREATE INDEX "i" ON "plans" ("id")"#,
        r#"CREATE INDEX "shared"."i" ON "plans" ("id")"#,
    );
}

#[test]
fn several_statements() {
    check(
        &pg(),
        "INSERT INTO posts VALUES (1); SELECT * FROM comments; UPDATE posts SET a = 1",
        r#"INSERT INTO "tenant_a".posts VALUES (1); SELECT * FROM "tenant_a".comments; UPDATE "tenant_a".posts SET a = 1"#,
    );
}

#[test]
fn explicit_homes() {
    let reg = registry();
    check(
        &pg(),
        r#"SELECT * FROM "tenant_a"."posts""#,
        r#"SELECT * FROM "tenant_a"."posts""#,
    );
    check(
        &pg(),
        r#"SELECT * FROM "public"."plans""#,
        r#"SELECT * FROM "public"."plans""#,
    );
    for sql in [
        r#"SELECT * FROM "tenant_b"."posts""#,
        "SELECT * FROM public.posts",
        "SELECT * FROM x JOIN tenant_b . comments ON 1 = 1",
        "INSERT INTO tenant_b.posts VALUES (1)",
    ] {
        assert!(rewrite(sql, &reg, &pg()).is_err(), "{sql}");
    }
    assert!(rewrite("SELECT * FROM `other`.`posts`", &reg, &my()).is_err());
    assert!(rewrite(r#"SELECT * FROM "shared"."posts""#, &reg, &lite()).is_err());
    check(
        &lite(),
        r#"SELECT * FROM "main"."posts""#,
        r#"SELECT * FROM "main"."posts""#,
    );
}

#[test]
fn quoting() {
    assert_eq!(Dialect::Postgres.quote("a\"b"), r#""a""b""#);
    assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
}

#[test]
fn sqlite_drops_foreign_keys_into_the_shared_file() {
    check(
        &lite(),
        r#"CREATE TABLE "posts" ( "id" integer NOT NULL PRIMARY KEY, "plan_id" integer NOT NULL, CONSTRAINT "fk-posts-plan" FOREIGN KEY ("plan_id") REFERENCES "plans" ("id") ON DELETE CASCADE, FOREIGN KEY ("id") REFERENCES "comments" ("id") )"#,
        r#"CREATE TABLE "main"."posts" ( "id" integer NOT NULL PRIMARY KEY, "plan_id" integer NOT NULL, FOREIGN KEY ("id") REFERENCES "comments" ("id") )"#,
    );
    check(
        &lite(),
        r#"CREATE TABLE posts (id integer, plan_id integer REFERENCES plans (id) ON DELETE CASCADE, title text)"#,
        r#"CREATE TABLE "main".posts (id integer, plan_id integer , title text)"#,
    );
    check(
        &lite(),
        r#"CREATE TABLE posts (id integer, FOREIGN KEY (id) REFERENCES plans (id))"#,
        r#"CREATE TABLE "main".posts (id integer)"#,
    );
    // Foreign keys between tenant tables stay; other dialects keep them all.
    check(
        &lite(),
        r#"CREATE TABLE "comments" ( "post_id" integer, FOREIGN KEY ("post_id") REFERENCES "posts" ("id") )"#,
        r#"CREATE TABLE "main"."comments" ( "post_id" integer, FOREIGN KEY ("post_id") REFERENCES "posts" ("id") )"#,
    );
    // A shared table created through a tenant keeps its foreign keys to
    // other shared tables: they live in the same file.
    let shared =
        r#"CREATE TABLE "plans" ( "id" integer, "parent" integer REFERENCES "plans" ("id") )"#;
    check(
        &lite(),
        shared,
        r#"CREATE TABLE "shared"."plans" ( "id" integer, "parent" integer REFERENCES "plans" ("id") )"#,
    );
    check(
        &pg(),
        r#"CREATE TABLE posts (plan_id integer, FOREIGN KEY (plan_id) REFERENCES plans (id))"#,
        r#"CREATE TABLE "tenant_a".posts (plan_id integer, FOREIGN KEY (plan_id) REFERENCES "public".plans (id))"#,
    );
}

/// The rewriter bugs the fuzzer found (fuzz/findings/rewrite), fixed.
#[test]
fn fuzz_findings() {
    let reg = registry();
    let refused = |route: &Route, sql: &str| {
        assert!(rewrite(sql, &reg, route).is_err(), "accepted: {sql}");
    };
    // `db.schema.table`: the table is the last part, its home the one before.
    refused(&pg(), "SELECT * FROM app.tenant_evil.posts");
    refused(&pg(), "SELECT * FROM \"app\".\"tenant_evil\".\"posts\"");
    check(
        &pg(),
        "SELECT * FROM app.tenant_a.posts",
        "SELECT * FROM app.tenant_a.posts",
    );
    check(
        &pg(),
        "SELECT * FROM app.other.thing",
        "SELECT * FROM app.other.thing",
    );
    // PostgreSQL folds an unquoted qualifier: `tenant_A.posts` is `tenant_a`'s.
    let upper = Route::qualified(Dialect::Postgres, "tenant_A", "public");
    refused(&upper, "SELECT * FROM tenant_A.posts");
    check(
        &upper,
        "SELECT * FROM \"tenant_A\".posts",
        "SELECT * FROM \"tenant_A\".posts",
    );
    check(
        &pg(),
        "SELECT * FROM TENANT_A.posts",
        "SELECT * FROM TENANT_A.posts",
    );
    refused(&pg(), "SELECT * FROM \"TENANT_A\".posts");
    // MySQL STRAIGHT_JOIN is a join; `SELECT STRAIGHT_JOIN` a modifier.
    check(
        &my(),
        "SELECT * FROM posts STRAIGHT_JOIN comments ON posts.id = comments.post_id",
        "SELECT * FROM `tenant_a`.posts STRAIGHT_JOIN `tenant_a`.comments ON posts.id = comments.post_id",
    );
    check(
        &my(),
        "SELECT STRAIGHT_JOIN id FROM posts",
        "SELECT STRAIGHT_JOIN id FROM `tenant_a`.posts",
    );
    // MySQL: INTO is optional, and modifiers sit before the table.
    check(
        &my(),
        "INSERT posts (id) VALUES (1)",
        "INSERT `tenant_a`.posts (id) VALUES (1)",
    );
    check(
        &my(),
        "INSERT IGNORE INTO posts (id) VALUES (1)",
        "INSERT IGNORE INTO `tenant_a`.posts (id) VALUES (1)",
    );
    check(
        &my(),
        "REPLACE posts VALUES (1)",
        "REPLACE `tenant_a`.posts VALUES (1)",
    );
    check(
        &my(),
        "UPDATE LOW_PRIORITY IGNORE posts SET id = 1",
        "UPDATE LOW_PRIORITY IGNORE `tenant_a`.posts SET id = 1",
    );
    check(
        &my(),
        "DELETE QUICK IGNORE FROM posts",
        "DELETE QUICK IGNORE FROM `tenant_a`.posts",
    );
    check(
        &my(),
        "SELECT REPLACE(title, 'a', 'b') FROM posts",
        "SELECT REPLACE(title, 'a', 'b') FROM `tenant_a`.posts",
    );
}
