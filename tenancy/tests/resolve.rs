//! The request layer end to end on a real SQLite tenancy, through the
//! public API only.
#![cfg(feature = "axum")]

//! The layer driven with `tower::ServiceExt::oneshot` over a real SQLite
//! tenancy: every resolver, every rejection, hostile hosts, on-demand creation.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use axum::{Router, body::Body, routing::get};
use http::{Request, StatusCode, request::Parts};
use sea_orm::{ConnectionTrait, Database, Statement};
use tower::ServiceExt;

use tenancy::{Error, Scope, Tenancy, TenantEvent, current, resolve::*};

struct Setup {
    tenancy: Tenancy,
    statements: Arc<Mutex<Vec<Option<String>>>>,
    created: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
    let db = Database::connect(&url).await.expect("sqlite");
    let statements = Arc::new(Mutex::new(Vec::new()));
    let created = Arc::new(AtomicUsize::new(0));
    let (seen, count) = (statements.clone(), created.clone());
    let tenancy = Tenancy::builder(db)
        .table("items", Scope::Tenant)
        .on_statement(move |e| {
            let tenant = e.tenant.map(ToString::to_string);
            seen.lock().expect("lock").push(tenant);
        })
        .on_event(move |e| {
            if matches!(e, TenantEvent::Created { .. }) {
                count.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .await
        .expect("tenancy");
    for name in ["acme", "globex"] {
        tenancy.create(name).await.expect("create");
        let conn = tenancy.tenant(name).expect("tenant");
        conn.execute_unprepared("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
            .await
            .expect("table");
        let insert = format!("INSERT INTO items (name) VALUES ('{name} item')");
        conn.execute_unprepared(&insert).await.expect("row");
    }
    statements.lock().expect("lock").clear();
    Setup {
        tenancy,
        statements,
        created,
        _dir: dir,
    }
}

/// Answers with the tenant it got, the contextual tenant, and the name of
/// the tenant's one item read through `TenantDb`.
async fn whoami(tenant: Option<Tenant>, db: Option<TenantDb>, resolved: Resolved) -> String {
    let item = match db {
        Some(db) => {
            let stmt = Statement::from_string(db.get_database_backend(), "SELECT name FROM items");
            let row = db.query_one_raw(stmt).await.expect("query").expect("row");
            row.try_get::<String>("", "name").expect("name")
        }
        None => "-".to_owned(),
    };
    let scoped = current().map_or_else(|| "-".to_owned(), |t| t.to_string());
    let tenant = tenant.map_or_else(|| format!("{resolved:?}"), |t| t.to_string());
    format!("{tenant}|{scoped}|{item}")
}

fn app(layer: TenantLayer) -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route(
            "/strict",
            get(|Tenant(t): Tenant| async move { t.to_string() }),
        )
        .layer(layer)
}

fn full_layer(tenancy: &Tenancy) -> TenantLayer {
    TenantLayer::new(tenancy.clone())
        .admin_host("admin.example.com")
        .header("x-tenant")
        .subdomain_of("example.com", ["api"])
        .custom_domains()
        .path_prefix("/t")
}

async fn call<S>(app: &S, req: Request<Body>) -> (StatusCode, String)
where
    S: tower::Service<
            Request<Body>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone,
{
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn get_req(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Body::empty()).expect("request")
}

fn error_code(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).expect("json body");
    json["error"]["code"].as_str().expect("code").to_owned()
}

#[tokio::test]
async fn the_header_names_the_tenant_and_the_request_runs_in_its_scope() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy));
    for name in ["acme", "globex"] {
        let (status, body) = call(&app, get_req("/whoami", &[("x-tenant", name)])).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, format!("{name}|{name}|{name} item"));
    }
}

#[tokio::test]
async fn subdomains_resolve_with_port_and_case_folded() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy));
    for host in [
        "acme.example.com",
        "ACME.example.com:8080",
        "acme.Example.COM.",
    ] {
        let (status, body) = call(&app, get_req("/whoami", &[("host", host)])).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "acme|acme|acme item"),
            "{host}"
        );
    }
    for host in ["www.example.com", "api.example.com", "example.com"] {
        let (status, body) = call(&app, get_req("/whoami", &[("host", host)])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{host}");
        assert_eq!(error_code(&body), "tenant_required", "{host}");
    }
    let (status, body) = call(&app, get_req("/whoami", &[("host", "a.b.example.com")])).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_tenant_name")
    );
}

