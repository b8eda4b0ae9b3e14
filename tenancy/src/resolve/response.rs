//! HTTP answers: rejections with a stable JSON error, and the health route.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
    routing::{MethodRouter, get},
};
use serde_json::json;

use crate::{
    error::ErrorCode,
    health::{HealthOptions, HealthReport},
    tenancy::Tenancy,
};

/// Why a request got no tenant; answers with a fixed status and a JSON body
/// `{"error": {"code": "...", "message": "..."}}` (no database text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantRejection {
    /// 400 `invalid_tenant_name`: the name (or Host) cannot name a tenant.
    Invalid,
    /// 400 (or the layer's configured status) `tenant_required`.
    Required(StatusCode),
    /// 404 `tenant_not_found`.
    NotFound,
    /// 403 `tenant_suspended`.
    Suspended,
    /// 503 `tenant_provisioning`: another process is creating it.
    Provisioning,
    /// 503 `unavailable`: the registry could not be read.
    Unavailable,
    /// 500 `tenant_layer_missing`: an extractor ran without [`TenantLayer`](super::TenantLayer).
    LayerMissing,
}

impl TenantRejection {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            TenantRejection::Invalid => StatusCode::BAD_REQUEST,
            TenantRejection::Required(status) => status,
            TenantRejection::NotFound => StatusCode::NOT_FOUND,
            TenantRejection::Suspended => StatusCode::FORBIDDEN,
            TenantRejection::Provisioning | TenantRejection::Unavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            TenantRejection::LayerMissing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable error code of the body; the same spelling as
    /// [`ErrorCode::as_str`] where the two name the same thing.
    pub fn code(self) -> &'static str {
        match self {
            TenantRejection::Invalid => ErrorCode::InvalidTenantName.as_str(),
            TenantRejection::Required(_) => "tenant_required",
            TenantRejection::NotFound => ErrorCode::TenantNotFound.as_str(),
            TenantRejection::Suspended => ErrorCode::TenantSuspended.as_str(),
            TenantRejection::Provisioning => "tenant_provisioning",
            TenantRejection::Unavailable => "unavailable",
            TenantRejection::LayerMissing => "tenant_layer_missing",
        }
    }

    fn message(self) -> &'static str {
        match self {
            TenantRejection::Invalid => "the request does not name a valid tenant",
            TenantRejection::Required(_) => "this request needs a tenant",
            TenantRejection::NotFound => "unknown tenant",
            TenantRejection::Suspended => "this tenant is suspended",
            TenantRejection::Provisioning => "this tenant is being created; retry shortly",
            TenantRejection::Unavailable => "the tenant registry is unavailable",
            TenantRejection::LayerMissing => "tenant resolution is not configured",
        }
    }
}

impl IntoResponse for TenantRejection {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code(), "message": self.message() } });
        let mut response = (self.status(), Json(body)).into_response();
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// 200 with the report as JSON, or 503 when it is unhealthy.
impl IntoResponse for HealthReport {
    fn into_response(self) -> Response {
        let status = if self.is_serving() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (status, Json(self)).into_response()
    }
}

/// A `GET` route answering [`Tenancy::health_all`]: 200 with the JSON
/// report, 503 when anything is unhealthy.
///
/// ```
/// # fn app(tenancy: tenancy::Tenancy) -> axum::Router {
/// use tenancy::{HealthOptions, resolve::health_route};
/// axum::Router::new().route("/health", health_route(tenancy, HealthOptions::default()))
/// # }
/// ```
pub fn health_route<S>(tenancy: Tenancy, options: HealthOptions) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get(move || {
        let tenancy = tenancy.clone();
        async move {
            match tenancy.health_all(options).await {
                Ok(report) => report.into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "health check failed");
                    TenantRejection::Unavailable.into_response()
                }
            }
        }
    })
}
