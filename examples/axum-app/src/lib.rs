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
//! | `GET /` | optional | the tenant's dashboard, or the tenant list |
//! | `GET, POST /api/items` | required | list, create |
//! | `GET, PUT, DELETE /api/items/{id}` | required | read, replace, delete |
//! | `GET, POST /api/tenants` | none | tenants with item counts; create |
//! | `GET /health` | ignored | every tenant's health; 503 when one is unhealthy |
//! | `GET /metrics` | ignored | Prometheus text |

mod api;
mod config;
mod error;
mod item;
mod metrics;
mod migrator;
mod pages;

use axum::{Router, middleware, routing::get};
use sea_orm::{Database, DbBackend};
use tenancy::{
    HealthOptions, MigrateOptions, OnFailure, Tenancy, Verb,
    resolve::{TenantLayer, health_route},
};

pub use crate::{
    config::{Config, ConfigError},
    error::AppError,
    item::{Entity as Item, Model as ItemModel},
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
    };
    let router = router(config, state);
    Ok(App { router, tenancy })
}

fn router(config: &Config, state: AppState) -> Router {
    let tenancy = state.tenancy.clone();
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
        .with_state(state);
    let mut layer = TenantLayer::new(tenancy.clone());
    if let Some(host) = &config.admin_host {
        layer = layer.admin_host(host);
    }
    let layer = layer
        .path_prefix("/tenant")
        .header("x-tenant")
        .subdomain_of(&config.domain, ["admin", "api"])
        .require_tenant(false)
        .create_on_demand(config.create_on_demand);
    // Around the router, not `Router::layer`: the router must see the path
    // with `/tenant/{tenant}` stripped.
    let tenant_app = tower::Layer::layer(&layer, routes);
    let prometheus = metrics::handle();
    Router::new()
        .route("/health", health_route(tenancy, HealthOptions::default()))
        .route(
            "/metrics",
            get(move || std::future::ready(prometheus.render())),
        )
        .fallback_service(tenant_app)
        .layer(middleware::from_fn(metrics::track))
}

/// Serves `app` on `listener` until `shutdown` completes.
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(
    app: &App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    axum::serve(listener, app.router())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
