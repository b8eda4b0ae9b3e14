//! End to end: the app on an ephemeral port, driven over HTTP with reqwest,
//! on SQLite (a temporary directory), PostgreSQL and MySQL/MariaDB (database
//! `tenancy_axum_app` on the servers of `TENANCY_PG_URL` and
//! `TENANCY_MYSQL_URL`). Every scenario runs on every backend; tenants are
//! uniquely named per test and dropped by a guard.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use axum_app::{App, Config, TenantMigrator};
use reqwest::{Client, Method, StatusCode, header::HOST};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tenancy::Irreversibly;
use tenancy_tests::{Kind, connect_server};
use tokio::sync::{Mutex, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

/// The test database on the PostgreSQL and MySQL servers.
const DB_NAME: &str = "tenancy_axum_app";

/// The administrator's token of every test app; [`Server::send`] sends it
/// unless the request has an `authorization` header of its own (an empty
/// one: no credentials at all).
const ADMIN_TOKEN: &str = "test-admin-token";

/// A tenant name no other test or run uses: letters and digits only, so it
/// is also a valid subdomain label.
fn unique(tag: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{tag}{:x}x{n}x{:x}", std::process::id(), nanos % 0xfffff)
}

/// Per backend: tests share a database, so the health test runs alone
/// (write) while the others hold a read guard; app start-up (which
/// migrates every tenant) and cleanup (which drops some) do not overlap.
struct Locks {
    exclusive: Arc<RwLock<()>>,
    lifecycle: Mutex<()>,
}

fn locks(kind: Kind) -> &'static Locks {
    static LOCKS: std::sync::OnceLock<[Locks; 4]> = std::sync::OnceLock::new();
    let all = LOCKS.get_or_init(|| {
        std::array::from_fn(|_| Locks {
            exclusive: Arc::default(),
            lifecycle: Mutex::new(()),
        })
    });
    &all[kind as usize]
}

#[allow(dead_code)] // held for their drop
enum Guard {
    Shared(OwnedRwLockReadGuard<()>),
    Exclusive(OwnedRwLockWriteGuard<()>),
}

/// A running app and its client; drops the tenants it made.
struct Server {
    kind: Kind,
    base: String,
    app: App,
    /// The app's configuration (a second replica can be built from it).
    config: Config,
    client: Client,
    /// Every tenant name of this test starts with it.
    prefix: String,
    dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _guard: Guard,
}

fn server_url(kind: Kind) -> (&'static str, String) {
    if kind == Kind::Citus {
        // The cluster's test database (made on every node by `.ci/run`).
        return ("TENANCY_CITUS_URL", kind.url());
    }
    let (var, default) = match kind {
        Kind::Postgres => (
            "TENANCY_PG_URL",
            "postgres://postgres@127.0.0.1:5432/tenancy_test",
        ),
        _ => (
            "TENANCY_MYSQL_URL",
            "mysql://root@127.0.0.1:3306/tenancy_test",
        ),
    };
    let url = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let (server, rest) = url.rsplit_once('/').expect("a database in the URL");
    let query = rest
        .split_once('?')
        .map_or(String::new(), |(_, q)| format!("?{q}"));
    (var, format!("{server}/{DB_NAME}{query}"))
}

impl Server {
    /// Starts the app on `kind`, or `None` when the server is unreachable
    /// and not required by `TENANCY_REQUIRE`.
    async fn start(kind: Kind, on_demand: bool, exclusive: bool) -> Option<Server> {
        Server::start_with(kind, exclusive, |config, _| {
            config.create_on_demand = on_demand;
        })
        .await
    }

