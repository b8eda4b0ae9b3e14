//! A small multi-tenant items service on `tenancy` and axum: each tenant's
//! items live in its own PostgreSQL schema, MySQL database or SQLite file.
//!
//! - [`Config`] holds the settings ([`Config::from_env`] reads them);
//! - [`build`] connects, migrates the shared home and every tenant, and
//!   returns an [`App`]: the router and the [`Tenancy`] behind it;
//! - [`serve`] runs it on a listener until the future is dropped or a
//!   shutdown signal arrives.
//!
//! Routes (the tenant comes from the admin host, `/tenant/{tenant}/...`,
//! the `x-tenant` header, or a subdomain of the configured domain, in that
//! order):
//!
//! | route | tenant | what |
//! |---|---|---|
//! | `GET /` | optional | the tenant's dashboard, or the tenant list (admin) |
//! | `GET, POST /api/items` | required | list (paginated), create |
//! | `GET, PUT, DELETE /api/items/{id}` | required | read, replace, delete |
//! | `GET, POST /api/tenants` | none | tenants with item counts (paginated); create (admin) |
//! | `GET /health` | ignored | shallow: the shared home and the registry answer (one round trip, no tenant names); 503 when not |
//! | `GET /health/tenants` | none | every tenant's health (admin); 503 when one is unhealthy |
//! | `GET /metrics` | ignored | Prometheus text |
//! | `POST /ui/...` | as the form's page | the pages' HTML forms: sign in, create a tenant, add, complete, delete items (`303` back) |

mod api;
mod auth;
mod config;
mod error;
mod item;
mod jobs;
mod metrics;
mod migrator;
mod pages;
mod ui;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::Request,
    http::Method,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use sea_orm::{Database, DbBackend};
use tenancy::{
    HealthOptions, MigrateOptions, OnFailure, Tenancy, Verb,
    resolve::{TenantLayer, health_route},
};
use tokio::task::JoinSet;

pub use crate::{
    config::{Config, ConfigError},
    error::AppError,
    item::{Entity as Item, Model as ItemModel},
    jobs::{purge_done, spawn_purge},
    migrator::TenantMigrator,
};