#[tokio::test]
async fn the_path_prefix_is_stripped_before_routing() {
    let s = setup().await;
    // Around the router, not `Router::layer` (which runs after routing).
    let routes = Router::new().route("/whoami", get(whoami));
    let app = tower::Layer::layer(&full_layer(&s.tenancy), routes);
    let (status, body) = call(&app, get_req("/t/globex/whoami?x=1", &[])).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "globex|globex|globex item")
    );
    let (status, _) = call(&app, get_req("/t/globex/nowhere", &[])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn custom_domains_resolve_until_removed() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy));
    s.tenancy
        .add_domain("Shop.Acme.test", "acme")
        .await
        .expect("add");
    let err = s.tenancy.add_domain("shop.acme.test", "globex").await;
    assert!(matches!(err, Err(Error::DomainTaken { .. })), "{err:?}");
    assert_eq!(
        s.tenancy.domains_of("acme").await.expect("list"),
        ["shop.acme.test"]
    );
    let (status, body) = call(&app, get_req("/whoami", &[("host", "shop.acme.test:443")])).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "acme|acme|acme item")
    );
    assert!(
        s.tenancy
            .remove_domain("shop.acme.test")
            .await
            .expect("remove")
    );
    let (status, body) = call(&app, get_req("/whoami", &[("host", "shop.acme.test")])).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "tenant_required")
    );
}

#[tokio::test]
async fn dropping_a_tenant_removes_its_domains() {
    let s = setup().await;
    s.tenancy
        .add_domain("globex.test", "globex")
        .await
        .expect("add");
    s.tenancy
        .drop("globex", tenancy::Irreversibly)
        .await
        .expect("drop");
    assert_eq!(
        s.tenancy
            .tenant_of_domain("globex.test")
            .await
            .expect("lookup"),
        None
    );
    s.tenancy.create("globex").await.expect("create again");
    assert_eq!(
        s.tenancy
            .tenant_of_domain("globex.test")
            .await
            .expect("lookup"),
        None
    );
}

#[tokio::test]
async fn the_admin_host_has_no_tenant_on_purpose() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy));
    let headers = [("host", "Admin.Example.com:8443"), ("x-tenant", "acme")];
    let (status, body) = call(&app, get_req("/whoami", &headers)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "Admin|-|-"));
    let (status, body) = call(&app, get_req("/strict", &headers)).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "tenant_required")
    );
}

#[tokio::test]
async fn unknown_invalid_suspended_and_missing_tenants_are_refused() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy));
    let cases = [
        ("nobody", StatusCode::NOT_FOUND, "tenant_not_found"),
        (
            "Robert'); DROP TABLE items;--",
            StatusCode::BAD_REQUEST,
            "invalid_tenant_name",
        ),
        ("ACME", StatusCode::BAD_REQUEST, "invalid_tenant_name"),
        ("", StatusCode::BAD_REQUEST, "invalid_tenant_name"),
    ];
    for (name, status, code) in cases {
        let (got, body) = call(&app, get_req("/whoami", &[("x-tenant", name)])).await;
        assert_eq!(
            (got, error_code(&body).as_str()),
            (status, code),
            "{name:?}"
        );
        assert!(!body.contains("SQL") && !body.contains("sqlite"), "{body}");
    }
    // Warm the status cache, then suspend: the change shows at once.
    let (status, _) = call(&app, get_req("/whoami", &[("x-tenant", "acme")])).await;
    assert_eq!(status, StatusCode::OK);
    s.tenancy.suspend("acme").await.expect("suspend");
    let (status, body) = call(&app, get_req("/whoami", &[("x-tenant", "acme")])).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::FORBIDDEN, "tenant_suspended")
    );
    let (status, body) = call(
        &app,
        Request::get("/whoami").body(Body::empty()).expect("req"),
    )
    .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "tenant_required")
    );
    let statements = s.statements.lock().expect("lock");
    assert!(
        statements.iter().flatten().all(|t| t == "acme"),
        "only acme's statements ran: {statements:?}"
    );
}

