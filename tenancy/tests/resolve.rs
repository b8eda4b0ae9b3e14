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
async fn a_domain_store_that_cannot_be_read_is_unavailable_not_invalid() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy));
    s.tenancy
        .inner()
        .execute_unprepared("DROP TABLE tenancy_domains")
        .await
        .expect("the domain table gone");
    let (status, body) = call(&app, get_req("/whoami", &[("host", "shop.unknown.test")])).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        "{body}"
    );
    assert!(
        !body.contains("tenancy_domains"),
        "no database text: {body}"
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

/// Request headers, repeats allowed.
type Headers<'a> = &'a [(&'a str, &'a str)];

/// A request built from a URI and headers, repeats allowed.
fn raw_req(method: http::Method, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Body::empty()).expect("request")
}

fn assert_refused(got: (StatusCode, String), status: StatusCode, code: &str, case: &str) {
    assert_eq!(
        (got.0, error_code(&got.1).as_str()),
        (status, code),
        "{case}"
    );
}

#[tokio::test]
async fn repeated_tenant_and_host_headers_are_ambiguous() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy));
    let cases: [(&str, &[(&str, &str)]); 4] = [
        (
            "two tenant headers",
            &[("x-tenant", "acme"), ("x-tenant", "globex")],
        ),
        (
            "the same tenant twice",
            &[("x-tenant", "acme"), ("x-tenant", "acme")],
        ),
        (
            "two hosts",
            &[("host", "acme.example.com"), ("host", "globex.example.com")],
        ),
        (
            "two hosts, one tenant header",
            &[
                ("x-tenant", "acme"),
                ("host", "acme.example.com"),
                ("host", "evil.test"),
            ],
        ),
    ];
    for (case, headers) in cases {
        let got = call(&app, raw_req(http::Method::GET, "/whoami", headers)).await;
        assert_refused(got, StatusCode::BAD_REQUEST, "ambiguous_tenant", case);
    }
}

#[tokio::test]
async fn resolvers_that_disagree_are_ambiguous_and_agreeing_ones_resolve() {
    let s = setup().await;
    s.tenancy
        .add_domain("shop.acme.test", "acme")
        .await
        .expect("add");
    let routes = Router::new().route("/whoami", get(whoami));
    let wrapped = tower::Layer::layer(&full_layer(&s.tenancy), routes);
    let refused: [(&str, &str, Headers<'_>); 4] = [
        (
            "path and header",
            "/t/acme/whoami",
            &[("x-tenant", "globex")],
        ),
        (
            "path and subdomain",
            "/t/acme/whoami",
            &[("host", "globex.example.com")],
        ),
        (
            "header and subdomain",
            "/whoami",
            &[("x-tenant", "globex"), ("host", "acme.example.com")],
        ),
        (
            "header and custom domain",
            "/whoami",
            &[("x-tenant", "globex"), ("host", "shop.acme.test")],
        ),
    ];
    for (case, uri, headers) in refused {
        let got = call(&wrapped, raw_req(http::Method::GET, uri, headers)).await;
        assert_refused(got, StatusCode::BAD_REQUEST, "ambiguous_tenant", case);
    }
    let agreeing: [(&str, &[(&str, &str)]); 3] = [
        ("/t/acme/whoami", &[("x-tenant", "acme")]),
        (
            "/whoami",
            &[("x-tenant", "acme"), ("host", "acme.example.com")],
        ),
        (
            "/t/acme/whoami",
            &[("x-tenant", "acme"), ("host", "shop.acme.test")],
        ),
    ];
    for (uri, headers) in agreeing {
        let (status, body) = call(&wrapped, raw_req(http::Method::GET, uri, headers)).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "acme|acme|acme item"),
            "{uri} {headers:?}"
        );
    }
    // A resolver of your own that says "admin" disagrees with one naming a tenant.
    let admin_or_tenant = app(TenantLayer::new(s.tenancy.clone())
        .resolver(|parts: &Parts| {
            let admin = parts.headers.contains_key("x-admin");
            async move {
                if admin {
                    Resolution::Admin
                } else {
                    Resolution::Next
                }
            }
        })
        .header("x-tenant"));
    let got = call(
        &admin_or_tenant,
        get_req("/whoami", &[("x-admin", "1"), ("x-tenant", "acme")]),
    )
    .await;
    assert_refused(
        got,
        StatusCode::BAD_REQUEST,
        "ambiguous_tenant",
        "admin and a tenant",
    );
    let (status, body) = call(&admin_or_tenant, get_req("/whoami", &[("x-admin", "1")])).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "Admin|-|-"));
}

