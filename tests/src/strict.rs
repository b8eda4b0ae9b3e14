//! Fail-closed routing on real servers (issue 10): tables nobody registered
//! are refused before anything is sent, objects created through a tenant
//! stay in the tenant, and the statement shapes an outside review found
//! unrouted reach the right home. One `#[tokio::test]` per case and backend
//! through [`strict_tests!`](crate::strict_tests).

use futures_util::future::BoxFuture;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, QueryResult, Statement, sea_query::Index,
};
use tenancy::{Error, ErrorCode, Scope, Tenancy, TenantConnection};

use crate::{Fixture, Kind, matrix::snapshot, plan, post, unique};

/// One case.
pub type Case = fn(Fixture) -> BoxFuture<'static, ()>;

/// Runs `case` on a fresh fixture of `kind` (or reports it not run).
pub async fn run(kind: Kind, case: Case) {
    if let Some(fx) = Fixture::new(kind).await {
        case(fx).await;
    }
}

fn stmt(kind: Kind, sql: &str) -> Statement {
    Statement::from_string(kind.backend(), sql.to_owned())
}

async fn rows<C: ConnectionTrait>(
    conn: &C,
    kind: Kind,
    sql: &str,
) -> Result<Vec<QueryResult>, DbErr> {
    conn.query_all_raw(stmt(kind, sql)).await
}