    /// Starts the app with `configure` applied to its configuration; its
    /// second argument is the prefix of the test's tenant names.
    async fn start_with(
        kind: Kind,
        exclusive: bool,
        configure: impl FnOnce(&mut Config, &str),
    ) -> Option<Server> {
        let locks = locks(kind);
        let guard = if exclusive {
            Guard::Exclusive(locks.exclusive.clone().write_owned().await)
        } else {
            Guard::Shared(locks.exclusive.clone().read_owned().await)
        };
        let (url, dir) = match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
                (url, Some(dir))
            }
            _ => {
                let (var, url) = server_url(kind);
                match connect_server(kind, &url).await {
                    Ok(db) => db.close().await.expect("close"),
                    Err(err) if kind.required() => {
                        panic!("{var} ({url}) is unreachable and TENANCY_REQUIRE lists it: {err}")
                    }
                    Err(err) => {
                        eprintln!(
                            "\n*** NOT RUN: {kind:?} skipped, {var} ({url}) unreachable: {err}\n\
                             *** set TENANCY_REQUIRE=postgres,mysql to make this a failure\n"
                        );
                        return None;
                    }
                }
                (url, None)
            }
        };
        let prefix = unique("t");
        let mut config = Config {
            database_url: url,
            addr: "127.0.0.1:0".parse().expect("addr"),
            domain: "localhost".to_owned(),
            admin_host: Some("admin.localhost".to_owned()),
            admin_token: Some(ADMIN_TOKEN.to_owned()),
            ..Config::default()
        };
        configure(&mut config, &prefix);
        let app = {
            let _lifecycle = locks.lifecycle.lock().await;
            axum_app::build(&config).await.expect("the app starts")
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = app.clone();
        tokio::spawn(async move {
            axum_app::serve(&served, listener, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        Some(Server {
            kind,
            base,
            app,
            config,
            client: Client::new(),
            prefix,
            dir,
            shutdown: Some(tx),
            _guard: guard,
        })
    }

    /// A fresh tenant name of this test.
    fn name(&self, tag: &str) -> String {
        format!("{}{tag}", self.prefix)
    }

    /// Sends a request; `headers` may set `host`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, String) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            req = req.bearer_auth(ADMIN_TOKEN);
        }
        for (k, v) in headers {
            if !(k.eq_ignore_ascii_case("authorization") && v.is_empty()) {
                req = req.header(*k, *v);
            }
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.expect("request");
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
        self.send(Method::GET, path, headers, None).await
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Value,
    ) -> (StatusCode, Value) {
        let (status, text) = self.send(method, path, headers, Some(body)).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Adds an item titled `title` to `tenant` through the API (201); its JSON.
    async fn add_item(&self, tenant: &str, title: &str) -> Value {
        let (status, body) = self
            .json(
                Method::POST,
                "/api/items",
                &[("x-tenant", tenant)],
                json!({ "title": title }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Creates tenant `name` through the API.
    async fn create_tenant(&self, name: &str) {
        let (status, body) = self
            .json(Method::POST, "/api/tenants", &[], json!({ "name": name }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    async fn cleanup(&self) {
        if self.kind == Kind::Sqlite {
            return; // the temporary directory goes
        }
        let _lifecycle = locks(self.kind).lifecycle.lock().await;
        let tenancy = self.app.tenancy();
        for info in tenancy.list().await.unwrap_or_default() {
            if info.id.as_str().starts_with(&self.prefix) {
                let _dropped = tenancy.drop(info.id.as_str(), Irreversibly).await;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            tokio::task::block_in_place(|| handle.block_on(self.cleanup()));
        }
    }
}

fn code(body: &str) -> String {
    let json: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON: {body}"));
    json["error"]["code"].as_str().unwrap_or("-").to_owned()
}

/// The titles of a page of items.
fn titles(body: &str) -> Vec<String> {
    let json: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON: {body}"));
    json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("an array: {body}"))
        .iter()
        .map(|i| i["title"].as_str().unwrap_or("-").to_owned())
        .collect()
}

// ---------------------------------------------------------------- scenarios

/// Items written through any resolver are seen through every resolver of
/// the same tenant and through none of the other's.
async fn isolation(s: Server) {
    let (a, b) = (s.name("a"), s.name("b"));
    s.create_tenant(&a).await;
    s.create_tenant(&b).await;
    let host_a = format!("{a}.localhost:3000");
    let (status, _) = s
        .json(
            Method::POST,
            "/api/items",
            &[("x-tenant", &a)],
            json!({ "title": "a by header" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = s
        .json(
            Method::POST,
            "/api/items",
            &[("host", &host_a)],
            json!({ "title": "a by subdomain" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = s
        .json(
            Method::POST,
            &format!("/tenant/{b}/api/items"),
            &[],
            json!({ "title": "b by path" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let expect_a = ["a by header", "a by subdomain"];
    for (path, headers) in [
        ("/api/items".to_owned(), vec![("x-tenant", a.as_str())]),
        ("/api/items".to_owned(), vec![("host", host_a.as_str())]),
        (format!("/tenant/{a}/api/items"), vec![]),
        // Two resolvers that agree.
        (
            format!("/tenant/{a}/api/items"),
            vec![("x-tenant", a.as_str())],
        ),
    ] {
        let (status, body) = s.get(&path, &headers).await;
        assert_eq!(status, StatusCode::OK, "{path} {headers:?}: {body}");
        assert_eq!(titles(&body), expect_a, "{path} {headers:?}");
    }
    let host_b = format!("{b}.localhost");
    for (path, headers) in [
        ("/api/items".to_owned(), vec![("x-tenant", b.as_str())]),
        ("/api/items".to_owned(), vec![("host", host_b.as_str())]),
        (format!("/tenant/{b}/api/items"), vec![]),
    ] {
        let (status, body) = s.get(&path, &headers).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(titles(&body), ["b by path"], "{path} {headers:?}");
    }
    // Two resolvers that disagree, or a repeated header: refused, never
    // first-wins.
    let path_a = format!("/tenant/{a}/api/items");
    for (path, headers) in [
        (
            "/api/items",
            vec![("x-tenant", b.as_str()), ("host", host_a.as_str())],
        ),
        (path_a.as_str(), vec![("x-tenant", b.as_str())]),
        (
            "/api/items",
            vec![("x-tenant", a.as_str()), ("x-tenant", b.as_str())],
        ),
    ] {
        let (status, body) = s.get(path, &headers).await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::BAD_REQUEST, "ambiguous_tenant"),
            "{path} {headers:?}"
        );
    }
}

/// Create, read, replace, delete; another tenant's ids are not found; bad
/// bodies and ids answer 4xx with a JSON error.
async fn item_crud(s: Server) {
    let (a, b) = (s.name("a"), s.name("b"));
    s.create_tenant(&a).await;
    s.create_tenant(&b).await;
    let ha = [("x-tenant", a.as_str())];
    let hb = [("x-tenant", b.as_str())];
    let (status, item) = s
        .json(
            Method::POST,
            "/api/items",
            &ha,
            json!({ "title": "  first  " }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    assert_eq!(
        (item["title"].as_str(), item["done"].as_bool()),
        (Some("first"), Some(false))
    );
    let id = item["id"].as_i64().expect("id");
    let path = format!("/api/items/{id}");

    let (status, body) = s.get(&path, &ha).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = s.get(&path, &hb).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::NOT_FOUND, "item_not_found")
    );

    let (status, item) = s
        .json(
            Method::PUT,
            &path,
            &ha,
            json!({ "title": "first, done", "done": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{item}");
    assert_eq!(item["done"], json!(true));
    let (status, _) = s
        .json(Method::PUT, &path, &hb, json!({ "title": "stolen" }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = s.get(&path, &ha).await;
    let read: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        (read["title"].as_str(), read["done"].as_bool()),
        (Some("first, done"), Some(true))
    );

    let (status, _) = s.send(Method::DELETE, &path, &hb, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.send(Method::DELETE, &path, &ha, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.get(&path, &ha).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.send(Method::DELETE, &path, &ha, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let bad: [(Option<Value>, &str, StatusCode, &str); 7] = [
        // NUL is refused the same everywhere (PostgreSQL text cannot hold it).
        (
            Some(json!({ "title": "nul \u{0} byte" })),
            "/api/items",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_item",
        ),
        (
            Some(json!({ "title": "bell \u{7}" })),
            "/api/items",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_item",
        ),
        (
            Some(json!({ "title": "" })),
            "/api/items",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_item",
        ),
        (
            Some(json!({ "title": "x".repeat(201) })),
            "/api/items",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_item",
        ),
        (
            Some(json!({ "name": "no title" })),
            "/api/items",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        ),
        (
            Some(json!({ "title": 5 })),
            "/api/items",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        ),
        (
            None,
            "/api/items",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (body, path, status, expected) in bad {
        let (got, text) = s.send(Method::POST, path, &ha, body.clone()).await;
        assert_eq!((got, code(&text).as_str()), (status, expected), "{body:?}");
    }
    let response = s
        .client
        .post(format!("{}/api/items", s.base))
        .bearer_auth(ADMIN_TOKEN)
        .header("x-tenant", &a)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, body) = s.get("/api/items/abc", &ha).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_id")
    );
    let (status, body) = s.get("/api/items", &ha).await;
    assert_eq!(status, StatusCode::OK);
    assert!(titles(&body).is_empty(), "{body}");
}

/// A path, its headers, the expected status and error code.
type Case<'a> = (String, Vec<(&'a str, &'a str)>, StatusCode, &'a str);

/// Unknown (with on-demand creation off), invalid, suspended and missing
/// tenants are refused with the library's codes and no database text.
async fn refusals(s: Server) {
    let a = s.name("a");
    s.create_tenant(&a).await;
    let unknown = s.name("nobody");
    let cases: Vec<Case<'_>> = vec![
        (
            "/api/items".into(),
            vec![("x-tenant", unknown.as_str())],
            StatusCode::NOT_FOUND,
            "tenant_not_found",
        ),
        (
            format!("/tenant/{unknown}/api/items"),
            vec![],
            StatusCode::NOT_FOUND,
            "tenant_not_found",
        ),
        (
            format!("/tenant/{unknown}"),
            vec![],
            StatusCode::NOT_FOUND,
            "tenant_not_found",
        ),
        (
            "/api/items".into(),
            vec![("x-tenant", "Robert'); DROP TABLE items;--")],
            StatusCode::BAD_REQUEST,
            "invalid_tenant_name",
        ),
        (
            "/api/items".into(),
            vec![("x-tenant", "ACME")],
            StatusCode::BAD_REQUEST,
            "invalid_tenant_name",
        ),
        (
            "/tenant/Not-Valid/api/items".into(),
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_tenant_name",
        ),
        (
            "/api/items".into(),
            vec![("host", "a.b.localhost")],
            StatusCode::BAD_REQUEST,
            "invalid_tenant_name",
        ),
        (
            "/api/items".into(),
            vec![],
            StatusCode::BAD_REQUEST,
            "tenant_required",
        ),
        (
            "/api/items".into(),
            vec![("host", "admin.localhost"), ("x-tenant", a.as_str())],
            StatusCode::BAD_REQUEST,
            "tenant_required",
        ),
    ];
    for (path, headers, status, expected) in &cases {
        let (got, body) = s.get(path, headers).await;
        assert_eq!(
            (got, code(&body).as_str()),
            (*status, *expected),
            "{path} {headers:?}"
        );
        let lower = body.to_lowercase();
        for leak in ["sql", "sqlx", "postgres", "mysql", "syntax", "relation"] {
            assert!(!lower.contains(leak), "{path}: {body}");
        }
    }
    assert!(!s.app.tenancy().exists(&unknown).await.expect("exists"));

    s.app.tenancy().suspend(&a).await.expect("suspend");
    for path in ["/api/items".to_owned(), "/".to_owned()] {
        let (status, body) = s.get(&path, &[("x-tenant", &a)]).await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::FORBIDDEN, "tenant_suspended")
        );
    }
    let (status, body) = s.get(&format!("/tenant/{a}/api/items"), &[]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::FORBIDDEN, "tenant_suspended")
    );
    s.app.tenancy().resume(&a).await.expect("resume");
    let (status, _) = s.get("/api/items", &[("x-tenant", &a)]).await;
    assert_eq!(status, StatusCode::OK);
}

/// The tenant list (JSON and HTML) with item counts, the dashboard, tenant
/// creation errors, and the metrics text.
async fn tenants_pages_and_metrics(s: Server) {
    let (a, b) = (s.name("a"), s.name("b"));
    s.create_tenant(&a).await;
    s.create_tenant(&b).await;
    for title in ["one", "two <b>bold</b>"] {
        let (status, _) = s
            .json(
                Method::POST,
                "/api/items",
                &[("x-tenant", &a)],
                json!({ "title": title }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, body) = s.get("/api/tenants", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: Value = serde_json::from_str(&body).expect("json");
    let count = |name: &str| {
        list["items"]
            .as_array()
            .expect("array")
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| (t["status"].clone(), t["items"].clone()))
    };
    assert_eq!(count(&a), Some((json!("active"), json!(2))));
    assert_eq!(count(&b), Some((json!("active"), json!(0))));
    let (status, body) = s.get("/api/tenants", &[("x-tenant", &a)]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );

    let (status, body) = s
        .json(Method::POST, "/api/tenants", &[], json!({ "name": a }))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("tenant_exists"))
    );
    let (status, body) = s
        .json(
            Method::POST,
            "/api/tenants",
            &[],
            json!({ "name": "Bad Name" }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_tenant_name"))
    );

    // Not for anonymous clients, nor for a tenant's token.
    for auth in ["", "Bearer nope"] {
        let (status, body) = s
            .json(
                Method::POST,
                "/api/tenants",
                &[("authorization", auth)],
                json!({ "name": s.name("c") }),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized"))
        );
        let (status, body) = s.get("/api/tenants", &[("authorization", auth)]).await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized")
        );
        let (status, html) = s.get("/", &[("authorization", auth)]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !html.contains(&a) && !html.contains("<h1>Tenants</h1>"),
            "{html}"
        );
    }
    for headers in [
        vec![],
        vec![("host", "admin.localhost:3000")],
        vec![("host", "www.localhost")],
    ] {
        let response = s
            .client
            .get(format!("{}/", s.base))
            .bearer_auth(ADMIN_TOKEN)
            .headers(
                headers
                    .iter()
                    .map(|(k, v)| (k.parse().expect("name"), v.parse().expect("value")))
                    .collect(),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        let ctype = response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(ctype.starts_with("text/html"), "{ctype}");
        let html = response.text().await.expect("body");
        assert!(html.contains("<h1>Tenants</h1>"), "{html}");
        assert!(html.contains(&format!("href=\"/tenant/{a}\"")), "{html}");
        assert!(html.contains(&format!(">{b}</a>")), "{html}");
    }
    for (path, headers) in [
        (format!("/tenant/{a}"), vec![]),
        (format!("/tenant/{a}/"), vec![]),
        (
            "/".to_owned(),
            vec![(HOST.as_str(), format!("{a}.localhost"))],
        ),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, html) = s.get(&path, &headers).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains(&format!("<h1>{a}</h1>")), "{html}");
        assert!(html.contains("2 items, 0 done"), "{html}");
        assert!(
            html.contains("two &lt;b&gt;bold&lt;/b&gt;"),
            "escaped: {html}"
        );
        assert!(!html.contains("<b>bold</b>"));
    }

    let (status, text) = s.get("/metrics", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("tenancy_operations_total{operation=\"create\",outcome=\"ok\"}"),
        "{text}"
    );
    assert!(text.contains("app_http_requests_total"), "{text}");
}

/// `/health` (shallow) is 200 throughout; `/health/tenants` is 200, 503
/// once a tenant's home disappears behind the app's
/// back (naming the tenant and `home_missing`), and 200 again after.
async fn health(s: Server) {
    let (a, b) = (s.name("a"), s.name("b"));
    s.create_tenant(&a).await;
    s.create_tenant(&b).await;
    let (status, body) = s.get("/health/tenants", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(report["status"], "ok", "{body}");

    let tenancy = s.app.tenancy();
    let home = tenancy.home_of(&b).expect("home");
    let restore: Option<(String, String)> = match s.kind {
        Kind::Postgres | Kind::Citus => {
            let sql = format!("ALTER SCHEMA \"{home}\" RENAME TO \"{home}_away\"");
            tenancy
                .inner()
                .execute_unprepared(&sql)
                .await
                .expect("rename");
            Some((home.clone(), format!("{home}_away")))
        }
        Kind::MySql => {
            let sql = format!("DROP DATABASE `{home}`");
            tenancy
                .inner()
                .execute_unprepared(&sql)
                .await
                .expect("drop database");
            None
        }
        Kind::Sqlite => {
            let dir = s.dir.as_ref().expect("dir").path().join("tenants");
            let (from, to) = (
                dir.join(format!("{home}.db")),
                dir.join(format!("{home}.away")),
            );
            std::fs::rename(&from, &to).expect("rename the tenant file");
            Some((from.display().to_string(), to.display().to_string()))
        }
    };
    let (status, body) = s.get("/health/tenants", &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let report: Value = serde_json::from_str(&body).expect("json");
    let tenants = report["tenants"].as_array().expect("tenants");
    let of = |name: &str| {
        tenants
            .iter()
            .find(|t| t["tenant"] == name)
            .cloned()
            .expect("listed")
    };
    assert_eq!(of(&b)["status"], "unhealthy", "{body}");
    assert_eq!(of(&b)["problem"], "home_missing", "{body}");
    assert_eq!(of(&a)["status"], "ok", "{body}");
    assert!(!body.to_lowercase().contains("sql"), "{body}");

    match (s.kind, restore) {
        (Kind::Postgres, Some((home, away))) => {
            let sql = format!("ALTER SCHEMA \"{away}\" RENAME TO \"{home}\"");
            tenancy
                .inner()
                .execute_unprepared(&sql)
                .await
                .expect("rename back");
        }
        (Kind::Sqlite, Some((from, to))) => std::fs::rename(to, from).expect("rename back"),
        _ => tenancy
            .drop(&b, Irreversibly)
            .await
            .expect("drop the broken tenant"),
    }
    let (status, body) = s.get("/health/tenants", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = s.get("/health", &[("authorization", "")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        !body.contains(&a) && !body.contains(&b),
        "no tenant names: {body}"
    );
    let (status, _) = s.get("/health/tenants", &[("authorization", "")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Twenty concurrent first requests for a new tenant: all succeed, the
/// tenant is registered once and migrated.
async fn on_demand_creation(s: Server) {
    let name = s.name("new");
    let s = Arc::new(s);
    let requests = (0..20).map(|i| {
        let (s, name) = (s.clone(), name.clone());
        tokio::spawn(async move {
            match i % 3 {
                0 => s.get("/api/items", &[("x-tenant", &name)]).await,
                1 => s.get(&format!("/tenant/{name}/api/items"), &[]).await,
                _ => {
                    s.get("/api/items", &[("host", &format!("{name}.localhost"))])
                        .await
                }
            }
        })
    });
    for response in futures_util::future::join_all(requests).await {
        let (status, body) = response.expect("task");
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(titles(&body).is_empty(), "{body}");
    }
    let tenancy = s.app.tenancy();
    let rows = tenancy
        .list()
        .await
        .expect("list")
        .into_iter()
        .filter(|t| t.id.as_str() == name)
        .count();
    assert_eq!(rows, 1);
    let state = tenancy
        .migrations::<TenantMigrator>()
        .status(&name)
        .await
        .expect("status");
    assert_eq!(state.applied.len(), 1, "{state:?}");
    assert!(state.pending.is_empty(), "{state:?}");
    let (status, _) = s
        .json(
            Method::POST,
            "/api/items",
            &[("x-tenant", &name)],
            json!({ "title": "works" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // An invalid name is never created.
    let (status, _) = s.get("/api/items", &[("x-tenant", "Bad Name")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Only a tenant route, with a method that does more than look, and
    // credentials, create a tenant.
    let other = s.name("other");
    for (method, path, auth) in [
        (Method::HEAD, "/api/items", None),
        (Method::OPTIONS, "/api/items", None),
        (Method::GET, "/nowhere", None),
        (Method::GET, "/api/items", Some("")),
        (Method::GET, "/api/items", Some("Bearer nope")),
    ] {
        let mut headers = vec![("x-tenant", other.as_str())];
        if let Some(auth) = auth {
            headers.push(("authorization", auth));
        }
        let (status, _) = s.send(method.clone(), path, &headers, None).await;
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED].contains(&status),
            "{method} {path} {auth:?}: {status}"
        );
    }
    assert!(!tenancy.exists(&other).await.expect("exists"));
    let s = Arc::into_inner(s).expect("the requests are done");
    drop(s);
}

/// A tenant's token reaches its tenant only, whichever way the request
/// names the other; the admin routes need the admin token.
async fn tokens_scenario(s: Server) {
    let (a, b) = (s.name("a"), s.name("b"));
    s.create_tenant(&a).await;
    s.create_tenant(&b).await;
    let (tok_a, tok_b) = (
        format!("Bearer tok-{}-a", s.prefix),
        format!("Bearer tok-{}-b", s.prefix),
    );
    let (status, _) = s
        .json(
            Method::POST,
            "/api/items",
            &[("x-tenant", &b), ("authorization", &tok_b)],
            json!({ "title": "b's secret" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = s
        .get("/api/items", &[("x-tenant", &a), ("authorization", &tok_a)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(titles(&body).is_empty());
    let host_b = format!("{b}.localhost");
    let path_b = format!("/tenant/{b}/api/items");
    for (path, headers) in [
        ("/api/items", vec![("x-tenant", b.as_str())]),
        ("/api/items", vec![("host", host_b.as_str())]),
        (path_b.as_str(), vec![]),
        ("/", vec![("x-tenant", b.as_str())]),
    ] {
        let mut headers = headers.clone();
        headers.push(("authorization", &tok_a));
        let (status, body) = s.get(path, &headers).await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{path} {headers:?}"
        );
        assert!(!body.contains("secret"));
    }
    let (status, _) = s
        .json(
            Method::POST,
            "/api/items",
            &[("x-tenant", &b), ("authorization", &tok_a)],
            json!({ "title": "planted" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for auth in ["", "Bearer nope", "Basic dXNlcjpwYXNz"] {
        let (status, body) = s
            .get("/api/items", &[("x-tenant", &b), ("authorization", auth)])
            .await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "{auth}"
        );
    }
    let (status, _) = s.get("/api/tenants", &[("authorization", &tok_a)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = s.get("/api/items", &[("x-tenant", &b)]).await;
    assert_eq!(
        titles(&body),
        ["b's secret"],
        "the admin token reaches all: {status}"
    );
}

/// Items and tenants come in bounded pages.
async fn pagination(s: Server) {
    let a = s.name("a");
    s.create_tenant(&a).await;
    for n in 0..5 {
        s.add_item(&a, &format!("item {n}")).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/items?limit=2".to_owned();
    loop {
        let (status, body) = s.get(&path, &[("x-tenant", &a)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: Value = serde_json::from_str(&body).expect("json");
        assert!(page["items"].as_array().expect("items").len() <= 2);
        seen.extend(titles(&body));
        match page["next_after"].as_i64() {
            Some(after) => path = format!("/api/items?limit=2&after={after}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|n| format!("item {n}")).collect::<Vec<_>>()
    );
    for query in ["limit=0", "limit=101", "limit=x", "after=abc", "page=2"] {
        let (status, body) = s
            .get(&format!("/api/items?{query}"), &[("x-tenant", &a)])
            .await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::BAD_REQUEST, "invalid_query"),
            "{query}"
        );
    }
    let (status, body) = s.get("/api/items?limit=100", &[("x-tenant", &a)]).await;
    assert_eq!((status, titles(&body).len()), (StatusCode::OK, 5));

    for tag in ["b", "c"] {
        s.create_tenant(&s.name(tag)).await;
    }
    // The tenants of this test, two at a time, from just before the first.
    let mut names = Vec::new();
    let mut after = s.prefix.clone();
    loop {
        let (status, body) = s
            .get(&format!("/api/tenants?limit=2&after={after}"), &[])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: Value = serde_json::from_str(&body).expect("json");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        names.extend(
            items
                .iter()
                .filter_map(|t| t["name"].as_str())
                .filter(|n| n.starts_with(&s.prefix))
                .map(str::to_owned),
        );
        match page["next_after"].as_str() {
            Some(next) if next.starts_with(&s.prefix) => after = next.to_owned(),
            _ => break,
        }
    }
    assert_eq!(names, [s.name("a"), s.name("b"), s.name("c")]);
    let (status, body) = s.get("/api/tenants?limit=1000", &[]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );
}

/// Unknown routes and methods answer JSON too, inside a tenant or not.
async fn fallbacks(s: Server) {
    let a = s.name("a");
    s.create_tenant(&a).await;
    let in_tenant = format!("/tenant/{a}/nowhere");
    for (method, path, status, expected) in [
        (Method::GET, "/nowhere", StatusCode::NOT_FOUND, "not_found"),
        (
            Method::GET,
            in_tenant.as_str(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::DELETE,
            "/api/tenants",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::PATCH,
            "/api/items",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::POST,
            "/health",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::POST,
            "/metrics",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        let response = s
            .client
            .request(method.clone(), format!("{}{path}", s.base))
            .bearer_auth(ADMIN_TOKEN)
            .header("x-tenant", &a)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), status, "{method} {path}");
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert!(response.headers().contains_key("allow"), "{method} {path}");
        }
        let ctype = response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_eq!(ctype, "application/json", "{method} {path}");
        let body = response.text().await.expect("body");
        assert_eq!(code(&body), expected, "{method} {path}");
    }
}

/// A person's way through the pages: sign in with a token (a cookie),
/// create a tenant, add, complete and delete items with the HTML forms;
/// the JSON API sees the same items, and the pages' examples name the
/// address the app listens on.
async fn forms(s: Server) {
    let a = s.name("a");
    let b = s.name("b");
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let post = |path: &str, cookie: &str, form: &[(&str, &str)]| {
        browser
            .post(format!("{}{path}", s.base))
            .header("cookie", cookie)
            .form(form)
            .send()
    };
    let page = |path: &str, cookie: &str| {
        browser
            .get(format!("{}{path}", s.base))
            .header("cookie", cookie)
            .send()
    };

    // Anonymous: a sign-in form, no tenant names, the real address.
    let welcome = page("/", "")
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(welcome.contains("action=\"/ui/session\""), "{welcome}");
    let listening = s.base.trim_start_matches("http://");
    assert!(
        welcome.contains(&format!("curl -X POST {listening}/api/tenants")),
        "{welcome}"
    );

    // Signing in keeps the token in an HttpOnly, SameSite=Strict cookie.
    let signed = post("/ui/session", "", &[("token", ADMIN_TOKEN)])
        .await
        .expect("post");
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let set_cookie = signed.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().expect("pair").to_owned();
    let list = page("/", &cookie)
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(list.contains("action=\"/ui/tenants\""), "{list}");

    // Create a tenant with the form: 303 to its page.
    let created = post("/ui/tenants", &cookie, &[("name", &a)])
        .await
        .expect("post");
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let dashboard = format!("/tenant/{a}/");
    assert_eq!(created.headers()["location"], dashboard.as_str());
    assert!(s.app.tenancy().exists(&a).await.expect("exists"));
    let again = post("/ui/tenants", &cookie, &[("name", &a)])
        .await
        .expect("post");
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let bad = post("/ui/tenants", &cookie, &[("name", "Robert'); DROP")])
        .await
        .expect("post");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let garbled = browser
        .post(format!("{}/ui/tenants", s.base))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("nom=%zz")
        .send()
        .await
        .expect("post");
    assert_eq!(garbled.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&garbled.text().await.expect("body")), "invalid_form");
    let not_a_form = browser
        .post(format!("{}/ui/tenants", s.base))
        .header("cookie", &cookie)
        .json(&json!({ "name": "acme" }))
        .send()
        .await
        .expect("post");
    assert_eq!(not_a_form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Add two items, complete one, delete the other.
    for title in ["Ship it", "Write the docs"] {
        let added = post(
            &format!("/tenant/{a}/ui/items"),
            &cookie,
            &[("title", title)],
        )
        .await
        .expect("post");
        assert_eq!(added.status(), StatusCode::SEE_OTHER);
        assert_eq!(added.headers()["location"], dashboard.as_str());
    }
    let nul = post(
        &format!("/tenant/{a}/ui/items"),
        &cookie,
        &[("title", "a\0b")],
    )
    .await
    .expect("post");
    assert_eq!(nul.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, body) = s.get("/api/items", &[("x-tenant", &a)]).await;
    assert_eq!(titles(&body), ["Ship it", "Write the docs"]);
    let items: Value = serde_json::from_str(&body).expect("json");
    let (first, second) = (
        items["items"][0]["id"].clone(),
        items["items"][1]["id"].clone(),
    );
    let shown = page(&dashboard, &cookie)
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        shown.contains(&format!("action=\"/tenant/{a}/ui/items/{first}/toggle\"")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("curl -X POST {listening}/tenant/{a}/api/items")),
        "{shown}"
    );
    let toggled = post(
        &format!("/tenant/{a}/ui/items/{first}/toggle"),
        &cookie,
        &[],
    )
    .await
    .expect("post");
    assert_eq!(toggled.status(), StatusCode::SEE_OTHER);
    let deleted = post(
        &format!("/tenant/{a}/ui/items/{second}/delete"),
        &cookie,
        &[],
    )
    .await
    .expect("post");
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let (_, body) = s.get("/api/items", &[("x-tenant", &a)]).await;
    let items: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(items["items"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(items["items"][0]["done"], true, "{body}");
    let gone = post(
        &format!("/tenant/{a}/ui/items/{second}/delete"),
        &cookie,
        &[],
    )
    .await
    .expect("post");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // Without the cookie the forms are refused; another tenant's items are
    // not reachable through this one's form.
    let anonymous = post(&format!("/tenant/{a}/ui/items"), "", &[("title", "x")])
        .await
        .expect("post");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    s.create_tenant(&b).await;
    let body = s.add_item(&b, "b's").await;
    let b_item = body["id"].clone();
    let cross = post(
        &format!("/tenant/{a}/ui/items/{b_item}/delete"),
        &cookie,
        &[],
    )
    .await
    .expect("post");
    assert!(
        matches!(
            cross.status(),
            StatusCode::NOT_FOUND | StatusCode::SEE_OTHER
        ),
        "{}",
        cross.status()
    );
    let (_, body) = s.get("/api/items", &[("x-tenant", &b)]).await;
    assert_eq!(titles(&body), ["b's"], "b's item is untouched");

    // Signing out forgets the cookie.
    let out = post("/ui/session/end", &cookie, &[]).await.expect("post");
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .contains("Max-Age=0")
    );
}

/// Another replica (its own pool and caches, as another process has)
/// drops a tenant while this app serves it, then creates it again: this app
/// answers 404 within a bounded time, never a 500, and then the new, empty
/// tenant, never the old rows.
async fn dropped_and_recreated_elsewhere(s: Server) {
    use std::time::Duration;

    let a = s.name("a");
    s.create_tenant(&a).await;
    for i in 0..3 {
        s.add_item(&a, &format!("old {i}")).await;
    }
    let replica = {
        let _lifecycle = locks(s.kind).lifecycle.lock().await;
        axum_app::build(&s.config)
            .await
            .expect("the replica starts")
    };

    // Load on this app while the replica drops and re-creates the tenant.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = tokio::task::JoinSet::new();
    for task in 0..4 {
        let (client, base, a, stop) = (s.client.clone(), s.base.clone(), a.clone(), stop.clone());
        load.spawn(async move {
            let mut seen = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 5_000 {
                n += 1;
                let title = format!("during {task}-{n}");
                let write = (n + task) % 3 == 0;
                let req = if write {
                    client
                        .post(format!("{base}/api/items"))
                        .json(&json!({ "title": title }))
                } else {
                    client.get(format!("{base}/api/items"))
                };
                let sent = Instant::now();
                let response = req
                    .bearer_auth(ADMIN_TOKEN)
                    .header("x-tenant", &a)
                    .send()
                    .await
                    .expect("request");
                let status = response.status();
                let body = response.text().await.expect("body");
                seen.push((sent, write.then_some(title), status, body));
            }
            seen
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    {
        let _lifecycle = locks(s.kind).lifecycle.lock().await;
        replica
            .tenancy()
            .drop(&a, Irreversibly)
            .await
            .expect("drop elsewhere");
    }
    // Bounded: this app answers 404 soon after.
    let dropped = Instant::now();
    loop {
        let (status, _) = s.get("/api/items", &[("x-tenant", &a)]).await;
        if status == StatusCode::NOT_FOUND {
            break;
        }
        assert!(
            dropped.elapsed() < Duration::from_secs(10),
            "still {status} after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    {
        let _lifecycle = locks(s.kind).lifecycle.lock().await;
        replica
            .tenancy()
            .create_and_migrate(&a)
            .await
            .expect("re-create elsewhere");
    }
    let recreated = Instant::now();
    let body = loop {
        let (status, body) = s.get("/api/items", &[("x-tenant", &a)]).await;
        if status == StatusCode::OK {
            break body;
        }
        assert!(
            recreated.elapsed() < Duration::from_secs(10),
            "still {status} after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Writes go on for a while against the new tenant.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut statuses = std::collections::BTreeMap::new();
    let mut acknowledged_later = Vec::new();
    while let Some(seen) = load.join_next().await {
        for (sent, title, status, body) in seen.expect("load task") {
            if let Some(title) = title
                && status == StatusCode::CREATED
                && sent > recreated
            {
                acknowledged_later.push(title);
            }
            assert!(
                !status.is_server_error() || code(&body) == "tenant_provisioning",
                "{status}: {body}"
            );
            assert!(!body.to_lowercase().contains("sql"), "{body}");
            *statuses.entry(status.as_u16()).or_insert(0) += 1;
        }
    }
    assert!(statuses.contains_key(&404), "{statuses:?}");
    // The new tenant holds none of the old rows, nor writes aimed at the
    // old one after it was dropped.
    let old: Vec<String> = titles(&body)
        .into_iter()
        .filter(|t| t.starts_with("old"))
        .collect();
    assert!(old.is_empty(), "{old:?}");
    let conn = s.app.tenancy().tenant(&a).expect("conn");
    let rows = <axum_app::Item as sea_orm::EntityTrait>::find()
        .all(&conn)
        .await
        .expect("read the new home");
    assert!(rows.iter().all(|i| !i.title.starts_with("old")), "{rows:?}");
    // Every write sent after the re-creation and acknowledged is in the
    // new home: none went to the dropped one.
    assert!(
        !acknowledged_later.is_empty(),
        "writes reached the new tenant"
    );
    for title in &acknowledged_later {
        assert!(
            rows.iter().any(|i| &i.title == title),
            "{title} was acknowledged but is not in the new home"
        );
    }
}

/// What a raw client sends that reqwest would not: two `Host` headers, an
/// absolute-form target whose authority is not `Host`. Both 400, through
/// the real HTTP/1 server.
async fn raw_ambiguity(s: Server) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (a, b) = (s.name("a"), s.name("b"));
    s.create_tenant(&a).await;
    s.create_tenant(&b).await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    for request in [
        format!("GET /api/items HTTP/1.1\r\nhost: {a}.localhost\r\nhost: {b}.localhost\r\n\r\n"),
        format!("GET http://{b}.localhost/api/items HTTP/1.1\r\nhost: {a}.localhost\r\n\r\n"),
    ] {
        let mut stream = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let request = request.replace(
            "\r\n\r\n",
            &format!("\r\nauthorization: Bearer {ADMIN_TOKEN}\r\nconnection: close\r\n\r\n"),
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_end(&mut answer),
        )
        .await
        .expect("an answer")
        .expect("read");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{request}: {answer}");
        assert!(answer.contains("ambiguous_tenant"), "{request}: {answer}");
    }
}

/// A request refused before its body is read (401 here) leaves the
/// connection usable for the next request.
async fn refusal_keeps_the_connection(s: Server) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let body = r#"{"name": "nobody"}"#;
    let refused = format!(
        "POST /api/tenants HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let next = "GET /health HTTP/1.1\r\nhost: x\r\n\r\n";
    stream.write_all(refused.as_bytes()).await.expect("write");
    let mut answers = String::new();
    let mut buf = vec![0; 8192];
    while !answers.contains("unauthorized") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer")
            .expect("read");
        assert!(n > 0, "closed after the refusal: {answers}");
        answers.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(answers.starts_with("HTTP/1.1 401"), "{answers}");
    stream
        .write_all(next.as_bytes())
        .await
        .expect("write the next request");
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("an answer")
        .expect("read");
    let second = String::from_utf8_lossy(&buf[..n]);
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");
}

/// The periodic job: in every active tenant, done items older than the
/// cut-off go, the rest stay, each tenant's rows its own.
async fn periodic_purge(s: Server) {
    let (a, b) = (s.name("pa"), s.name("pb"));
    for tenant in [&a, &b] {
        s.create_tenant(tenant).await;
        for title in ["keep", "done"] {
            let item = s.add_item(tenant, &format!("{tenant} {title}")).await;
            if title == "done" {
                let path = format!("/api/items/{}", item["id"]);
                let (status, body) = s
                    .json(
                        Method::PUT,
                        &path,
                        &[("x-tenant", tenant)],
                        json!({ "title": format!("{tenant} done"), "done": true }),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
    }
    // Nothing is older than a day yet.
    let day = std::time::Duration::from_secs(86_400);
    let report = axum_app::purge_done(s.app.tenancy(), day)
        .await
        .expect("purge");
    for tenant in [&a, &b] {
        let mine = report
            .tenants
            .iter()
            .find(|t| t.tenant.as_str() == tenant.as_str());
        assert!(
            matches!(mine.map(|t| &t.outcome), Some(tenancy::JobOutcome::Ok(0))),
            "{tenant}: {report:?}"
        );
    }
    // Past the second the items were stamped with (MySQL rounds
    // timestamps to the second).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let report = axum_app::purge_done(s.app.tenancy(), std::time::Duration::ZERO)
        .await
        .expect("purge");
    for tenant in [&a, &b] {
        let deleted = report
            .tenants
            .iter()
            .find(|t| t.tenant.as_str() == tenant.as_str());
        assert!(
            matches!(
                deleted.map(|t| &t.outcome),
                Some(tenancy::JobOutcome::Ok(1))
            ),
            "{tenant}: {report:?}"
        );
        let (status, items) = s.get("/api/items", &[("x-tenant", tenant)]).await;
        assert_eq!(status, StatusCode::OK, "{items}");
        let items: Value = serde_json::from_str(&items).expect("json");
        let titles: Vec<&str> = items["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["title"].as_str())
            .collect();
        assert_eq!(titles, [format!("{tenant} keep")], "{tenant}");
    }
}

macro_rules! backend {
    ($module:ident, $kind:expr) => {
        mod $module {
            use super::*;

            async fn start(on_demand: bool, exclusive: bool) -> Option<Server> {
                Server::start($kind, on_demand, exclusive).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn isolation_by_header_subdomain_and_path() {
                if let Some(s) = start(false, false).await {
                    isolation(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn item_crud_and_bad_requests() {
                if let Some(s) = start(false, false).await {
                    item_crud(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn unknown_invalid_suspended_and_missing_tenants() {
                if let Some(s) = start(false, false).await {
                    refusals(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn tenant_list_pages_and_metrics() {
                if let Some(s) = start(false, false).await {
                    tenants_pages_and_metrics(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn health_goes_503_when_a_home_disappears() {
                if let Some(s) = start(false, true).await {
                    health(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_tenant_token_reaches_its_tenant_only() {
                let tokens = |config: &mut Config, prefix: &str| {
                    config.tenant_tokens = ["a", "b"]
                        .map(|t| (format!("tok-{prefix}-{t}"), format!("{prefix}{t}")))
                        .to_vec();
                };
                if let Some(s) = Server::start_with($kind, false, tokens).await {
                    tokens_scenario(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn items_and_tenants_are_paginated() {
                if let Some(s) = start(false, false).await {
                    pagination(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn unknown_routes_and_methods_answer_json() {
                if let Some(s) = start(false, false).await {
                    fallbacks(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn html_forms_sign_in_create_and_edit() {
                if let Some(s) = start(false, false).await {
                    forms(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_tenant_dropped_and_recreated_elsewhere_is_never_served_stale() {
                if let Some(s) = start(false, false).await {
                    dropped_and_recreated_elsewhere(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn two_hosts_or_an_absolute_target_disagreeing_are_400() {
                if let Some(s) = start(false, false).await {
                    raw_ambiguity(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_refused_request_keeps_the_connection_usable() {
                if let Some(s) = start(false, false).await {
                    refusal_keeps_the_connection(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_periodic_purge_runs_in_every_tenant() {
                // Alone: it purges every tenant of the database.
                if let Some(s) = start(false, true).await {
                    periodic_purge(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn twenty_concurrent_first_requests_create_once() {
                if let Some(s) = start(true, false).await {
                    on_demand_creation(s).await;
                }
            }
        }
    };
}

backend!(sqlite, Kind::Sqlite);
backend!(postgres, Kind::Postgres);
backend!(mysql, Kind::MySql);

/// The same application, unchanged, on a Citus coordinator: tenants kept
/// apart over HTTP and every item operation, each tenant on its worker.
mod citus {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn isolation_by_header_subdomain_and_path() {
        if let Some(s) = Server::start(Kind::Citus, false, false).await {
            isolation(s).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn item_crud_and_bad_requests() {
        if let Some(s) = Server::start(Kind::Citus, false, false).await {
            item_crud(s).await;
        }
    }
}

/// A client slow to send its headers is disconnected; one slow to send its
/// body gets 408 `request_timeout` as JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_time_out() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let s = Server::start_with(Kind::Sqlite, false, |config, _| {
        config.header_timeout = Duration::from_secs(1);
        config.request_timeout = Duration::from_secs(1);
    })
    .await
    .expect("sqlite");
    let a = s.name("a");
    s.create_tenant(&a).await;
    let addr = s.base.trim_start_matches("http://").to_owned();

    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    slow.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection stays open");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        !String::from_utf8_lossy(&buf).contains("200 OK"),
        "{}",
        String::from_utf8_lossy(&buf)
    );

    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/items HTTP/1.1\r\nhost: x\r\nx-tenant: {a}\r\n\
         authorization: Bearer {ADMIN_TOKEN}\r\ncontent-type: application/json\r\n\
         content-length: 100\r\n\r\n{{\"title\""
    );
    slow.write_all(head.as_bytes()).await.expect("write");
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut buf))
        .await
        .expect("an answer before the test gives up")
        .expect("read");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}