#[tokio::test]
async fn an_absolute_form_target_must_agree_with_host() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy));
    let got = call(
        &app,
        raw_req(
            http::Method::GET,
            "http://globex.example.com/whoami",
            &[("host", "acme.example.com")],
        ),
    )
    .await;
    assert_refused(
        got,
        StatusCode::BAD_REQUEST,
        "ambiguous_tenant",
        "authority vs host",
    );
    // The admin host behind a disagreeing authority is no way around it.
    let got = call(
        &app,
        raw_req(
            http::Method::GET,
            "http://acme.example.com/whoami",
            &[("host", "admin.example.com")],
        ),
    )
    .await;
    assert_refused(
        got,
        StatusCode::BAD_REQUEST,
        "ambiguous_tenant",
        "authority vs admin host",
    );
    for (uri, headers) in [
        (
            "http://ACME.example.com:8080/whoami",
            vec![("host", "acme.example.com")],
        ),
        ("http://acme.example.com/whoami", vec![]),
    ] {
        let (status, body) = call(&app, raw_req(http::Method::GET, uri, &headers)).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "acme|acme|acme item"),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn a_trusted_host_header_replaces_host() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy).trusted_host_header("x-forwarded-host"));
    let forwarded = [
        ("host", "internal:8080"),
        ("x-forwarded-host", "globex.example.com"),
    ];
    let (status, body) = call(&app, get_req("/whoami", &forwarded)).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "globex|globex|globex item")
    );
    // Host no longer counts, nor does an authority that disagrees with it.
    let (status, body) = call(
        &app,
        raw_req(
            http::Method::GET,
            "http://acme.example.com/whoami",
            &forwarded,
        ),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "globex|globex|globex item")
    );
    let got = call(&app, get_req("/whoami", &[("host", "acme.example.com")])).await;
    assert_refused(
        got,
        StatusCode::BAD_REQUEST,
        "tenant_required",
        "no forwarded host",
    );
    let (status, body) = call(
        &app,
        get_req("/whoami", &[("x-forwarded-host", "admin.example.com")]),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "Admin|-|-"));
    let cases: [(&str, &[(&str, &str)]); 2] = [
        (
            "a list",
            &[("x-forwarded-host", "acme.example.com, globex.example.com")],
        ),
        (
            "repeated",
            &[
                ("x-forwarded-host", "acme.example.com"),
                ("x-forwarded-host", "acme.example.com"),
            ],
        ),
    ];
    for (case, headers) in cases {
        let got = call(&app, raw_req(http::Method::GET, "/whoami", headers)).await;
        assert_refused(got, StatusCode::BAD_REQUEST, "ambiguous_tenant", case);
    }
}