/// What the handlers share.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) tenancy: Tenancy,
    pub(crate) domain: String,
    pub(crate) create_on_demand: bool,
    /// "PostgreSQL schema", "MySQL database" or "SQLite file".
    pub(crate) home_kind: &'static str,
    pub(crate) tokens: Arc<auth::Tokens>,
    /// The configured listen address (the pages' examples use the one
    /// [`serve`] really listens on when it is known).
    pub(crate) addr: std::net::SocketAddr,
}

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A setting is wrong.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The data directory could not be created.
    #[error("cannot create {dir}: {source}")]
    DataDir {
        /// The directory.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database is unreachable.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sea_orm::DbErr),
    /// The tenancy could not be set up (registry, backend).
    #[error("tenancy: {0}")]
    Tenancy(#[from] tenancy::Error),
    /// Some tenants failed to migrate (listed, comma-separated).
    #[error("migrations failed for: {0}")]
    Migrations(String),
    /// Listening or serving failed.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// The built app: its router and the tenancy it serves.
#[derive(Debug, Clone)]
pub struct App {
    router: Router,
    tenancy: Tenancy,
    header_timeout: Duration,
    purge_every: Duration,
    purge_done_after: Duration,
}

impl App {
    /// The router, ready for `axum::serve`.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The tenancy behind the app (lifecycle, health, tests).
    pub fn tenancy(&self) -> &Tenancy {
        &self.tenancy
    }
}

/// Connects to `config.database_url` (creating the SQLite directory),
/// installs the tenant registry in the shared home, migrates every active
/// tenant, and builds the router.
///
/// # Errors
/// [`StartError`]: no database, a failed migration, a bad setting.
pub async fn build(config: &Config) -> Result<App, StartError> {
    if let Some(dir) = config.sqlite_dir() {
        std::fs::create_dir_all(&dir).map_err(|source| StartError::DataDir {
            dir: dir.display().to_string(),
            source,
        })?;
    }
    let db = Database::connect(&config.database_url)
        .await
        .map_err(StartError::Connect)?;
    let home_kind = match db.get_database_backend() {
        DbBackend::Postgres => "PostgreSQL schema",
        DbBackend::MySql => "MySQL database",
        _ => "SQLite file",
    };
    // The shared home holds only the tenant registry, which `build` installs.
    let tenancy = Tenancy::builder(db)
        .migrator::<TenantMigrator>()
        .build()
        .await?;
    let report = tenancy
        .migrations::<TenantMigrator>()
        .run_all(
            Verb::Up(None),
            MigrateOptions::default()
                .concurrency(8)
                .on_failure(OnFailure::Continue),
        )
        .await?;
    let failed: Vec<String> = report.failed().map(|t| t.tenant.to_string()).collect();
    if !failed.is_empty() {
        for t in report.failed() {
            tracing::error!(tenant = %t.tenant, outcome = ?t.outcome, "migration failed");
        }
        return Err(StartError::Migrations(failed.join(", ")));
    }
    tracing::info!(tenants = report.tenants.len(), "tenants migrated");

    let state = AppState {
        tenancy: tenancy.clone(),
        domain: config.domain.clone(),
        create_on_demand: config.create_on_demand,
        home_kind,
        tokens: Arc::new(auth::Tokens::new(config)),
        addr: config.addr,
    };
    if !config.auth_required() {
        tracing::warn!(
            "no APP_ADMIN_TOKEN or APP_TENANT_TOKENS: tenant routes are open to anyone \
             who knows a tenant's name"
        );
    }
    let router = router(config, state);
    Ok(App {
        router,
        tenancy,
        header_timeout: config.header_timeout,
        purge_every: config.purge_every,
        purge_done_after: config.purge_done_after,
    })
}

fn router(config: &Config, state: AppState) -> Router {
    let tenancy = state.tenancy.clone();
    let tokens = state.tokens.clone();
    let routes = Router::new()
        .route("/", get(pages::home))
        .route("/api/items", get(api::list_items).post(api::create_item))
        .route(
            "/api/items/{id}",
            get(api::get_item)
                .put(api::update_item)
                .delete(api::delete_item),
        )
        .route(
            "/api/tenants",
            get(api::list_tenants).post(api::create_tenant),
        )
        .route("/health/tenants", get(api::tenants_health))
        .route("/ui/session", post(ui::sign_in))
        .route("/ui/session/end", post(ui::sign_out))
        .route("/ui/tenants", post(ui::create_tenant))
        .route("/ui/items", post(ui::add_item))
        .route("/ui/items/{id}/toggle", post(ui::toggle_item))
        .route("/ui/items/{id}/delete", post(ui::delete_item))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state);
    let mut layer = TenantLayer::new(tenancy.clone());
    if let Some(host) = &config.admin_host {
        layer = layer.admin_host(host);
    }
    let mut layer = layer
        .path_prefix("/tenant")
        .header("x-tenant")
        .subdomain_of(&config.domain, ["admin", "api"])
        .require_tenant(false);
    if config.auth_required() {
        layer = layer.authorize(move |parts, tenant| {
            let access = tokens.access(&parts.headers, tenant);
            std::future::ready(access)
        });
    }
    if config.create_on_demand {
        layer = layer
            .create_on_demand_if(|parts, _| {
                std::future::ready(creates(&parts.method, parts.uri.path()))
            })
            .on_demand_limit(config.on_demand_limit)
            .on_demand_rate(config.on_demand_rate, config.on_demand_rate);
    }
    // Around the router, not `Router::layer`: the router must see the path
    // with `/tenant/{tenant}` stripped.
    let tenant_app = tower::Layer::layer(&layer, routes);
    let prometheus = metrics::handle();
    Router::new()
        .route(
            "/health",
            health_route(tenancy, HealthOptions::default().shallow(true)),
        )
        .route(
            "/metrics",
            get(move || std::future::ready(prometheus.render())),
        )
        .fallback_service(tenant_app)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            config.request_timeout,
            timeout,
        ))
        .layer(middleware::from_fn(metrics::track))
}

/// Where the app listens, as the pages show it in their examples: set by
/// [`serve`] for every request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listening(pub(crate) std::net::SocketAddr);

/// Whether a request may create its (unknown) tenant on demand: a tenant
/// route, with a method that is not just looking.
fn creates(method: &Method, path: &str) -> bool {
    let route = path == "/" || path == "/api/items" || path.starts_with("/api/items/");
    route && [Method::GET, Method::POST, Method::PUT, Method::DELETE].contains(method)
}

/// Answers 408 `request_timeout` when the request (reading its body
/// included) takes longer than `limit`.
async fn timeout(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::Timeout.into_response(),
    }
}

/// Serves `app` over HTTP/1.1 on `listener` until `shutdown` completes,
/// then lets the open connections finish their requests. A client that
/// takes longer than
/// [`Config::header_timeout`] to send its request line and headers is
/// disconnected (`axum::serve` has no such limit).
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(
    app: &App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let router = app
        .router()
        .layer(axum::Extension(Listening(listener.local_addr()?)));
    // The periodic job runs while the app serves.
    let purge = jobs::spawn_purge(app.tenancy.clone(), app.purge_every, app.purge_done_after);
    let (closing, closed) = tokio::sync::watch::channel(());
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let header_timeout = app.header_timeout;
        let mut closed = closed.clone();
        connections.spawn(async move {
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended");
                    }
                }
                _ = closed.changed() => {
                    conn.as_mut().graceful_shutdown();
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended");
                    }
                }
            }
        });
        // Forget the connections already done.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    closing.send_replace(());
    purge.abort();
    while connections.join_next().await.is_some() {}
    Ok(())
}
