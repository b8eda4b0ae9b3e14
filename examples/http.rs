//! Tenant resolution, health and metrics in an axum service (SQLite, no
//! setup): `cargo run --example http`, then
//! `curl -H 'x-tenant: acme' localhost:3001/whoami`, `curl acme.localhost:3001/whoami`,
//! `curl localhost:3001/t/acme/whoami`, `curl localhost:3001/health`,
//! `curl localhost:3001/metrics`.

use axum::{Router, routing::get};
use metrics_exporter_prometheus::PrometheusBuilder;
use sea_orm::{ConnectionTrait, Database};
use tenancy::{
    HealthOptions, Tenancy, TenantEvent,
    resolve::{Tenant, TenantDb, TenantLayer, health_route},
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all("data/http")?;
    let db = Database::connect("sqlite://data/http/shared.db?mode=rwc").await?;
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let tenancy = Tenancy::builder(db)
        .on_event(|event| match event {
            TenantEvent::Failed { tenant, code, .. } => eprintln!("{tenant} failed: {code:?}"),
            other => eprintln!("{other:?}"),
        })
        .build()
        .await?;
    for name in ["acme", "globex"] {
        if !tenancy.exists(name).await? {
            tenancy.create(name).await?;
        }
    }

    // Handlers get the tenant and its connection; the request runs in the
    // tenant's scope, so `tenancy.contextual()` works deeper down too.
    async fn whoami(Tenant(tenant): Tenant, db: TenantDb) -> String {
        let ok = db.execute_unprepared("SELECT 1").await.is_ok();
        format!("{tenant} (database reachable: {ok})\n")
    }
    let tenant_routes = Router::new().route("/whoami", get(whoami));
    let layer = TenantLayer::new(tenancy.clone())
        .admin_host("admin.localhost")
        .path_prefix("/t") // `/t/acme/whoami` is routed as `/whoami`
        .header("x-tenant")
        .subdomain_of("localhost", ["api"])
        .custom_domains(); // tenancy.add_domain("shop.acme.com", "acme")
    // Wrap the router (not `Router::layer`) so it sees the stripped path.
    let tenant_app = tower::Layer::layer(&layer, tenant_routes);

    let health = health_route(tenancy.clone(), HealthOptions::default()); // 200 or 503, JSON
    let metrics = get(move || std::future::ready(prometheus.render())); // Prometheus text
    let app = Router::new()
        .route("/health", health)
        .route("/metrics", metrics)
        .fallback_service(tenant_app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