/// Hostile request shapes beyond one `Host`: every ambiguous combination
/// of two host or tenant sources is refused with 400, runs no statement,
/// and never reaches a tenant.
#[tokio::test]
async fn hostile_combinations_are_refused() {
    let s = setup().await;
    let routes = Router::new().route("/whoami", get(whoami));
    let app = tower::Layer::layer(&full_layer(&s.tenancy), routes);
    let hosts = [
        "acme.example.com",
        "globex.example.com",
        "admin.example.com",
        "ACME.example.com.",
    ];
    let mut checked = 0;
    for first in hosts {
        for second in hosts {
            if first
                .trim_end_matches('.')
                .eq_ignore_ascii_case(second.trim_end_matches('.'))
            {
                continue;
            }
            let requests = [
                raw_req(
                    http::Method::GET,
                    "/whoami",
                    &[("host", first), ("host", second)],
                ),
                raw_req(
                    http::Method::GET,
                    &format!("http://{first}/whoami"),
                    &[("host", second)],
                ),
            ];
            for req in requests {
                let got = call(&app, req).await;
                assert_refused(
                    got,
                    StatusCode::BAD_REQUEST,
                    "ambiguous_tenant",
                    &format!("{first} / {second}"),
                );
                checked += 1;
            }
        }
    }
    for (path, header) in [("/t/acme/whoami", "globex"), ("/t/globex/whoami", "acme")] {
        for method in [
            http::Method::GET,
            http::Method::POST,
            http::Method::HEAD,
            http::Method::OPTIONS,
        ] {
            let req = raw_req(method.clone(), path, &[("x-tenant", header)]);
            let (status, body) = call(&app, req).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path} {header}");
            if method != http::Method::HEAD {
                assert_eq!(error_code(&body), "ambiguous_tenant");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 28);
    assert!(s.statements.lock().expect("lock").is_empty());
}

/// The token of the request, if it has one of the form `Bearer tok-NAME`.
fn bearer_hook(parts: &Parts, tenant: &tenancy::TenantId) -> impl Future<Output = Access> + use<> {
    let token = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer tok-"))
        .map(str::to_owned);
    let tenant = tenant.to_string();
    async move {
        match token {
            None => Access::Unauthorized,
            Some(t) if t == tenant => Access::Allow,
            Some(_) => Access::Forbidden,
        }
    }
}

#[tokio::test]
async fn the_authorization_hook_keeps_each_token_to_its_tenant() {
    let s = setup().await;
    let app = app(full_layer(&s.tenancy).authorize(bearer_hook));
    let (status, body) = call(
        &app,
        get_req(
            "/whoami",
            &[("x-tenant", "acme"), ("authorization", "Bearer tok-acme")],
        ),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "acme|acme|acme item")
    );
    // The same token, another tenant by header, subdomain or path.
    let routes = Router::new().route("/whoami", get(whoami));
    let wrapped = tower::Layer::layer(&full_layer(&s.tenancy).authorize(bearer_hook), routes);
    for (uri, headers) in [
        ("/whoami", vec![("x-tenant", "globex")]),
        ("/whoami", vec![("host", "globex.example.com")]),
        ("/t/globex/whoami", vec![]),
    ] {
        let mut headers = headers.clone();
        headers.push(("authorization", "Bearer tok-acme"));
        let got = call(&wrapped, get_req(uri, &headers)).await;
        assert_refused(got, StatusCode::FORBIDDEN, "forbidden", uri);
    }
    let got = call(&app, get_req("/whoami", &[("x-tenant", "globex")])).await;
    assert_refused(got, StatusCode::UNAUTHORIZED, "unauthorized", "no token");
    // Asked before the registry: an unknown tenant is not told apart.
    let got = call(&app, get_req("/whoami", &[("x-tenant", "nobody")])).await;
    assert_refused(
        got,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "unknown tenant",
    );
    // Requests without a tenant are not asked.
    let (status, _) = call(&app, get_req("/whoami", &[("host", "admin.example.com")])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        s.statements
            .lock()
            .expect("lock")
            .iter()
            .flatten()
            .all(|t| t == "acme")
    );
}

#[tokio::test]
async fn the_authorization_hook_runs_before_on_demand_creation() {
    let s = setup().await;
    let app = app(TenantLayer::new(s.tenancy.clone())
        .header("x-tenant")
        .authorize(bearer_hook)
        .create_on_demand(true));
    let before = s.created.load(Ordering::SeqCst);
    for headers in [
        vec![("x-tenant", "initech")],
        vec![
            ("x-tenant", "initech"),
            ("authorization", "Bearer tok-acme"),
        ],
    ] {
        let (status, _) = call(&app, get_req("/whoami", &headers)).await;
        assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN);
    }
    assert_eq!(s.created.load(Ordering::SeqCst), before);
    assert!(!s.tenancy.home_exists("initech").await.expect("home"));
    let headers = [
        ("x-tenant", "initech"),
        ("authorization", "Bearer tok-initech"),
    ];
    let (status, _) = call(&app, raw_req(http::Method::GET, "/strict", &headers)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.created.load(Ordering::SeqCst), before + 1);
}

fn on_demand_app(layer: TenantLayer) -> Router {
    Router::new()
        .route(
            "/",
            get(|Tenant(t): Tenant| async move { t.to_string() })
                .post(|Tenant(t): Tenant| async move { t.to_string() }),
        )
        .layer(layer.header("x-tenant"))
}

