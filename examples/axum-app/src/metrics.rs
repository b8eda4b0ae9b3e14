//! The Prometheus recorder (one per process) and the request counter.

use std::{sync::OnceLock, time::Instant};

use axum::{extract::Request, middleware::Next, response::Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process's Prometheus handle, installing the recorder on first use.
/// When another recorder is already installed (a test harness, the host
/// application), the handle renders an empty registry and a warning is logged.
pub(crate) fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => handle,
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed; /metrics stays empty");
                PrometheusBuilder::new().build_recorder().handle()
            }
        })
        .clone()
}

/// Counts and times every request by method and status.
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("app_http_requests_total", "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("app_http_request_duration_seconds", "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}
