//! The tenant-leak matrix: every SeaORM operation users reach for, run on
//! tenant A while tenant B holds different rows. Each operation checks what
//! A sees; [`run`] then checks that B is unchanged and that every statement
//! the test routed passes the oracle.

use futures_util::{TryStreamExt, future::BoxFuture};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    LoaderTrait, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, SelectExt, Set, Statement,
    StreamTrait, TransactionSession, TransactionTrait,
    sea_query::{Expr, OnConflict, Order, Query},
};
use tenancy::TenantConnection;

use crate::{
    Fixture, Kind, comment,
    oracle::{self, Expect},
    plan, post, tag,
};

/// The two tenants of a matrix test.
#[derive(Debug)]
pub struct Ctx {
    /// The fixture.
    pub fx: Fixture,
    /// Tenant A: posts `a-1`, `a-2`.
    pub a: TenantConnection,
    /// Tenant B: posts `b-1`, `b-2`, `b-3`.
    pub b: TenantConnection,
}

/// One matrix operation.
pub type Op = for<'a> fn(&'a Ctx) -> BoxFuture<'a, ()>;

/// Seeds a tenant (see [`Fixture::seeded`]).
pub async fn seed(conn: &TenantConnection, plan_id: i32, prefix: &str, n: usize) {
    for i in 1..=n {
        let title = format!("{prefix}-{i}");
        let post = post::ActiveModel {
            title: Set(title.clone()),
            status: Set(post::Status::Draft),
            plan_id: Set(plan_id),
            ..Default::default()
        }
        .insert(conn)
        .await
        .expect("post seeded");
        for c in 1..=2 {
            comment::ActiveModel {
                body: Set(format!("{title}-c{c}")),
                post_id: Set(post.id),
                ..Default::default()
            }
            .insert(conn)
            .await
            .expect("comment seeded");
        }
        tag::ActiveModel {
            id: Set(i32::try_from(i).expect("small")),
            name: Set(format!("{prefix}-tag-{i}")),
        }
        .insert(conn)
        .await
        .expect("tag seeded");
    }
}

/// Everything a tenant holds, in a stable order.
pub async fn snapshot(
    conn: &TenantConnection,
) -> (Vec<post::Model>, Vec<comment::Model>, Vec<tag::Model>) {
    let posts = post::Entity::find()
        .order_by_asc(post::Column::Id)
        .all(conn)
        .await
        .expect("posts");
    let comments = comment::Entity::find()
        .order_by_asc(comment::Column::Id)
        .all(conn)
        .await
        .expect("comments");
    let tags = tag::Entity::find()
        .order_by_asc(tag::Column::Id)
        .all(conn)
        .await
        .expect("tags");
    (posts, comments, tags)
}

/// Post titles of a tenant, by id.
pub async fn titles(conn: &TenantConnection) -> Vec<String> {
    snapshot(conn)
        .await
        .0
        .into_iter()
        .map(|p| p.title)
        .collect()
}

/// Runs `op` on fresh tenants of `kind`, then checks B and the oracle.
pub async fn run(kind: Kind, op: Op) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let a = fx.seeded("a", 2).await;
    let b = fx.seeded("b", 3).await;
    let cx = Ctx { fx, a, b };
    let before = snapshot(&cx.b).await;
    op(&cx).await;
    assert_eq!(snapshot(&cx.b).await, before, "tenant B changed");
    check_oracle(&cx);
}

/// Checks every statement the fixture routed for A and B.
pub fn check_oracle(cx: &Ctx) {
    let kind = cx.fx.kind;
    let shared_home = match kind {
        Kind::Postgres | Kind::Citus => "public".to_owned(),
        Kind::MySql => {
            let url = kind.url();
            let db = url.rsplit('/').next().unwrap_or_default();
            db.split('?').next().unwrap_or_default().to_owned()
        }
        Kind::Sqlite => "shared".to_owned(),
    };
    let mut checked = 0;
    if std::env::var_os("TENANCY_DEBUG_SQL").is_some() {
        for (tenant, _, routed) in cx.fx.captured() {
            eprintln!("{tenant:?}: {routed}");
        }
    }
    for (tenant, original, routed) in cx.fx.captured() {
        let Some(tenant) = tenant else { continue };
        let home = cx.fx.tenancy.home_of(&tenant).expect("valid tenant");
        let expect = Expect {
            kind,
            tenant_home: Some(if kind == Kind::Sqlite {
                "main"
            } else {
                home.as_str()
            }),
            shared_home: &shared_home,
            tenant_tables: &["posts", "comments", "tags"],
            shared_tables: &["plans", "tenancy_tenants"],
        };
        match oracle::check(&original, &routed, &expect) {
            Ok(oracle::Verdict::Checked(n)) => checked += n,
            Ok(oracle::Verdict::Unparsable) => {}
            Err(problem) => panic!("oracle: {problem}"),
        }
    }
    assert!(checked > 0, "the oracle checked no table reference");
}

