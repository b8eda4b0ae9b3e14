//! The cost of routing one statement (the rewriter), against copying the
//! same SQL (the cheapest thing a rewriter that allocates could do).
//!
//! Run: `cargo bench -p tenancy --bench rewrite`. No database needed.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sea_orm::{ConnectOptions, Database};
use tenancy::{Scope, Tenancy};

const STATEMENTS: &[(&str, &str)] = &[
    (
        "find_by_id",
        r#"SELECT "posts"."id", "posts"."title", "posts"."plan_id" FROM "posts" WHERE "posts"."id" = $1 LIMIT $2"#,
    ),
    (
        "join_shared",
        r#"SELECT "posts"."id" AS "A_id", "posts"."title" AS "A_title", "posts"."plan_id" AS "A_plan_id", "plans"."id" AS "B_id", "plans"."name" AS "B_name" FROM "posts" LEFT JOIN "plans" ON "posts"."plan_id" = "plans"."id" WHERE "posts"."title" LIKE $1 ORDER BY "posts"."id" ASC LIMIT $2"#,
    ),
    (
        "insert",
        r#"INSERT INTO "posts" ("title", "plan_id") VALUES ($1, $2) RETURNING "id", "title", "plan_id""#,
    ),
    (
        "unrouted",
        r#"SELECT "audit"."id", "audit"."at" FROM "audit" WHERE "audit"."id" = $1"#,
    ),
];

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // A lazy pool: routing needs no server.
    let tenancy = rt.block_on(async {
        let mut options = ConnectOptions::new("postgres://127.0.0.1:1/none");
        options.connect_lazy(true);
        let db = Database::connect(options).await.expect("lazy pool");
        Tenancy::builder(db)
            .citus(false)
            .table("posts", Scope::Tenant)
            .table("plans", Scope::Shared)
            .install_registry(false)
            .build()
            .await
            .expect("tenancy")
    });
    let acme = tenancy.tenant("acme").expect("valid");
    let mut group = c.benchmark_group("route");
    for (name, sql) in STATEMENTS {
        group.bench_function(format!("{name}/rewrite"), |b| {
            b.iter(|| acme.routed_sql(black_box(sql)).expect("routes").len())
        });
        group.bench_function(format!("{name}/copy_baseline"), |b| {
            b.iter(|| black_box(sql).to_string().len())
        });
    }
    group.bench_function("tenant_connection/new", |b| {
        b.iter(|| tenancy.tenant(black_box("acme")).expect("valid"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
