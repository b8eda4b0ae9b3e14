//! Statement overhead on PostgreSQL: the same queries through a plain
//! `DatabaseConnection` (table in `public`) and through a `TenantConnection`
//! (table in the tenant's schema), same data, same pool size, one run.
//!
//! Run: `cargo bench -p tenancy-tests --bench overhead` (uses the database
//! `tenancy_bench` on `TENANCY_PG_URL`'s server, created when missing).

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Schema, Set,
};
use tenancy::{Irreversibly, Tenancy, TenantConnection};
use tenancy_tests::{Kind, connect_server, install_shared, plan, post};

const ROWS: i32 = 1000;

async fn fill<C: ConnectionTrait>(conn: &C, plan_id: i32) {
    let schema = Schema::new(conn.get_database_backend());
    conn.execute(
        &schema
            .create_table_from_entity(post::Entity)
            .if_not_exists()
            .to_owned(),
    )
    .await
    .expect("posts");
    post::Entity::delete_many().exec(conn).await.expect("empty");
    for chunk in (1..=ROWS).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|i| post::ActiveModel {
            id: Set(*i),
            title: Set(format!("post {i}")),
            status: Set(post::Status::Published),
            plan_id: Set(plan_id),
        });
        post::Entity::insert_many(rows)
            .exec(conn)
            .await
            .expect("rows");
    }
}

async fn setup() -> (DatabaseConnection, TenantConnection) {
    let url = Kind::Postgres.url();
    let (server, _) = url.rsplit_once('/').expect("url with a database");
    let db = connect_server(Kind::Postgres, &format!("{server}/tenancy_bench"))
        .await
        .expect("postgres reachable");
    install_shared(&db).await.expect("shared");
    let plan = plan::ActiveModel {
        name: Set("bench".into()),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("plan");
    fill(&db, plan.id).await;
    let tenancy = Tenancy::builder(db.clone()).build().await.expect("tenancy");
    let _ = tenancy.drop("bench", Irreversibly).await;
    tenancy.create("bench").await.expect("tenant");
    let tenant = tenancy.tenant("bench").expect("valid");
    fill(&tenant, plan.id).await;
    (db, tenant)
}

macro_rules! pair {
    ($group:expr, $rt:expr, $name:literal, $plain:expr, $tenant:expr, |$c:ident, $i:ident| $body:expr) => {{
        let mut n = 0i32;
        $group.bench_function(concat!($name, "/plain"), |b| {
            b.to_async($rt).iter(|| {
                n = n % ROWS + 1;
                let ($c, $i) = ($plain, n);
                async move { $body }
            })
        });
        let mut n = 0i32;
        $group.bench_function(concat!($name, "/tenant"), |b| {
            b.to_async($rt).iter(|| {
                n = n % ROWS + 1;
                let ($c, $i) = ($tenant, n);
                async move { $body }
            })
        });
    }};
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (plain, tenant) = rt.block_on(setup());
    let (plain, tenant) = (&plain, &tenant);
    let mut group = c.benchmark_group("pg");
    pair!(group, &rt, "find_by_id", plain, tenant, |conn, i| {
        post::Entity::find_by_id(i).one(conn).await.expect("row")
    });
    pair!(group, &rt, "filter_20", plain, tenant, |conn, i| {
        post::Entity::find()
            .filter(post::Column::Id.gt(i % (ROWS - 20)))
            .order_by_asc(post::Column::Id)
            .limit(20)
            .all(conn)
            .await
            .expect("rows")
    });
    pair!(group, &rt, "join_shared", plain, tenant, |conn, i| {
        post::Entity::find_by_id(i)
            .find_also_related(plan::Entity)
            .one(conn)
            .await
            .expect("row")
    });
    pair!(group, &rt, "update", plain, tenant, |conn, i| {
        post::Entity::update_many()
            .col_expr(
                post::Column::Title,
                sea_orm::sea_query::Expr::value(format!("post {i}")),
            )
            .filter(post::Column::Id.eq(i))
            .exec(conn)
            .await
            .expect("update")
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
