//! Behaviours beyond the matrix: concurrency, fail-closed paths, lifecycle,
//! hostile names. Each is one `#[tokio::test]` per backend through
//! [`behaviour_tests!`](crate::behaviour_tests).

use futures_util::future::{BoxFuture, join_all};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set};
use tenancy::{Error, ErrorCode, Irreversibly, TenantId};

use crate::{
    Fixture, Kind,
    matrix::{snapshot, titles},
    oracle::{self, Expect},
    post,
};

/// One behaviour test.
pub type Behaviour = fn(Fixture) -> BoxFuture<'static, ()>;

/// Runs `behaviour` on a fresh fixture of `kind` (or reports it not run).
pub async fn run(kind: Kind, behaviour: Behaviour) {
    if let Some(fx) = Fixture::new(kind).await {
        behaviour(fx).await;
    }
}

fn code(err: &sea_orm::DbErr) -> Option<ErrorCode> {
    Error::code_of(err)
}

/// Hostile tenant names: none may reach SQL.
pub const HOSTILE_NAMES: &[&str] = &[
    "",
    "\"; DROP SCHEMA public; --",
    "'; DROP TABLE tenancy_tenants; --",
    "acme\"",
    "acme`",
    "acme'",
    "acme;",
    "ac me",
    "acme\n",
    "acme\0",
    "../acme",
    "acme/..",
    "a.b",
    "ACME",
    "Acme",
    "1acme",
    "_acme",
    "acmé",
    "аcme",
    "acme\u{200b}",
    "public",
    "information_schema",
    "pg_catalog",
    "pg_toast",
    "mysql",
    "sys",
    "performance_schema",
    "main",
    "shared",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

macro_rules! behaviours {
    ($($name:ident => |$fx:ident| $body:block)*) => {
        $(
            #[doc = concat!("Behaviour `", stringify!($name), "`.")]
            pub fn $name($fx: Fixture) -> BoxFuture<'static, ()> {
                Box::pin(async move { $body })
            }
        )*
        /// Every behaviour, by name.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

behaviours! {
    concurrency => |fx| {
        let fx = &fx;
        let tenants = join_all((0..20).map(|_| fx.tenant())).await;
        let tasks = (0..200).map(|task| {
            let conn = tenants[task % tenants.len()].clone();
            let plan_id = fx.plan_id;
            tokio::spawn(async move {
                let tenant = conn.tenant().to_string();
                post::ActiveModel {
                    title: Set(format!("{tenant}/{task}")),
                    status: Set(post::Status::Draft),
                    plan_id: Set(plan_id),
                    ..Default::default()
                }
                .insert(&conn)
                .await
                .expect("insert");
                let seen = post::Entity::find().all(&conn).await.expect("read");
                let foreign: Vec<_> = seen
                    .iter()
                    .filter(|p| !p.title.starts_with(&format!("{tenant}/")))
                    .collect();
                assert!(foreign.is_empty(), "{tenant} saw {foreign:?}");
                assert!(seen.iter().any(|p| p.title == format!("{tenant}/{task}")));
            })
        });
        for result in join_all(tasks).await {
            result.expect("task");
        }
        for conn in &tenants {
            let tenant = conn.tenant().to_string();
            let all = titles(conn).await;
            assert_eq!(all.len(), 10, "{tenant}");
            assert!(all.iter().all(|t| t.starts_with(&format!("{tenant}/"))));
        }
    }
    contextual_outside_scope_fails_closed => |fx| {
        let a = fx.seeded("a", 2).await;
        let db = fx.tenancy.contextual();
        let before = snapshot(&a).await;
        let err = post::Entity::find().all(&db).await.expect_err("no tenant");
        assert_eq!(code(&err), Some(ErrorCode::NoTenant), "{err}");
        let err = post::Entity::delete_many().exec(&db).await.expect_err("no tenant");
        assert_eq!(code(&err), Some(ErrorCode::NoTenant));
        let err = db.execute_unprepared("DELETE FROM posts").await.expect_err("no tenant");
        assert_eq!(code(&err), Some(ErrorCode::NoTenant));
        assert!(sea_orm::TransactionTrait::begin(&db).await.is_err());
        assert_eq!(snapshot(&a).await, before);
    }
    contextual_follows_scope => |fx| {
        let a = fx.seeded("a", 2).await;
        let b = fx.seeded("b", 3).await;
        let db = fx.tenancy.contextual();
        let (in_a, in_b, back_in_a, spawned) = tenancy::scope(a.tenant().clone(), async {
            let in_a = post::Entity::find().count(&db).await.expect("a");
            let in_b = tenancy::scope(b.tenant().clone(), async {
                post::Entity::find().count(&db).await.expect("b")
            })
            .await;
            let back = post::Entity::find().count(&db).await.expect("a");
            let db2 = db.clone();
            let spawned = tenancy::spawn(async move { post::Entity::find().count(&db2).await })
                .await
                .expect("task")
                .expect("count");
            (in_a, in_b, back, spawned)
        })
        .await;
        assert_eq!((in_a, in_b, back_in_a, spawned), (2, 3, 2, 2));
    }
    plain_connection_fails_closed => |fx| {
        let a = fx.seeded("a", 2).await;
        let before = snapshot(&a).await;
        let plain = fx.tenancy.inner();
        assert!(post::Entity::find().all(plain).await.is_err(), "tenant table reachable without a tenant");
        assert!(post::Entity::delete_many().exec(plain).await.is_err());
        assert_eq!(snapshot(&a).await, before);
    }
    unknown_tenant_fails_closed => |fx| {
        let _a = fx.seeded("a", 2).await;
        let ghost = fx.tenancy.tenant(&fx.name()).expect("valid name");
        assert!(post::Entity::find().all(&ghost).await.is_err(), "an unknown tenant must not read anything");
        let ghost_name = ghost.tenant().to_string();
        let err = fx.tenancy.connect(&ghost_name).await.expect_err("unknown");
        assert!(err.is_not_found(), "{err}");
    }
    cross_tenant_reference_refused => |fx| {
        let a = fx.seeded("a", 2).await;
        let b = fx.seeded("b", 3).await;
        let before = snapshot(&b).await;
        let q = |s: &str| match fx.kind {
            Kind::MySql => format!("`{s}`"),
            _ => format!("\"{s}\""),
        };
        let other = match fx.kind {
            Kind::Sqlite => "shared".to_owned(),
            _ => b.home().to_owned(),
        };
        let sql = format!("DELETE FROM {}.{}", q(&other), q("posts"));
        let err = a.execute_unprepared(&sql).await.expect_err("cross tenant");
        assert_eq!(code(&err), Some(ErrorCode::CrossTenantReference), "{err}");
        let txn = sea_orm::TransactionTrait::begin(&a).await.expect("begin");
        assert!(txn.execute_unprepared(&sql).await.is_err());
        drop(txn);
        assert!(a.routed_sql(&sql).is_err());
        assert_eq!(snapshot(&b).await, before);
        assert_eq!(titles(&a).await, ["a-1", "a-2"]);
    }
    hostile_sql_is_routed_exactly => |fx| {
        let a = fx.seeded("a", 2).await;
        let kind = fx.kind;
        let ident = |s: &str| if kind == Kind::MySql { format!("`{s}`") } else { format!("\"{s}\"") };
        let cases = [
            format!("SELECT 'FROM posts' AS {}, title FROM posts /* FROM posts */ ORDER BY id", ident("posts")),
            "SELECT title FROM posts WHERE title <> 'JOIN comments' ORDER BY id -- UPDATE posts\n".to_owned(),
            "SELECT p.title FROM posts p, comments c WHERE c.post_id = p.id AND c.body LIKE '%-c1' ORDER BY p.id".to_owned(),
            format!("SELECT title FROM {} ORDER BY id", ident("posts")),
            format!("SELECT {}.title FROM posts ORDER BY {}.id", ident("posts"), ident("posts")),
        ];
        let shared_home = match kind {
            Kind::Postgres | Kind::Citus => "public".to_owned(),
            Kind::MySql => kind.url().rsplit('/').next().unwrap_or_default().to_owned(),
            Kind::Sqlite => "shared".to_owned(),
        };
        for sql in &cases {
            let routed = a.routed_sql(sql).expect("routes");
            let expect = Expect {
                kind,
                tenant_home: Some(if kind == Kind::Sqlite { "main" } else { a.home() }),
                shared_home: &shared_home,
                tenant_tables: &["posts", "comments", "tags"],
                shared_tables: &["plans"],
            };
            oracle::check(sql, &routed, &expect).unwrap_or_else(|e| panic!("{e}"));
            let rows = a
                .query_all_raw(sea_orm::Statement::from_string(kind.backend(), sql.clone()))
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let titles: Vec<String> = rows
                .iter()
                .map(|r| r.try_get_by_index(rows[0].column_names().len() - 1).expect("title"))
                .collect();
            assert_eq!(titles, ["a-1", "a-2"], "{sql}");
        }
    }
    lifecycle => |fx| {
        let name = fx.name();
        let t = &fx.tenancy;
        assert!(!t.exists(&name).await.expect("exists"));
        let info = t.create(&name).await.expect("create");
        assert_eq!(info.id.as_str(), name);
        assert!(t.exists(&name).await.expect("exists"));
        assert!(t.home_exists(&name).await.expect("home"));
        assert!(t.list().await.expect("list").iter().any(|i| i.id.as_str() == name));
        let again = t.create(&name).await.expect_err("exists");
        assert!(again.is_exists(), "{again}");
        t.connect(&name).await.expect("active");
        t.suspend(&name).await.expect("suspend");
        let err = t.connect(&name).await.expect_err("suspended");
        assert!(matches!(err, Error::TenantSuspended { .. }), "{err}");
        assert_eq!(
            t.info(&name).await.expect("info").map(|i| i.status),
            Some(tenancy::TenantStatus::Suspended)
        );
        t.resume(&name).await.expect("resume");
        t.connect(&name).await.expect("active again");
        t.drop(&name, Irreversibly).await.expect("drop");
        assert!(!t.exists(&name).await.expect("exists"));
        assert!(!t.home_exists(&name).await.expect("home"));
        assert!(t.drop(&name, Irreversibly).await.expect_err("gone").is_not_found());
        assert!(t.suspend(&name).await.expect_err("gone").is_not_found());
        let meta = serde_json::json!({"plan": "pro"});
        let other = fx.name();
        t.create_with_metadata(&other, meta.clone()).await.expect("create");
        assert_eq!(t.info(&other).await.expect("info").map(|i| i.metadata), Some(meta));
    }
    retried_transactions_lose_no_update => |fx| {
        // Eight read-modify-write increments of one row at once, each in a
        // serializable transaction: the losers of each conflict (40001 on
        // PostgreSQL, a deadlock on MySQL, a busy snapshot on SQLite) run
        // again, and no increment is lost.
        let conn = fx.seeded("counter", 1).await;
        let id = post::Entity::find().one(&conn).await.expect("read").expect("one post").id;
        let retry = tenancy::Retry::default()
            .retries(40)
            .pauses(std::time::Duration::from_millis(1), std::time::Duration::from_millis(40));
        let increments = (0..8).map(|_| {
            retry.transaction_with(&conn, Some(sea_orm::IsolationLevel::Serializable), |txn| {
                Box::pin(async move {
                    let post = post::Entity::find_by_id(id).one(txn).await?.expect("post");
                    let n: u32 = post.title.parse().unwrap_or(0);
                    let mut post: post::ActiveModel = post.into();
                    post.title = Set((n + 1).to_string());
                    post.update(txn).await?;
                    Ok(())
                })
            })
        });
        for done in join_all(increments).await {
            done.expect("an increment gave up");
        }
        let post = post::Entity::find_by_id(id).one(&conn).await.expect("read").expect("post");
        assert_eq!(post.title, "8", "lost updates");
        // (With `retries(0)` this fails on all three backends: the
        // conflicts are real.)
        // An error of the work itself runs once.
        let calls = std::sync::atomic::AtomicU32::new(0);
        let err = retry
            .transaction(&conn, |txn| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Box::pin(async move {
                    post::Entity::find_by_id(id).one(txn).await?;
                    Err::<(), _>(sea_orm::DbErr::Custom("not transient".into()))
                })
            })
            .await
            .expect_err("fails");
        assert!(err.to_string().contains("not transient"), "{err}");
        assert_eq!(calls.into_inner(), 1);
        // A serialization failure every time: retried, then given up.
        let raise = match fx.kind {
            Kind::Postgres | Kind::Citus => "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'serialization_failure'; END $$",
            // MariaDB's anonymous block (the servers this suite runs on).
            Kind::MySql => "BEGIN NOT ATOMIC SIGNAL SQLSTATE '40001' SET MESSAGE_TEXT = 'conflict'; END",
            Kind::Sqlite => return,
        };
        let calls = std::sync::atomic::AtomicU32::new(0);
        let err = tenancy::Retry::default()
            .retries(2)
            .pauses(std::time::Duration::from_millis(1), std::time::Duration::from_millis(1))
            .transaction(fx.tenancy.inner(), |txn| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Box::pin(async move { txn.execute_unprepared(raise).await.map(drop) })
            })
            .await
            .expect_err("always refused");
        assert_eq!(calls.into_inner(), 3, "{err}");
    }
    each_runs_a_job_in_every_selected_tenant => |fx| {
        use tenancy::{EachOptions, JobOutcome, OnFailure, TenantStatus};
        let t = &fx.tenancy;
        let mut mine = Vec::new();
        for _ in 0..5 {
            mine.push(fx.tenant().await.tenant().to_string());
        }
        let (suspended, failing) = (mine[3].clone(), mine[4].clone());
        t.suspend(&suspended).await.expect("suspend");
        let plan = fx.plan_id;
        // The registry is shared with other tests: their tenants get a
        // job that does nothing.
        let job = |conn: tenancy::TenantConnection| {
            let (mine, failing) = (&mine, &failing);
            async move {
                let name = conn.tenant().to_string();
                if !mine.contains(&name) {
                    return Ok(None);
                }
                assert_eq!(tenancy::current().map(|c| c.to_string()), Some(name.clone()), "not in scope");
                if name == *failing {
                    return Err(tenancy::Error::Db(sea_orm::DbErr::Custom("job failed".into())));
                }
                post::ActiveModel {
                    title: Set(name.clone()),
                    status: Set(post::Status::Draft),
                    plan_id: Set(plan),
                    ..Default::default()
                }
                .insert(&conn)
                .await?;
                Ok(Some(post::Entity::find().count(&conn).await?))
            }
        };
        let spans = std::sync::Mutex::new(Vec::new());
        let progress = |r: &tenancy::JobResult<Option<u64>>, _: usize| {
            let end = std::time::Instant::now();
            spans.lock().expect("spans").push((end - r.elapsed, end));
        };
        let report = t
            .each_observed(EachOptions::default().max_concurrency(2), job, &progress)
            .await
            .expect("each");
        assert!((1..=2).contains(&report.concurrency), "{}", report.concurrency);
        let spans = spans.into_inner().expect("spans");
        let most = spans.iter().map(|(s, _)| spans.iter().filter(|(b, e)| b <= s && s < e).count()).max();
        assert!(most.is_some_and(|m| m <= 2), "{most:?} at once");
        for name in &mine[..3] {
            assert!(matches!(outcome_of(&report, name), Some(JobOutcome::Ok(Some(1)))), "{name}");
        }
        assert!(outcome_of(&report, &suspended).is_none(), "a suspended tenant ran");
        assert!(matches!(outcome_of(&report, &failing), Some(JobOutcome::Failed(_))));
        assert_eq!(report.failed().count(), 1);
        // Suspended ones when asked; each tenant's rows stay its own.
        let report = t
            .each(EachOptions::default().statuses([TenantStatus::Active, TenantStatus::Suspended]), job)
            .await
            .expect("each");
        assert!(matches!(outcome_of(&report, &suspended), Some(JobOutcome::Ok(Some(1)))));
        for name in &mine[..3] {
            assert!(matches!(outcome_of(&report, name), Some(JobOutcome::Ok(Some(2)))), "{name}");
        }
        // Abort: nothing starts after the first failure (one at a time:
        // the order they finish in is the order they ran in).
        let order = std::sync::Mutex::new(Vec::new());
        let note = |r: &tenancy::JobResult<Option<u64>>, _: usize| {
            let kind = match r.outcome {
                JobOutcome::Ok(_) => 'o',
                JobOutcome::Failed(_) => 'f',
                _ => 's',
            };
            order.lock().expect("order").push(kind);
        };
        t.each_observed(EachOptions::default().concurrency(1).on_failure(OnFailure::Abort), job, &note)
            .await
            .expect("each");
        let order: String = order.into_inner().expect("order").into_iter().collect();
        let first = order.find('f').expect("a failure");
        assert!(order[..first].chars().all(|c| c == 'o'), "{order}");
        assert!(order[first + 1..].chars().all(|c| c == 's'), "{order}");
    }
    metadata_is_replaced_and_read_typed => |fx| {
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct Billing {
            plan: String,
            seats: u32,
        }
        let t = &fx.tenancy;
        let name = fx.name();
        t.create_with_metadata(&name, serde_json::json!({"plan": "free", "seats": 1})).await.expect("create");
        let pro = Billing { plan: "pro".into(), seats: 5 };
        let info = t.set_metadata(&name, &pro).await.expect("set");
        assert_eq!(info.metadata, serde_json::json!({"plan": "pro", "seats": 5}));
        assert_eq!(t.metadata::<Billing>(&name).await.expect("typed"), pro);
        // Another tenant's metadata is untouched.
        let other = fx.name();
        t.create(&other).await.expect("create");
        assert_eq!(t.metadata::<serde_json::Value>(&other).await.expect("read"), serde_json::json!({}));
        // Not a `Billing`: a clear error, nothing changed.
        let err = t.metadata::<Billing>(&other).await.expect_err("not billing");
        assert_eq!(err.code(), ErrorCode::Metadata, "{err}");
        // Suspended tenants keep theirs and can change it.
        t.suspend(&name).await.expect("suspend");
        t.set_metadata(&name, &serde_json::json!({"plan": "paused"})).await.expect("suspended");
        assert_eq!(t.metadata::<serde_json::Value>(&name).await.expect("read")["plan"], "paused");
        // Being created: not yet, and said so.
        let sql = format!("UPDATE tenancy_tenants SET status = 'provisioning' WHERE name = '{other}'");
        t.inner().execute_unprepared(&sql).await.expect("provisioning");
        let err = t.set_metadata(&other, &pro).await.expect_err("provisioning");
        assert_eq!(err.code(), ErrorCode::TenantProvisioning, "{err}");
        assert_eq!(t.metadata::<serde_json::Value>(&other).await.expect("read"), serde_json::json!({}));
        // Back to active, so the fixture's drop can remove it.
        let sql = format!("UPDATE tenancy_tenants SET status = 'active' WHERE name = '{other}'");
        t.inner().execute_unprepared(&sql).await.expect("active again");
        // A map with non-string keys does not serialize to JSON.
        let bad: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let err = t.set_metadata(&name, &bad).await.expect_err("not json");
        assert_eq!(err.code(), ErrorCode::Metadata, "{err}");
        let ghost = fx.name();
        assert!(t.set_metadata(&ghost, &pro).await.expect_err("unknown").is_not_found());
        assert!(t.metadata::<Billing>(&ghost).await.expect_err("unknown").is_not_found());
        assert_eq!(t.set_metadata("Robert'); --", &pro).await.expect_err("hostile").code(), ErrorCode::InvalidTenantName);
        t.drop(&name, Irreversibly).await.expect("drop");
        assert!(t.set_metadata(&name, &pro).await.expect_err("dropped").is_not_found());
    }
    a_missing_table_answers_the_tenants_state => |fx| {
        // A connection held across a drop and a re-create (as a pooled
        // handler's is when another process acts): a statement that finds
        // no table answers the tenant's current state, not a database error.
        let conn = fx.tenant().await;
        let name = conn.tenant().to_string();
        let fx = &fx;
        let set_status = |status: &'static str| {
            let sql = format!("UPDATE tenancy_tenants SET status = '{status}' WHERE name = '{name}'");
            async move { fx.tenancy.inner().execute_unprepared(&sql).await.expect("status set") }
        };
        fx.tenancy.drop(&name, Irreversibly).await.expect("drop");
        let err = post::Entity::find().all(&conn).await.expect_err("dropped");
        assert_eq!(code(&err), Some(ErrorCode::TenantNotFound), "{err}");
        fx.tenancy.create(&name).await.expect("re-create");
        for (status, expected) in [
            ("provisioning", Some(ErrorCode::TenantProvisioning)),
            ("suspended", Some(ErrorCode::TenantSuspended)),
            ("dropping", Some(ErrorCode::TenantNotFound)),
            // Active but just made: settling (re-created while a statement
            // ran against the previous home), retry.
            ("active", Some(ErrorCode::TenantProvisioning)),
        ] {
            set_status(status).await;
            let err = post::Entity::find().all(&conn).await.expect_err("no posts table yet");
            assert_eq!(code(&err), expected, "{status}: {err}");
        }
        // Active for long with a table really missing: the database's own error.
        let long_ago = match fx.kind {
            Kind::Sqlite => "2000-01-01T00:00:00+00:00",
            _ => "2000-01-01 00:00:00",
        };
        let sql = format!("UPDATE tenancy_tenants SET created_at = '{long_ago}' WHERE name = '{name}'");
        fx.tenancy.inner().execute_unprepared(&sql).await.expect("created long ago");
        let err = post::Entity::find().all(&conn).await.expect_err("no posts table");
        assert_eq!(code(&err), None, "the database's error: {err}");
        // Migrated again: the same connection reads the new, empty home.
        let schema = sea_orm::Schema::new(fx.kind.backend());
        conn.execute(&schema.create_table_from_entity(post::Entity)).await.expect("posts again");
        assert!(post::Entity::find().all(&conn).await.expect("read").is_empty());
    }
    a_transaction_open_across_a_drop_commits_first => |fx| {
        // Another process (its own Tenancy: its own caches and SQLite
        // pools) drops the tenant while a transaction of this one is open:
        // the drop waits for it, the commit lands before the drop (and goes
        // with it), and nothing is written into a deleted home afterwards.
        let a = fx.seeded("a", 1).await;
        let name = a.tenant().to_string();
        let mut builder = tenancy::Tenancy::builder(fx.tenancy.inner().clone());
        if let Some(dir) = fx.dir() {
            builder = builder.sqlite_dir(dir.join("tenants"));
        }
        let other = builder.build().await.expect("a second tenancy");
        let txn = sea_orm::TransactionTrait::begin(&a).await.expect("begin");
        post::ActiveModel {
            title: Set("in flight".to_owned()),
            status: Set(post::Status::Draft),
            plan_id: Set(fx.plan_id),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("insert in the transaction");
        let dropper = tokio::spawn(async move { other.drop(&name, Irreversibly).await });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!dropper.is_finished(), "the drop waits for the open transaction");
        txn.commit().await.expect("the transaction commits before the drop");
        dropper.await.expect("join").expect("then the drop completes");
        let err = post::Entity::find().all(&a).await.expect_err("dropped");
        assert_eq!(code(&err), Some(ErrorCode::TenantNotFound), "{err}");
        let late = post::ActiveModel {
            title: Set("late".to_owned()),
            status: Set(post::Status::Draft),
            plan_id: Set(fx.plan_id),
            ..Default::default()
        }
        .insert(&a)
        .await
        .expect_err("a write after the drop fails");
        assert_eq!(code(&late), Some(ErrorCode::TenantNotFound), "{late}");
    }
    concurrent_creates_one_winner => |fx| {
        let name = fx.name();
        let attempts = join_all((0..8).map(|_| fx.tenancy.create(&name))).await;
        let won = attempts.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "{attempts:?}");
        for attempt in attempts.iter().filter_map(|r| r.as_ref().err()) {
            assert!(attempt.is_exists(), "{attempt}");
        }
        assert!(fx.tenancy.home_exists(&name).await.expect("home"));
        let rows = fx.tenancy.list().await.expect("list");
        assert_eq!(rows.iter().filter(|i| i.id.as_str() == name).count(), 1);
    }
    failed_create_leaves_nothing => |fx| {
        // A home made outside the library makes the create fail after its
        // registry row was written: the row must go, the home must stay.
        let name = fx.name();
        let home = fx.tenancy.home_of(&name).expect("valid");
        match fx.kind {
            Kind::Postgres | Kind::Citus => fx.tenancy.inner().execute_unprepared(&format!("CREATE SCHEMA \"{home}\"")).await.map(drop),
            Kind::MySql => fx.tenancy.inner().execute_unprepared(&format!("CREATE DATABASE `{home}`")).await.map(drop),
            Kind::Sqlite => {
                let file = fx.dir().expect("sqlite dir").join("tenants").join(format!("{home}.db"));
                std::fs::write(file, b"").map_err(|e| sea_orm::DbErr::Custom(e.to_string()))
            }
        }
        .expect("orphan home");
        let err = fx.tenancy.create(&name).await.expect_err("home exists");
        assert!(!err.is_exists(), "the registry had no such tenant: {err}");
        assert!(fx.tenancy.info(&name).await.expect("info").is_none(), "registry row left behind");
        assert!(fx.tenancy.home_exists(&name).await.expect("home"), "a home we did not make was dropped");
    }
    hostile_names_never_reach_sql => |fx| {
        let t = &fx.tenancy;
        let before = fx.captured().len();
        for name in HOSTILE_NAMES {
            let checks = [
                t.tenant(name).err(),
                t.create(name).await.err(),
                t.drop(name, Irreversibly).await.err(),
                t.connect(name).await.err(),
                t.exists(name).await.err(),
                t.suspend(name).await.err(),
                TenantId::new(name).err(),
            ];
            for err in checks {
                let err = err.unwrap_or_else(|| panic!("{name:?} was accepted"));
                assert!(err.is_invalid_name(), "{name:?}: {err}");
            }
        }
        assert_eq!(fx.captured().len(), before, "a hostile name reached SQL");
    }
}

