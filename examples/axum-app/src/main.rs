//! `cargo run -p axum-app`: the items service on `APP_ADDR` (see README.md).

use std::process::ExitCode;

use axum_app::{Config, build, serve};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), axum_app::StartError> {
    let config = Config::from_env()?;
    let app = build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        "listening on http://{addr} (tenants: http://{addr}/tenant/NAME/, x-tenant header, NAME.{}:{})",
        config.domain,
        addr.port()
    );
    serve(&app, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