#[tokio::test]
async fn optional_resolution_and_a_custom_status() {
    let s = setup().await;
    let open = app(TenantLayer::new(s.tenancy.clone())
        .header("x-tenant")
        .require_tenant(false));
    let (status, body) = call(&open, get_req("/whoami", &[])).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "Unresolved|-|-"));
    let (status, body) = call(&open, get_req("/strict", &[])).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "tenant_required")
    );
    let strict = app(TenantLayer::new(s.tenancy.clone())
        .header("x-tenant")
        .missing_tenant_status(StatusCode::UNAUTHORIZED));
    let (status, _) = call(&strict, get_req("/whoami", &[])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bare = Router::new().route(
        "/strict",
        get(|Tenant(t): Tenant| async move { t.to_string() }),
    );
    let (status, body) = call(&bare, get_req("/strict", &[])).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "tenant_layer_missing")
    );
}

#[tokio::test]
async fn a_closure_can_resolve() {
    let s = setup().await;
    let layer = TenantLayer::new(s.tenancy.clone()).resolver(|parts: &Parts| {
        let key = parts.headers.get("x-api-key").cloned();
        async move {
            match key.as_ref().map(|k| k.as_bytes()) {
                Some(b"k-globex") => Resolution::Tenant("globex".into()),
                Some(_) => Resolution::Invalid("unknown key"),
                None => Resolution::Next,
            }
        }
    });
    let app = app(layer);
    let (status, body) = call(&app, get_req("/whoami", &[("x-api-key", "k-globex")])).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "globex|globex|globex item")
    );
    let (status, _) = call(&app, get_req("/whoami", &[("x-api-key", "nope")])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_first_requests_create_the_tenant_once() {
    let s = setup().await;
    let app = Router::new()
        .route("/", get(|Tenant(t): Tenant| async move { t.to_string() }))
        .layer(
            TenantLayer::new(s.tenancy.clone())
                .header("x-tenant")
                .create_on_demand(true),
        );
    let before = s.created.load(Ordering::SeqCst);
    let requests = (0..20).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { call(&app, get_req("/", &[("x-tenant", "initech")])).await })
    });
    for response in futures_util::future::join_all(requests).await {
        let (status, body) = response.expect("task");
        assert_eq!((status, body.as_str()), (StatusCode::OK, "initech"));
    }
    assert_eq!(s.created.load(Ordering::SeqCst) - before, 1);
    assert!(s.tenancy.exists("initech").await.expect("exists"));
    let (status, _) = call(&app, get_req("/", &[("x-tenant", "Bad Name")])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!s.tenancy.home_exists("bad_name").await.expect("no home"));
}

/// Hostile `Host` headers: never a 5xx, never a tenant other than one of
/// ours, never a statement outside the tenants that exist.
#[tokio::test]
async fn hostile_hosts_resolve_to_nothing_or_are_refused() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy));
    let corpus = include_str!("../../tests/corpus/hostile-hosts.txt");
    let mut checked = 0;
    for host in corpus
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let host = unescape(host);
        let Ok(value) = http::HeaderValue::from_bytes(host.as_bytes()) else {
            continue; // hyper would refuse it before any service runs
        };
        let mut req = get_req("/whoami", &[]);
        req.headers_mut().insert(http::header::HOST, value);
        let (status, body) = call(&app, req).await;
        checked += 1;
        match status {
            StatusCode::OK => assert!(
                body.starts_with("acme|acme|")
                    || body.starts_with("globex|globex|")
                    || body == "Admin|-|-",
                "{host:?} -> {body}"
            ),
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND => {
                let code = error_code(&body);
                assert!(
                    ["invalid_tenant_name", "tenant_required", "tenant_not_found"]
                        .contains(&code.as_str()),
                    "{host:?} -> {code}"
                );
            }
            other => panic!("{host:?} -> {other}: {body}"),
        }
    }
    assert!(checked >= 100, "only {checked} hosts checked");
    let statements = s.statements.lock().expect("lock");
    assert!(
        statements
            .iter()
            .flatten()
            .all(|t| t == "acme" || t == "globex")
    );
}

/// The corpus escapes: `\n`, `\r`, `\t`, `\0`, `\\`, `\xNN`, `\u{...}`, and `\e`
/// (the empty entry).
fn unescape(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('e') => {}
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(char::from(
                    u8::from_str_radix(&hex, 16).expect("hex escape"),
                ));
            }
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                let code = u32::from_str_radix(&hex, 16).expect("unicode escape");
                out.push(char::from_u32(code).expect("scalar"));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}
