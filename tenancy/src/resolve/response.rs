//! HTTP answers: rejections with a stable JSON error, and the health route.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
    routing::{MethodRouter, get},
};
use serde_json::json;

use sea_orm::DbErr;

use crate::{
    error::{Error, ErrorCode},
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
    /// 400 `ambiguous_tenant`: the request names more than one tenant (two
    /// resolvers disagree, a tenant header or `Host` is repeated, the
    /// request target's authority is not `Host`).
    Ambiguous,
    /// 401 `unauthorized`: the authorization hook found no credentials it
    /// accepts ([`Access::Unauthorized`](super::Access::Unauthorized)).
    Unauthorized,
    /// 403 `forbidden`: the credentials are not good for this tenant
    /// ([`Access::Forbidden`](super::Access::Forbidden)).
    Forbidden,
    /// 400 (or the layer's configured status) `tenant_required`.
    Required(StatusCode),
    /// 404 `tenant_not_found`.
    NotFound,
    /// 403 `tenant_suspended`.
    Suspended,
    /// 429 `creation_rate_limited`: on-demand creation is over its rate
    /// ([`TenantLayer::on_demand_rate`](super::TenantLayer::on_demand_rate)).
    CreationRateLimited,
    /// 429 `creation_limit_reached`: this layer created as many tenants on
    /// demand as it may
    /// ([`TenantLayer::on_demand_limit`](super::TenantLayer::on_demand_limit)).
    CreationLimitReached,
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
            TenantRejection::Invalid | TenantRejection::Ambiguous => StatusCode::BAD_REQUEST,
            TenantRejection::Unauthorized => StatusCode::UNAUTHORIZED,
            TenantRejection::Forbidden => StatusCode::FORBIDDEN,
            TenantRejection::CreationRateLimited | TenantRejection::CreationLimitReached => {
                StatusCode::TOO_MANY_REQUESTS
            }
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
            TenantRejection::Ambiguous => "ambiguous_tenant",
            TenantRejection::Unauthorized => "unauthorized",
            TenantRejection::Forbidden => "forbidden",
            TenantRejection::CreationRateLimited => "creation_rate_limited",
            TenantRejection::CreationLimitReached => "creation_limit_reached",
            TenantRejection::Required(_) => "tenant_required",
            TenantRejection::NotFound => ErrorCode::TenantNotFound.as_str(),
            TenantRejection::Suspended => ErrorCode::TenantSuspended.as_str(),
            TenantRejection::Provisioning => ErrorCode::TenantProvisioning.as_str(),
            TenantRejection::Unavailable => "unavailable",
            TenantRejection::LayerMissing => "tenant_layer_missing",
        }
    }

    /// The rejection that answers a failure about the tenant itself rather
    /// than the request: a tenant dropped (by this or another process)
    /// after the layer resolved it is 404 `tenant_not_found`, a suspended
    /// one 403 `tenant_suspended`, one being re-created 503
    /// `tenant_provisioning` (with `Retry-After`), an invalid name 400. `None` for every
    /// other error, which stays the handler's to answer.
    ///
    /// ```
    /// use tenancy::{Error, resolve::TenantRejection};
    /// let gone = Error::TenantNotFound { tenant: "acme".into() };
    /// let db_err: sea_orm::DbErr = gone.into(); // as SeaORM's traits carry it
    /// assert_eq!(TenantRejection::from_db_err(&db_err), Some(TenantRejection::NotFound));
    /// assert_eq!(TenantRejection::from_db_err(&sea_orm::DbErr::RecordNotFound("x".into())), None);
    /// ```
    pub fn from_db_err(err: &DbErr) -> Option<Self> {
        Error::code_of(err).and_then(Self::from_code)
    }

    /// [`from_db_err`](Self::from_db_err) for a [`tenancy::Error`](Error).
    pub fn from_error(err: &Error) -> Option<Self> {
        match err {
            Error::Db(db) => Self::from_db_err(db),
            other => Self::from_code(other.code()),
        }
    }

    fn from_code(code: ErrorCode) -> Option<Self> {
        match code {
            ErrorCode::TenantNotFound => Some(TenantRejection::NotFound),
            ErrorCode::TenantSuspended => Some(TenantRejection::Suspended),
            ErrorCode::TenantProvisioning => Some(TenantRejection::Provisioning),
            ErrorCode::InvalidTenantName => Some(TenantRejection::Invalid),
            _ => None,
        }
    }

    fn message(self) -> &'static str {
        match self {
            TenantRejection::Invalid => "the request does not name a valid tenant",
            TenantRejection::Ambiguous => "the request names more than one tenant",
            TenantRejection::Unauthorized => "credentials are missing or not accepted",
            TenantRejection::Forbidden => "these credentials do not give access to this tenant",
            TenantRejection::CreationRateLimited => {
                "too many tenants are being created; retry shortly"
            }
            TenantRejection::CreationLimitReached => "no more tenants can be created on demand",
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
        if matches!(
            self,
            TenantRejection::Provisioning
                | TenantRejection::Unavailable
                | TenantRejection::CreationRateLimited
        ) {
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