async fn count<C: ConnectionTrait>(conn: &C, kind: Kind, sql: &str) -> i64 {
    let rows = rows(conn, kind, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.first()
        .map(|r| r.try_get_by_index::<i64>(0).expect("a count"))
        .expect("one row")
}

fn refused(result: Result<impl std::fmt::Debug, DbErr>) {
    match result {
        Err(e) => assert_eq!(
            Error::code_of(&e),
            Some(ErrorCode::UnregisteredTable),
            "{e}"
        ),
        Ok(ok) => panic!("an unregistered table was not refused: {ok:?}"),
    }
}

/// Whether `name` (a table, view or index) exists in the tenant's home
/// (`Some(conn)`) or in the shared home (`None`), read from the catalog.
async fn exists_in(fx: &Fixture, tenant: Option<&TenantConnection>, name: &str) -> bool {
    let db = fx.tenancy.inner();
    let n = match fx.kind {
        Kind::Postgres | Kind::Citus => {
            let home = tenant.map_or_else(
                || fx.tenancy.shared_home().to_owned(),
                |c| c.home().to_owned(),
            );
            let sql = format!(
                "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{home}' AND c.relname = '{name}'"
            );
            count(db, fx.kind, &sql).await
        }
        Kind::MySql => {
            let home = tenant.map_or_else(
                || fx.tenancy.shared_home().to_owned(),
                |c| c.home().to_owned(),
            );
            let sql = format!(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{home}' AND table_name = '{name}'"
            );
            count(db, fx.kind, &sql).await
        }
        Kind::Sqlite => {
            let sql = format!("SELECT count(*) FROM main.sqlite_master WHERE name = '{name}'");
            match tenant {
                Some(conn) => {
                    count(&conn.unrouted_pool().await.expect("pool"), fx.kind, &sql).await
                }
                None => count(db, fx.kind, &sql).await,
            }
        }
    };
    n > 0
}

/// A second tenancy over the fixture's database, configured by `configure`.
async fn tenancy_with(
    fx: &Fixture,
    configure: impl FnOnce(tenancy::TenancyBuilder) -> tenancy::TenancyBuilder,
) -> Tenancy {
    let db: DatabaseConnection = fx.tenancy.inner().clone();
    let mut builder = Tenancy::builder(db);
    if let Some(dir) = fx.dir() {
        builder = builder.sqlite_dir(dir.join("tenants"));
    }
    configure(builder).build().await.expect("tenancy builds")
}

macro_rules! cases {
    ($($name:ident => |$fx:ident| $body:block)*) => {
        $(
            #[doc = concat!("Strict-routing case `", stringify!($name), "`.")]
            pub fn $name($fx: Fixture) -> BoxFuture<'static, ()> {
                Box::pin(async move { $body })
            }
        )*
        /// Every case, by name.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

cases! {
    unregistered_tables_are_refused_before_sending => |fx| {
        let kind = fx.kind;
        let audit = unique("audit");
        let db = fx.tenancy.inner();
        db.execute_unprepared(&format!("CREATE TABLE {audit} (id integer)")).await.expect("shared table");
        let a = fx.seeded("a", 1).await;
        refused(a.execute_unprepared(&format!("INSERT INTO {audit} (id) VALUES (1)")).await);
        refused(rows(&a, kind, &format!("SELECT * FROM {audit}")).await);
        refused(rows(&a, kind, &format!("SELECT * FROM posts JOIN {audit} ON 1 = 1")).await);
        assert_eq!(count(db, kind, &format!("SELECT count(*) FROM {audit}")).await, 0, "nothing was sent");
        // The opt-outs: one table passed through, or strict routing off.
        for loose in [
            tenancy_with(&fx, |b| b.table(audit.clone(), Scope::Passthrough)).await,
            tenancy_with(&fx, |b| b.strict(false)).await,
        ] {
            let a = loose.tenant(a.tenant().as_str()).expect("valid");
            a.execute_unprepared(&format!("INSERT INTO {audit} (id) VALUES (1)")).await.expect("passes through");
        }
        assert_eq!(count(db, kind, &format!("SELECT count(*) FROM {audit}")).await, 2);
        db.execute_unprepared(&format!("DROP TABLE {audit}")).await.expect("cleanup");
    }
    common_table_expressions_shadow_tables => |fx| {
        let a = fx.seeded("a", 2).await;
        let n = count(&a, fx.kind, "WITH posts AS (SELECT 42 AS id) SELECT count(*) FROM posts WHERE id = 42").await;
        assert_eq!(n, 1, "the expression, not the table");
        // Inside its own body the name is still the table (the tenant's).
        let found = rows(&a, fx.kind, "WITH posts AS (SELECT id FROM posts) SELECT count(*) FROM posts").await.expect("cte");
        assert_eq!(found[0].try_get_by_index::<i64>(0).expect("count"), 2);
    }
    objects_created_through_a_tenant_stay_in_it => |fx| {
        let (a, b) = (fx.seeded("a", 2).await, fx.seeded("b", 3).await);
        let (view, copy) = (unique("v"), unique("copy"));
        a.execute_unprepared(&format!("CREATE VIEW {view} AS SELECT * FROM posts")).await.expect("view");
        a.execute_unprepared(&format!("CREATE TABLE {copy} AS SELECT * FROM posts")).await.expect("copy");
        for name in [&view, &copy] {
            assert!(exists_in(&fx, Some(&a), name).await, "{name} is in the tenant's home");
            assert!(!exists_in(&fx, None, name).await, "{name} is not in the shared home");
            assert!(!exists_in(&fx, Some(&b), name).await, "{name} is not in another tenant");
            // Unregistered: the other tenant cannot name it either.
            refused(rows(&b, fx.kind, &format!("SELECT * FROM {name}")).await);
        }
        // A's rows, read through A's home by name.
        let home = |c: &TenantConnection| match fx.kind {
            Kind::Sqlite => "main".to_owned(),
            Kind::Postgres | Kind::Citus => format!("\"{}\"", c.home()),
            Kind::MySql => format!("`{}`", c.home()),
        };
        let pool_of_a = a.unrouted_pool().await.expect("pool");
        let sql = format!("SELECT count(*) FROM {}.{copy}", home(&a));
        assert_eq!(count(&pool_of_a, fx.kind, &sql).await, 2);
        a.execute_unprepared(&format!("DROP VIEW {view}")).await.expect("drop view");
        a.execute_unprepared(&format!("DROP TABLE {copy}")).await.expect("drop copy");
        assert!(!exists_in(&fx, Some(&a), &view).await && !exists_in(&fx, Some(&a), &copy).await);
        if fx.kind == Kind::MySql {
            // RENAME to a new name keeps the table (and its rows) in the tenant.
            let (from, to) = (unique("r"), unique("r2"));
            a.execute_unprepared(&format!("CREATE TABLE {from} (id integer)")).await.expect("table");
            a.execute_unprepared(&format!("RENAME TABLE {from} TO {to}")).await.expect("rename");
            assert!(exists_in(&fx, Some(&a), &to).await && !exists_in(&fx, None, &to).await);
            a.execute_unprepared(&format!("DROP TABLE {to}")).await.expect("drop");
        }
        assert_eq!(snapshot(&b).await.0.len(), 3, "the other tenant is untouched");
    }
    drop_index_drops_the_tenants_own => |fx| {
        let a = fx.seeded("a", 1).await;
        let idx = unique("idx");
        let db = fx.tenancy.inner();
        // A same-named index in the shared home (PostgreSQL and SQLite name
        // indexes per schema; MySQL per table).
        if fx.kind != Kind::MySql {
            db.execute_unprepared(&format!("CREATE INDEX {idx} ON plans (name)")).await.expect("shared index");
            a.execute_unprepared(&format!("CREATE INDEX {idx} ON posts (title)")).await.expect("tenant index");
            assert!(exists_in(&fx, Some(&a), &idx).await && exists_in(&fx, None, &idx).await);
            a.execute_unprepared(&format!("DROP INDEX {idx}")).await.expect("drop");
            assert!(!exists_in(&fx, Some(&a), &idx).await, "the tenant's index is gone");
            assert!(exists_in(&fx, None, &idx).await, "the shared index stays");
            db.execute_unprepared(&format!("DROP INDEX {idx}")).await.expect("cleanup");
        }
        // SeaORM's own index builder on a shared table, through a tenant.
        let shared_idx = unique("plan_idx");
        let create = Index::create().name(&shared_idx).table(plan::Entity).col(plan::Column::Name).to_owned();
        a.execute(&create).await.expect("an index on a shared table");
        let drop = Index::drop().name(&shared_idx).table(plan::Entity).to_owned();
        if fx.kind == Kind::MySql {
            // `DROP INDEX i ON plans`: the table names where the index is.
            a.execute(&drop).await.expect("dropped");
        } else {
            // An index name alone is read in the tenant's home: a tenant
            // cannot drop a shared index.
            assert!(a.execute(&drop).await.is_err());
            db.execute(&drop).await.expect("dropped");
        }
    }
    statement_shapes_route_to_the_tenant => |fx| {
        let (a, b) = (fx.seeded("a", 2).await, fx.seeded("b", 3).await);
        let before_b = snapshot(&b).await;
        match fx.kind {
            Kind::MySql => {
                a.execute_unprepared("UPDATE posts, comments SET posts.title = 'x', comments.body = 'y' WHERE comments.post_id = posts.id").await.expect("multi-table update");
                a.execute_unprepared("DELETE comments FROM comments JOIN posts ON comments.post_id = posts.id WHERE posts.id > 0").await.expect("multi-table delete");
                let n = count(&a, fx.kind, "SELECT count(*) /*!50000 FROM posts */").await;
                assert_eq!(n, 2, "the executable comment reads the tenant's posts");
                let (posts, comments, _) = snapshot(&a).await;
                assert!(posts.iter().all(|p| p.title == "x") && comments.is_empty());
            }
            Kind::Postgres | Kind::Citus => {
                a.execute_unprepared("WITH x AS (SELECT 1) DELETE FROM comments USING posts WHERE comments.post_id = posts.id AND posts.title = 'a-1'").await.expect("with delete using");
                assert_eq!(snapshot(&a).await.1.len(), 2);
                a.execute_unprepared("ANALYZE posts").await.expect("analyze");
            }
            Kind::Sqlite => {
                a.execute_unprepared("DELETE FROM comments WHERE post_id IN (SELECT id FROM posts WHERE title = 'a-1')").await.expect("delete");
                assert_eq!(snapshot(&a).await.1.len(), 2);
            }
        }
        assert_eq!(snapshot(&b).await, before_b, "the other tenant is untouched");
    }
    a_tenant_not_yet_migrated_never_reads_the_shared_home => |fx| {
        // The shared home holds a table of a tenant table's name, with a
        // row; the tenant, not yet migrated, has none: its statement fails
        // (SQLite: qualified with `main`, never resolved in the attached
        // shared file), it never reads the shared row.
        let table = unique("early");
        let loose = tenancy_with(&fx, |b| b.table(table.clone(), Scope::Tenant)).await;
        let db = fx.tenancy.inner();
        db.execute_unprepared(&format!("CREATE TABLE {table} (id integer)")).await.expect("shared table");
        db.execute_unprepared(&format!("INSERT INTO {table} (id) VALUES (1)")).await.expect("row");
        let name = fx.name();
        fx.tenancy.create(&name).await.expect("created");
        let conn = loose.tenant(&name).expect("valid");
        let err = rows(&conn, fx.kind, &format!("SELECT id FROM {table}")).await.expect_err("not in the tenant");
        // Just created: "still settling" (or the database's own error).
        assert!(
            matches!(Error::code_of(&err), None | Some(ErrorCode::TenantProvisioning)),
            "{err}"
        );
        db.execute_unprepared(&format!("DROP TABLE {table}")).await.expect("cleanup");
    }
    more_statement_shapes_route_to_the_tenant => |fx| {
        let (a, b) = (fx.seeded("a", 2).await, fx.seeded("b", 3).await);
        let before_b = snapshot(&b).await;
        match fx.kind {
            Kind::Postgres | Kind::Citus => {
                a.execute_unprepared("WITH x AS (SELECT 1) MERGE INTO posts p USING (SELECT DISTINCT post_id FROM comments) c ON p.id = c.post_id WHEN MATCHED THEN UPDATE SET title = 'merged'").await.expect("with merge");
                assert!(snapshot(&a).await.0.iter().all(|p| p.title == "merged"));
            }
            Kind::MySql => {
                // A column named like a registered table after ON DUPLICATE
                // KEY UPDATE, in an INSERT .. SELECT.
                let counter = unique("counter");
                let loose = tenancy_with(&fx, |b| b.table(counter.clone(), Scope::Tenant)).await;
                let a2 = loose.tenant(a.tenant().as_str()).expect("valid");
                a2.execute_unprepared(&format!("CREATE TABLE {counter} (id integer PRIMARY KEY, posts integer)")).await.expect("table");
                for _ in 0..2 {
                    a2.execute_unprepared(&format!("INSERT INTO {counter} (id, posts) SELECT id, 1 FROM posts ON DUPLICATE KEY UPDATE posts = posts + 1")).await.expect("upsert");
                }
                assert_eq!(count(&a2, fx.kind, &format!("SELECT count(*) FROM {counter} WHERE posts = 2")).await, 2);
                let described = rows(&a, fx.kind, "DESCRIBE posts").await.expect("describe");
                assert!(described.len() >= 4, "the tenant's posts columns");
                // LOCK TABLES on one connection (a transaction's).
                let txn = sea_orm::TransactionTrait::begin(&a).await.expect("begin");
                txn.execute_unprepared("LOCK TABLES posts READ").await.expect("lock");
                assert_eq!(count(&txn, fx.kind, "SELECT count(*) FROM posts").await, 2);
                txn.execute_unprepared("UNLOCK TABLES").await.expect("unlock");
                txn.commit().await.expect("commit");
                // RENAME of a registered tenant table keeps it (and its rows) in the tenant.
                let away = unique("away");
                a.execute_unprepared(&format!("RENAME TABLE comments TO {away}")).await.expect("rename");
                assert!(exists_in(&fx, Some(&a), &away).await && !exists_in(&fx, None, &away).await);
                a.execute_unprepared(&format!("RENAME TABLE {away} TO comments")).await.expect("rename back");
                assert_eq!(snapshot(&a).await.1.len(), 4);
            }
            Kind::Sqlite => {
                a.execute_unprepared("INSERT INTO tags (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = 'upserted'").await.expect("upsert");
                assert!(snapshot(&a).await.2.iter().any(|t| t.name == "upserted"));
            }
        }
        // Every backend: ALTER TABLE renames and adds in the tenant's home.
        let renamed = unique("tags_old");
        a.execute_unprepared(&format!("ALTER TABLE tags RENAME TO {renamed}")).await.expect("rename");
        assert!(exists_in(&fx, Some(&a), &renamed).await && !exists_in(&fx, None, &renamed).await);
        a.execute_unprepared(&format!("ALTER TABLE {renamed} RENAME TO tags")).await.expect("rename back");
        a.execute_unprepared("ALTER TABLE tags ADD COLUMN extra integer").await.expect("add column");
        assert_eq!(snapshot(&b).await, before_b, "the other tenant is untouched");
    }
    triggers_live_and_die_in_the_tenant => |fx| {
        let (a, b) = (fx.seeded("a", 1).await, fx.seeded("b", 1).await);
        let db = fx.tenancy.inner();
        let trg = unique("trg");
        let triggers_in = async |home: Option<&TenantConnection>| -> i64 {
            match fx.kind {
                Kind::Postgres | Kind::Citus => {
                    let home = home.map_or_else(|| fx.tenancy.shared_home().to_owned(), |c| c.home().to_owned());
                    count(db, fx.kind, &format!("SELECT count(*) FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE t.tgname = '{trg}' AND n.nspname = '{home}'")).await
                }
                Kind::MySql => {
                    let home = home.map_or_else(|| fx.tenancy.shared_home().to_owned(), |c| c.home().to_owned());
                    count(db, fx.kind, &format!("SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = '{home}' AND trigger_name = '{trg}'")).await
                }
                Kind::Sqlite => {
                    let sql = format!("SELECT count(*) FROM main.sqlite_master WHERE type = 'trigger' AND name = '{trg}'");
                    match home {
                        Some(c) => count(&c.unrouted_pool().await.expect("pool"), fx.kind, &sql).await,
                        None => count(db, fx.kind, &sql).await,
                    }
                }
            }
        };
        // A same-named trigger on a shared table (PostgreSQL names triggers
        // per table, MySQL and SQLite per schema or file).
        let function = unique("trg_fn");
        match fx.kind {
            Kind::Postgres => {
                db.execute_unprepared(&format!("CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.title := 'by trigger'; RETURN NEW; END $$")).await.expect("function");
                a.execute_unprepared(&format!("CREATE TRIGGER {trg} BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION public.{function}()")).await.expect("tenant trigger");
            }
            Kind::Citus => {
                // Citus refuses triggers on distributed tables unless told
                // to run them on the shards (`Lint::Trigger`).
                db.execute_unprepared(&format!("CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.title := 'by trigger'; RETURN NEW; END $$")).await.expect("function");
                let refused = a.execute_unprepared(&format!("CREATE TRIGGER {trg} BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION public.{function}()")).await;
                assert!(refused.is_err_and(|e| e.to_string().contains("triggers are not supported")));
                let txn = sea_orm::TransactionTrait::begin(&a).await.expect("begin");
                txn.execute_unprepared("SET LOCAL citus.enable_unsafe_triggers TO on").await.expect("set");
                txn.execute_unprepared(&format!("CREATE TRIGGER {trg} BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION public.{function}()")).await.expect("tenant trigger");
                txn.commit().await.expect("commit");
            }
            Kind::MySql => {
                db.execute_unprepared(&format!("CREATE TRIGGER {trg} BEFORE INSERT ON plans FOR EACH ROW SET NEW.name = NEW.name")).await.expect("shared trigger");
                a.execute_unprepared(&format!("CREATE TRIGGER {trg} BEFORE INSERT ON posts FOR EACH ROW SET NEW.title = 'by trigger'")).await.expect("tenant trigger");
            }
            Kind::Sqlite => {
                db.execute_unprepared(&format!("CREATE TRIGGER {trg} AFTER INSERT ON plans BEGIN SELECT 1; END")).await.expect("shared trigger");
                a.execute_unprepared(&format!("CREATE TRIGGER {trg} AFTER INSERT ON posts BEGIN UPDATE posts SET title = 'by trigger' WHERE id = NEW.id; END")).await.expect("tenant trigger");
            }
        }
        assert_eq!(triggers_in(Some(&a)).await, 1, "the trigger is on the tenant's table");
        assert_eq!(triggers_in(Some(&b)).await, 0, "not on another tenant's");
        for conn in [&a, &b] {
            sea_orm::ActiveModelTrait::insert(post::ActiveModel {
                title: sea_orm::Set("new".to_owned()),
                status: sea_orm::Set(post::Status::Draft),
                plan_id: sea_orm::Set(fx.plan_id),
                ..Default::default()
            }, conn).await.expect("insert");
        }
        assert!(snapshot(&a).await.0.iter().any(|p| p.title == "by trigger"), "it fires in the tenant");
        assert!(snapshot(&b).await.0.iter().all(|p| p.title != "by trigger"), "and nowhere else");
        let drop = match fx.kind {
            Kind::Postgres | Kind::Citus => format!("DROP TRIGGER {trg} ON posts"),
            _ => format!("DROP TRIGGER {trg}"),
        };
        if fx.kind == Kind::Citus {
            let txn = sea_orm::TransactionTrait::begin(&a).await.expect("begin");
            txn.execute_unprepared("SET LOCAL citus.enable_unsafe_triggers TO on").await.expect("set");
            txn.execute_unprepared(&drop).await.expect("drop trigger");
            txn.commit().await.expect("commit");
        } else {
            a.execute_unprepared(&drop).await.expect("drop trigger");
        }
        assert_eq!(triggers_in(Some(&a)).await, 0, "the tenant's trigger is gone");
        match fx.kind {
            Kind::Postgres | Kind::Citus => {
                db.execute_unprepared(&format!("DROP FUNCTION {function}()")).await.expect("cleanup");
            }
            _ => {
                assert_eq!(triggers_in(None).await, 1, "the shared trigger stays");
                db.execute_unprepared(&format!("DROP TRIGGER {trg}")).await.expect("cleanup");
            }
        }
    }
    like_views_and_sequences_land_in_the_tenant => |fx| {
        let (a, b) = (fx.seeded("a", 2).await, fx.seeded("b", 1).await);
        let made: Vec<String> = match fx.kind {
            Kind::Postgres | Kind::Citus => {
                let (like, mv, seq) = (unique("like"), unique("mv"), unique("seq"));
                a.execute_unprepared(&format!("CREATE TABLE {like} (LIKE posts INCLUDING ALL)")).await.expect("like");
                a.execute_unprepared(&format!("CREATE MATERIALIZED VIEW {mv} AS SELECT id, title FROM posts")).await.expect("materialized view");
                a.execute_unprepared(&format!("REFRESH MATERIALIZED VIEW {mv}")).await.expect("refresh");
                a.execute_unprepared(&format!("CREATE SEQUENCE {seq}")).await.expect("sequence");
                let pool = a.unrouted_pool().await.expect("pool");
                assert_eq!(count(&pool, fx.kind, &format!("SELECT count(*) FROM \"{}\".{mv}", a.home())).await, 2, "the tenant's rows");
                vec![like, mv, seq]
            }
            Kind::MySql => {
                let like = unique("like");
                a.execute_unprepared(&format!("CREATE TABLE {like} LIKE posts")).await.expect("like");
                vec![like]
            }
            Kind::Sqlite => {
                let view = unique("v");
                a.execute_unprepared(&format!("CREATE VIEW {view} AS SELECT id FROM posts WHERE title LIKE 'a-%'")).await.expect("view");
                vec![view]
            }
        };
        for name in &made {
            assert!(exists_in(&fx, Some(&a), name).await, "{name} is in the tenant's home");
            assert!(!exists_in(&fx, None, name).await, "{name} is not in the shared home");
            assert!(!exists_in(&fx, Some(&b), name).await, "{name} is not in another tenant");
        }
    }
    shared_tables_created_through_a_tenant_keep_their_foreign_keys => |fx| {
        let table = unique("addon");
        let loose = tenancy_with(&fx, |b| b.table(table.clone(), Scope::Shared)).await;
        let a = fx.seeded("a", 1).await;
        let a = loose.tenant(a.tenant().as_str()).expect("valid");
        a.execute_unprepared(&format!("CREATE TABLE {table} (id integer PRIMARY KEY, plan_id integer NOT NULL, FOREIGN KEY (plan_id) REFERENCES plans (id))")).await.expect("shared table through a tenant");
        assert!(exists_in(&fx, None, &table).await, "in the shared home");
        assert!(!exists_in(&fx, Some(&a), &table).await, "not in the tenant's");
        let db = fx.tenancy.inner();
        let home = fx.tenancy.shared_home().to_owned();
        let fks = match fx.kind {
            Kind::Postgres | Kind::Citus | Kind::MySql => count(db, fx.kind, &format!("SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = '{home}' AND table_name = '{table}' AND constraint_type = 'FOREIGN KEY'")).await,
            Kind::Sqlite => count(db, fx.kind, &format!("SELECT count(*) FROM pragma_foreign_key_list('{table}')")).await,
        };
        assert_eq!(fks, 1, "the foreign key to the other shared table is kept");
        db.execute_unprepared(&format!("DROP TABLE {table}")).await.expect("cleanup");
    }
    catalogs_pass_and_transactions_are_strict => |fx| {
        let a = fx.seeded("a", 1).await;
        let catalogs: &[&str] = match fx.kind {
            Kind::Postgres | Kind::Citus => &["SELECT count(*) FROM pg_catalog.pg_class", "SELECT count(*) FROM information_schema.tables"],
            Kind::MySql => &["SELECT count(*) FROM information_schema.tables"],
            Kind::Sqlite => &["SELECT count(*) FROM sqlite_master"],
        };
        for sql in catalogs {
            assert!(count(&a, fx.kind, sql).await > 0, "{sql}");
        }
        let audit = unique("audit");
        let db = fx.tenancy.inner();
        db.execute_unprepared(&format!("CREATE TABLE {audit} (id integer)")).await.expect("shared table");
        let txn = sea_orm::TransactionTrait::begin(&a).await.expect("begin");
        refused(txn.execute_unprepared(&format!("INSERT INTO {audit} (id) VALUES (1)")).await);
        refused(rows(&txn, fx.kind, &format!("SELECT p.id FROM posts p JOIN {audit} x ON x.id = p.id")).await);
        txn.rollback().await.expect("rollback");
        assert_eq!(count(db, fx.kind, &format!("SELECT count(*) FROM {audit}")).await, 0, "nothing was sent");
        db.execute_unprepared(&format!("DROP TABLE {audit}")).await.expect("cleanup");
    }
}

/// One `#[tokio::test]` per strict-routing case for a backend.
#[macro_export]
macro_rules! strict_tests {
    ($kind:ident) => {
        $crate::strict_tests!(@each $kind;
            unregistered_tables_are_refused_before_sending
            common_table_expressions_shadow_tables
            objects_created_through_a_tenant_stay_in_it
            drop_index_drops_the_tenants_own
            statement_shapes_route_to_the_tenant
            a_tenant_not_yet_migrated_never_reads_the_shared_home
            more_statement_shapes_route_to_the_tenant
            triggers_live_and_die_in_the_tenant
            like_views_and_sequences_land_in_the_tenant
            shared_tables_created_through_a_tenant_keep_their_foreign_keys
            catalogs_pass_and_transactions_are_strict);
    };
    (@each $kind:ident; $($test:ident)*) => {
        mod strict {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::strict::run($crate::Kind::$kind, $crate::strict::$test).await;
                }
            )*

            /// The list above names every case the support library defines.
            #[test]
            fn every_test_is_listed() {
                $crate::assert_listed(&[$(stringify!($test)),*], $crate::strict::NAMES.to_vec());
            }
        }
    };
}
