//! Fail-closed routing on real servers (issue 10): tables nobody registered
//! are refused before anything is sent, objects created through a tenant
//! stay in the tenant, and the statement shapes an outside review found
//! unrouted reach the right home. One `#[tokio::test]` per case and backend
//! through [`strict_tests!`](crate::strict_tests).

use futures_util::future::BoxFuture;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryResult, Statement,
    sea_query::{Index, Table},
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
        Kind::Postgres => {
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
            Kind::Postgres => format!("\"{}\"", c.home()),
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
            Kind::Postgres => {
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
    sqlite_missing_tenant_table_never_reads_the_shared_file => |fx| {
        if fx.kind != Kind::Sqlite {
            return;
        }
        // The shared file holds a `posts` table with a row; the tenant,
        // not yet migrated, has none.
        let db = fx.tenancy.inner();
        let create = Table::create().table(post::Entity).col(sea_orm::sea_query::ColumnDef::new(post::Column::Id).integer().primary_key()).col(sea_orm::sea_query::ColumnDef::new(post::Column::Title).string()).to_owned();
        db.execute(&create).await.expect("posts in the shared file");
        db.execute_unprepared("INSERT INTO posts (id, title) VALUES (1, 'shared')").await.expect("row");
        let name = fx.name();
        fx.tenancy.create(&name).await.expect("created");
        let conn = fx.tenancy.tenant(&name).expect("valid");
        let err = post::Entity::find().all(&conn).await.expect_err("no posts table in the tenant");
        assert!(err.to_string().contains("no such table"), "{err}");
        db.execute_unprepared("DROP TABLE posts").await.expect("cleanup");
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
            sqlite_missing_tenant_table_never_reads_the_shared_file);
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