macro_rules! ops {
    ($($name:ident => |$cx:ident| $body:block)*) => {
        $(
            #[doc = concat!("Matrix operation `", stringify!($name), "`.")]
            pub fn $name($cx: &Ctx) -> BoxFuture<'_, ()> {
                Box::pin(async move { $body })
            }
        )*
        /// Every operation, by name.
        pub const ALL: &[(&str, Op)] = &[$((stringify!($name), $name)),*];
    };
}

fn new_post(cx: &Ctx, title: &str) -> post::ActiveModel {
    post::ActiveModel {
        title: Set(title.to_owned()),
        status: Set(post::Status::Published),
        plan_id: Set(cx.fx.plan_id),
        ..Default::default()
    }
}

ops! {
    find => |cx| {
        assert_eq!(titles(&cx.a).await, ["a-1", "a-2"]);
    }
    filter => |cx| {
        let found = post::Entity::find()
            .filter(post::Column::Title.contains("-2"))
            .all(&cx.a)
            .await
            .expect("filter");
        assert_eq!(found.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["a-2"]);
        let none = post::Entity::find()
            .filter(post::Column::Title.starts_with("b"))
            .all(&cx.a)
            .await
            .expect("filter");
        assert!(none.is_empty());
    }
    find_by_id => |cx| {
        let one = post::Entity::find_by_id(1).one(&cx.a).await.expect("find");
        assert_eq!(one.map(|p| p.title).as_deref(), Some("a-1"));
        assert_eq!(post::Entity::find_by_id(3).one(&cx.a).await.expect("find"), None);
    }
    find_also_related => |cx| {
        let rows = post::Entity::find()
            .find_also_related(plan::Entity)
            .order_by_asc(post::Column::Id)
            .all(&cx.a)
            .await
            .expect("join");
        assert_eq!(rows.len(), 2);
        for (post, plan) in rows {
            assert!(post.title.starts_with("a-"));
            assert_eq!(plan.map(|p| p.id), Some(cx.fx.plan_id));
        }
    }
    find_with_related => |cx| {
        let rows = post::Entity::find()
            .find_with_related(comment::Entity)
            .order_by_asc(post::Column::Id)
            .all(&cx.a)
            .await
            .expect("with related");
        assert_eq!(rows.len(), 2);
        for (post, comments) in rows {
            let mut bodies: Vec<_> = comments.into_iter().map(|c| c.body).collect();
            bodies.sort();
            assert_eq!(bodies, [format!("{}-c1", post.title), format!("{}-c2", post.title)]);
        }
    }
    load_many => |cx| {
        let posts = post::Entity::find()
            .order_by_asc(post::Column::Id)
            .all(&cx.a)
            .await
            .expect("posts");
        let comments = posts.load_many(comment::Entity, &cx.a).await.expect("loader");
        let bodies: Vec<Vec<String>> = comments
            .into_iter()
            .map(|cs| {
                let mut bodies: Vec<_> = cs.into_iter().map(|c| c.body).collect();
                bodies.sort();
                bodies
            })
            .collect();
        assert_eq!(bodies, [["a-1-c1", "a-1-c2"], ["a-2-c1", "a-2-c2"]]);
    }
    entity_loader => |cx| {
        let posts = post::Entity::load()
            .with(comment::Entity)
            .order_by_asc(post::Column::Id)
            .all(&cx.a)
            .await
            .expect("entity loader");
        assert_eq!(posts.len(), 2);
        for post in posts {
            assert!(post.title.starts_with("a-"));
            assert_eq!(post.comments.len(), 2);
            assert!(post.comments.iter().all(|c| c.body.starts_with(&post.title)));
        }
    }
    paginate => |cx| {
        let pages = post::Entity::find().order_by_asc(post::Column::Id).paginate(&cx.a, 1);
        assert_eq!(pages.num_items().await.expect("count"), 2);
        assert_eq!(pages.num_pages().await.expect("pages"), 2);
        let page = pages.fetch_page(1).await.expect("page");
        assert_eq!(page.into_iter().map(|p| p.title).collect::<Vec<_>>(), ["a-2"]);
        assert_eq!(post::Entity::find().count(&cx.a).await.expect("count"), 2);
    }
    cursor => |cx| {
        let first = post::Entity::find()
            .cursor_by(post::Column::Id)
            .first(10)
            .all(&cx.a)
            .await
            .expect("cursor");
        assert_eq!(first.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["a-1", "a-2"]);
        let after = post::Entity::find()
            .cursor_by(post::Column::Id)
            .after(1)
            .first(10)
            .all(&cx.a)
            .await
            .expect("cursor");
        assert_eq!(after.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["a-2"]);
    }
    stream => |cx| {
        let titles: Vec<String> = post::Entity::find()
            .order_by_asc(post::Column::Id)
            .stream(&cx.a)
            .await
            .expect("stream")
            .map_ok(|p| p.title)
            .try_collect()
            .await
            .expect("rows");
        assert_eq!(titles, ["a-1", "a-2"]);
        let txn = cx.a.begin().await.expect("begin");
        let n = post::Entity::find()
            .stream(&txn)
            .await
            .expect("stream")
            .try_fold(0, |n, _| async move { Ok(n + 1) })
            .await
            .expect("rows");
        assert_eq!(n, 2);
        txn.commit().await.expect("commit");
        let raw = cx
            .a
            .stream_raw(Statement::from_string(cx.fx.kind.backend(), "SELECT id FROM posts"))
            .await
            .expect("raw stream")
            .try_fold(0, |n, _| async move { Ok(n + 1) })
            .await
            .expect("rows");
        assert_eq!(raw, 2);
    }
    exists => |cx| {
        let q = |t: &str| post::Entity::find().filter(post::Column::Title.eq(t.to_owned()));
        assert!(q("a-1").exists(&cx.a).await.expect("exists"));
        assert!(!q("b-1").exists(&cx.a).await.expect("exists"));
    }
    insert => |cx| {
        let post = new_post(cx, "a-3").insert(&cx.a).await.expect("insert");
        assert_eq!(post.id, 3);
        assert_eq!(titles(&cx.a).await, ["a-1", "a-2", "a-3"]);
        let res = post::Entity::insert(new_post(cx, "a-4")).exec(&cx.a).await.expect("insert");
        assert_eq!(res.last_insert_id, 4);
    }
    insert_many_on_conflict => |cx| {
        let tags = [
            tag::ActiveModel { id: Set(1), name: Set("a-tag-1-renamed".into()) },
            tag::ActiveModel { id: Set(9), name: Set("a-tag-9".into()) },
        ];
        tag::Entity::insert_many(tags)
            .on_conflict(OnConflict::column(tag::Column::Id).update_column(tag::Column::Name).to_owned())
            .exec(&cx.a)
            .await
            .expect("upsert");
        let names: Vec<_> = snapshot(&cx.a).await.2.into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["a-tag-1-renamed", "a-tag-2", "a-tag-9"]);
        // A unique violation surfaces as the same DbErr SeaORM gives.
        let dup = tag::ActiveModel { id: Set(20), name: Set("a-tag-2".into()) }.insert(&cx.a).await;
        let err = dup.expect_err("unique name");
        assert!(matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))), "{err:?}");
    }
    active_model_crud => |cx| {
        let inserted = new_post(cx, "a-new").insert(&cx.a).await.expect("insert");
        let mut am = inserted.clone().into_active_model();
        am.title = Set("a-saved".into());
        let saved = am.save(&cx.a).await.expect("save");
        let mut am = saved;
        am.title = Set("a-updated".into());
        let updated = am.update(&cx.a).await.expect("update");
        assert_eq!(updated.title, "a-updated");
        assert_eq!(titles(&cx.a).await, ["a-1", "a-2", "a-updated"]);
        let res = updated.delete(&cx.a).await.expect("delete");
        assert_eq!(res.rows_affected, 1);
        assert_eq!(titles(&cx.a).await, ["a-1", "a-2"]);
        // Updating a row that exists only in B is not found in A.
        let ghost = post::ActiveModel { id: Set(3), title: Set("ghost".into()), ..Default::default() };
        assert!(matches!(ghost.update(&cx.a).await, Err(DbErr::RecordNotUpdated)));
    }
    update_many => |cx| {
        let res = post::Entity::update_many()
            .col_expr(post::Column::Title, Expr::value("x"))
            .exec(&cx.a)
            .await
            .expect("update many");
        assert_eq!(res.rows_affected, 2);
        assert_eq!(titles(&cx.a).await, ["x", "x"]);
    }
    delete_many => |cx| {
        let res = comment::Entity::delete_many().exec(&cx.a).await.expect("delete many");
        assert_eq!(res.rows_affected, 4);
        let res = post::Entity::delete_many()
            .filter(post::Column::Id.gte(1))
            .exec(&cx.a)
            .await
            .expect("delete many");
        assert_eq!(res.rows_affected, 2);
        assert!(titles(&cx.a).await.is_empty());
    }
    transaction_closure => |cx| {
        let post = new_post(cx, "a-txn");
        cx.a.transaction::<_, _, DbErr>(|txn| {
            Box::pin(async move {
                post.insert(txn).await?;
                Ok(())
            })
        })
        .await
        .expect("committed");
        let post = new_post(cx, "a-rolled-back");
        let failed = cx
            .a
            .transaction::<_, (), DbErr>(|txn| {
                Box::pin(async move {
                    post.insert(txn).await?;
                    Err(DbErr::Custom("abort".into()))
                })
            })
            .await;
        assert!(failed.is_err());
        let post = new_post(cx, "a-async");
        cx.a.transaction_async(async move |txn| post.insert(txn).await.map(|_| ()))
            .await
            .expect("async closure");
        assert_eq!(titles(&cx.a).await, ["a-1", "a-2", "a-txn", "a-async"]);
    }
    begin_commit_rollback => |cx| {
        let txn = cx.a.begin().await.expect("begin");
        new_post(cx, "a-gone").insert(&txn).await.expect("insert");
        txn.rollback().await.expect("rollback");
        let txn = cx.a.begin().await.expect("begin");
        new_post(cx, "a-kept").insert(&txn).await.expect("insert");
        assert_eq!(post::Entity::find().count(&txn).await.expect("count"), 3);
        txn.commit().await.expect("commit");
        assert_eq!(titles(&cx.a).await, ["a-1", "a-2", "a-kept"]);
    }
    nested_savepoints => |cx| {
        let outer = cx.a.begin().await.expect("begin");
        new_post(cx, "a-outer").insert(&outer).await.expect("insert");
        let inner = outer.begin().await.expect("savepoint");
        new_post(cx, "a-inner-gone").insert(&inner).await.expect("insert");
        inner.rollback().await.expect("rollback to savepoint");
        let inner = outer.begin().await.expect("savepoint");
        new_post(cx, "a-inner-kept").insert(&inner).await.expect("insert");
        TransactionSession::commit(inner).await.expect("release");
        outer.commit().await.expect("commit");
        assert_eq!(titles(&cx.a).await, ["a-1", "a-2", "a-outer", "a-inner-kept"]);
    }
    raw_unprepared => |cx| {
        let res = cx
            .a
            .execute_unprepared("UPDATE posts SET title = 'raw' WHERE id = 1")
            .await
            .expect("raw");
        assert_eq!(res.rows_affected(), 1);
        assert_eq!(titles(&cx.a).await, ["raw", "a-2"]);
        let kind = cx.fx.kind;
        let stmt = Statement::from_sql_and_values(
            kind.backend(),
            format!("DELETE FROM comments WHERE post_id = {}", kind.param(1)),
            [2.into()],
        );
        assert_eq!(cx.a.execute_raw(stmt).await.expect("raw").rows_affected(), 2);
    }
    from_raw_sql => |cx| {
        let kind = cx.fx.kind;
        let stmt = Statement::from_sql_and_values(
            kind.backend(),
            format!("SELECT * FROM posts WHERE id = {}", kind.param(1)),
            [1.into()],
        );
        let post = post::Entity::find().from_raw_sql(stmt).one(&cx.a).await.expect("raw");
        assert_eq!(post.map(|p| p.title).as_deref(), Some("a-1"));
        let rows = cx
            .a
            .query_all_raw(Statement::from_string(kind.backend(), "SELECT title FROM posts ORDER BY id"))
            .await
            .expect("raw");
        let titles: Vec<String> = rows.iter().map(|r| r.try_get("", "title").expect("title")).collect();
        assert_eq!(titles, ["a-1", "a-2"]);
    }
    sea_query_from_entity => |cx| {
        let select = Query::select()
            .column(post::Column::Title)
            .from(post::Entity)
            .order_by(post::Column::Id, Order::Asc)
            .to_owned();
        let rows = cx.a.query_all(&select).await.expect("select");
        let titles: Vec<String> = rows.iter().map(|r| r.try_get("", "title").expect("title")).collect();
        assert_eq!(titles, ["a-1", "a-2"]);
        let update = Query::update()
            .table(post::Entity)
            .value(post::Column::Title, "sq")
            .and_where(post::Column::Id.eq(2))
            .to_owned();
        assert_eq!(cx.a.execute(&update).await.expect("update").rows_affected(), 1);
        let one = cx.a.query_one(&select).await.expect("select");
        assert!(one.is_some());
        assert_eq!(super::matrix::titles(&cx.a).await, ["a-1", "sq"]);
    }
    active_model_ex_nested => |cx| {
        let saved = post::ActiveModel::builder()
            .set_title("a-ex")
            .set_status(post::Status::Draft)
            .set_plan_id(cx.fx.plan_id)
            .add_comment(comment::ActiveModel::builder().set_body("a-ex-c1"))
            .add_comment(comment::ActiveModel::builder().set_body("a-ex-c2"))
            .save(&cx.a)
            .await
            .expect("nested save");
        let id = saved.id.clone().try_as_ref().copied().expect("saved id");
        let comments = comment::Entity::find()
            .filter(comment::Column::PostId.eq(id))
            .all(&cx.a)
            .await
            .expect("comments");
        assert_eq!(comments.len(), 2);
        assert_eq!(titles(&cx.a).await, ["a-1", "a-2", "a-ex"]);
    }
    shared_join => |cx| {
        for conn in [&cx.a, &cx.b] {
            let plan = plan::Entity::find_by_id(cx.fx.plan_id).one(conn).await.expect("plan");
            assert!(plan.is_some(), "shared rows are visible to every tenant");
        }
        let plans = plan::Entity::find()
            .find_with_related(post::Entity)
            .filter(plan::Column::Id.eq(cx.fx.plan_id))
            .all(&cx.a)
            .await
            .expect("shared to tenant join");
        assert_eq!(plans.len(), 1);
        let titles: Vec<_> = plans[0].1.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["a-1", "a-2"]);
    }
}

/// One `#[tokio::test]` per matrix operation for a backend.
#[macro_export]
macro_rules! leak_matrix {
    ($kind:ident) => {
        $crate::leak_matrix!(@each $kind;
            find filter find_by_id find_also_related find_with_related load_many
            entity_loader paginate cursor stream exists insert insert_many_on_conflict
            active_model_crud update_many delete_many transaction_closure
            begin_commit_rollback nested_savepoints raw_unprepared from_raw_sql
            sea_query_from_entity active_model_ex_nested shared_join);
    };
    (@each $kind:ident; $($op:ident)*) => {
        mod leak_matrix {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $op() {
                    $crate::matrix::run($crate::Kind::$kind, $crate::matrix::$op).await;
                }
            )*

            /// The list above names every test the support library defines.
            #[test]
            fn every_test_is_listed() {
                $crate::assert_listed(&[$(stringify!($op)),*], $crate::matrix::ALL.iter().map(|(name, _)| *name).collect());
            }
        }
    };
}