#[tokio::test]
async fn head_and_options_create_nothing_by_default() {
    let s = setup().await;
    let app = on_demand_app(TenantLayer::new(s.tenancy.clone()).create_on_demand(true));
    for method in [
        http::Method::HEAD,
        http::Method::OPTIONS,
        http::Method::TRACE,
    ] {
        let (status, _) = call(
            &app,
            raw_req(method.clone(), "/", &[("x-tenant", "initech")]),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    assert!(!s.tenancy.exists("initech").await.expect("exists"));
    let (status, _) = call(&app, get_req("/", &[("x-tenant", "initech")])).await;
    assert_eq!(status, StatusCode::OK);
    // Once it exists, HEAD reaches it.
    let (status, _) = call(
        &app,
        raw_req(http::Method::HEAD, "/", &[("x-tenant", "initech")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_admission_hook_decides_who_creates() {
    let s = setup().await;
    let app = on_demand_app(TenantLayer::new(s.tenancy.clone()).create_on_demand_if(
        |parts, tenant| {
            let ok = parts.method == http::Method::POST && tenant.as_str() != "forbidden";
            async move { ok }
        },
    ));
    let got = call(&app, get_req("/", &[("x-tenant", "initech")])).await;
    assert_refused(got, StatusCode::NOT_FOUND, "tenant_not_found", "a GET");
    let got = call(
        &app,
        raw_req(http::Method::POST, "/", &[("x-tenant", "forbidden")]),
    )
    .await;
    assert_refused(
        got,
        StatusCode::NOT_FOUND,
        "tenant_not_found",
        "a refused name",
    );
    let (status, body) = call(
        &app,
        raw_req(http::Method::POST, "/", &[("x-tenant", "initech")]),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "initech"));
    let (status, _) = call(&app, get_req("/", &[("x-tenant", "initech")])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!s.tenancy.exists("forbidden").await.expect("exists"));
}

#[tokio::test]
async fn on_demand_creation_is_capped_per_layer() {
    let s = setup().await;
    let layer = TenantLayer::new(s.tenancy.clone())
        .create_on_demand(true)
        .on_demand_limit(2);
    let app = on_demand_app(layer.clone());
    // Another router on a clone of the layer shares the cap.
    let other = on_demand_app(layer);
    let before = s.created.load(Ordering::SeqCst);
    for name in ["one", "two"] {
        let (status, _) = call(&app, get_req("/", &[("x-tenant", name)])).await;
        assert_eq!(status, StatusCode::OK, "{name}");
    }
    for app in [&app, &other] {
        let got = call(app, get_req("/", &[("x-tenant", "three")])).await;
        assert_refused(
            got,
            StatusCode::TOO_MANY_REQUESTS,
            "creation_limit_reached",
            "three",
        );
    }
    assert_eq!(s.created.load(Ordering::SeqCst) - before, 2);
    // Existing tenants are not affected.
    let (status, _) = call(&other, get_req("/", &[("x-tenant", "one")])).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn on_demand_creation_is_rate_limited() {
    let s = setup().await;
    let app = on_demand_app(
        TenantLayer::new(s.tenancy.clone())
            .create_on_demand(true)
            .on_demand_rate(1, 2),
    );
    for name in ["one", "two"] {
        let (status, _) = call(&app, get_req("/", &[("x-tenant", name)])).await;
        assert_eq!(status, StatusCode::OK, "{name}");
    }
    let response = app
        .clone()
        .oneshot(get_req("/", &[("x-tenant", "three")]))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    let got = call(&app, get_req("/", &[("x-tenant", "three")])).await;
    assert_refused(
        got,
        StatusCode::TOO_MANY_REQUESTS,
        "creation_rate_limited",
        "three",
    );
    assert!(!s.tenancy.exists("three").await.expect("exists"));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _) = call(&app, get_req("/", &[("x-tenant", "three")])).await;
    assert_eq!(status, StatusCode::OK);
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

/// A migration that takes a while, so a request can go away during it.
struct Slow;

impl sea_orm_migration::MigrationName for Slow {
    fn name(&self) -> &str {
        "m1_slow"
    }
}

#[async_trait::async_trait]
impl sea_orm_migration::MigrationTrait for Slow {
    async fn up(&self, m: &sea_orm_migration::SchemaManager) -> Result<(), sea_orm::DbErr> {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        m.get_connection()
            .execute_unprepared("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
            .await
            .map(drop)
    }
}

struct SlowMigrator;

impl sea_orm_migration::MigratorTrait for SlowMigrator {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        vec![Box::new(Slow)]
    }
}

#[tokio::test]
async fn a_request_that_goes_away_does_not_abandon_its_creation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
    let db = Database::connect(&url).await.expect("sqlite");
    let tenancy = Tenancy::builder(db)
        .migrator::<SlowMigrator>()
        .build()
        .await
        .expect("tenancy");
    let app = on_demand_app(TenantLayer::new(tenancy.clone()).create_on_demand(true));
    // The client gives up while the migration runs.
    let gone = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        call(&app, get_req("/", &[("x-tenant", "initech")])),
    )
    .await;
    assert!(gone.is_err(), "the request was still running");
    // The creation finishes anyway: active and migrated, not stuck.
    let mut status = None;
    for _ in 0..100 {
        status = tenancy
            .info("initech")
            .await
            .expect("info")
            .map(|t| t.status);
        if status == Some(tenancy::TenantStatus::Active) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, Some(tenancy::TenantStatus::Active));
    let (code, body) = call(&app, get_req("/", &[("x-tenant", "initech")])).await;
    assert_eq!((code, body.as_str()), (StatusCode::OK, "initech"));
}