/// One `#[tokio::test]` per behaviour for a backend.
#[macro_export]
macro_rules! behaviour_tests {
    ($kind:ident) => {
        $crate::behaviour_tests!(@each $kind;
            concurrency contextual_outside_scope_fails_closed contextual_follows_scope
            plain_connection_fails_closed unknown_tenant_fails_closed
            cross_tenant_reference_refused hostile_sql_is_routed_exactly lifecycle
            metadata_is_replaced_and_read_typed retried_transactions_lose_no_update
            each_runs_a_job_in_every_selected_tenant
            a_missing_table_answers_the_tenants_state a_transaction_open_across_a_drop_commits_first
            concurrent_creates_one_winner
            failed_create_leaves_nothing
            hostile_names_never_reach_sql);
    };
    (@each $kind:ident; $($test:ident)*) => {
        mod behaviour {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::behaviour::run($crate::Kind::$kind, $crate::behaviour::$test).await;
                }
            )*

            /// The list above names every test the support library defines.
            #[test]
            fn every_test_is_listed() {
                $crate::assert_listed(&[$(stringify!($test)),*], $crate::behaviour::NAMES.to_vec());
            }
        }
    };
}

/// The outcome of tenant `name` in `report`.
fn outcome_of<'r, T>(
    report: &'r tenancy::JobReport<T>,
    name: &str,
) -> Option<&'r tenancy::JobOutcome<T>> {
    report
        .tenants
        .iter()
        .find(|r| r.tenant.as_str() == name)
        .map(|r| &r.outcome)
}
