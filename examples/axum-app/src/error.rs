//! [`AppError`]: every failure a handler returns, as `{"error": {"code", "message"}}`.

use axum::{
    Json,
    extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection},
    http::{HeaderValue, StatusCode, header::WWW_AUTHENTICATE},
    response::{IntoResponse, Response},
};
use sea_orm::DbErr;
use serde_json::json;
use tenancy::resolve::TenantRejection;

/// A handler's failure. Database text is logged, never sent.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404 `item_not_found`.
    #[error("no such item")]
    ItemNotFound,
    /// 404 `not_found`: the route is not served here (e.g. tenant
    /// management for a tenant's request).
    #[error("not found")]
    NotFound,
    /// 400 `invalid_json` (or 415/422 from the JSON extractor).
    #[error("bad request body: {0}")]
    Body(#[from] JsonRejection),
    /// 400 `invalid_form` (or 415): an HTML form's body does not parse.
    #[error("bad form: {0}")]
    Form(FormRejection),
    /// 400 `invalid_id`.
    #[error("bad path: {0}")]
    Path(#[from] PathRejection),
    /// 400 `invalid_query`: the query string does not parse.
    #[error("bad query: {0}")]
    Query(#[from] QueryRejection),
    /// 400 `invalid_query`: a query parameter is out of range.
    #[error("{0}")]
    QueryRange(&'static str),
    /// 401 `unauthorized` (with `WWW-Authenticate: Bearer`): the route
    /// needs the administrator's token.
    #[error("the administrator's bearer token is needed")]
    Unauthorized,
    /// 405 `method_not_allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 408 `request_timeout`: the request (its body included) took longer
    /// than `APP_REQUEST_TIMEOUT_SECS`.
    #[error("the request took too long")]
    Timeout,
    /// 422 `invalid_item` and friends: the body parsed but is not acceptable.
    #[error("{message}")]
    Invalid {
        /// Stable code.
        code: &'static str,
        /// For the client.
        message: String,
    },
    /// 409 `tenant_exists`.
    #[error("tenant exists")]
    TenantExists,
    /// 400 `invalid_tenant_name`.
    #[error("invalid tenant name")]
    InvalidTenant,
    /// The tenant went away (dropped, suspended) after the layer let the
    /// request in, possibly by another process: the layer's answer
    /// (404 `tenant_not_found`, 403 `tenant_suspended`), never a 500.
    #[error("{}", .0.code())]
    Rejected(TenantRejection),
    /// 500 `internal`: logged with its cause.
    #[error("database error: {0}")]
    Db(DbErr),
    /// 500 `internal`, or one of the above, from the tenancy library.
    #[error("tenancy error: {0}")]
    Tenancy(tenancy::Error),
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        match TenantRejection::from_db_err(&e) {
            Some(rejection) => AppError::Rejected(rejection),
            None => AppError::Db(e),
        }
    }
}

impl From<tenancy::Error> for AppError {
    fn from(e: tenancy::Error) -> Self {
        match e {
            tenancy::Error::TenantExists { .. } => AppError::TenantExists,
            tenancy::Error::InvalidTenantName { .. } => AppError::InvalidTenant,
            other => match TenantRejection::from_error(&other) {
                Some(rejection) => AppError::Rejected(rejection),
                None => AppError::Tenancy(other),
            },
        }
    }
}

impl AppError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            AppError::ItemNotFound => (StatusCode::NOT_FOUND, "item_not_found", self.to_string()),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found", self.to_string()),
            AppError::Body(rejection) => {
                let status = rejection.status();
                let code = if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    "unsupported_media_type"
                } else {
                    "invalid_json"
                };
                (status, code, rejection.body_text())
            }
            AppError::Form(rejection) => {
                let status = rejection.status();
                let code = if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    "unsupported_media_type"
                } else {
                    "invalid_form"
                };
                (status, code, "the form is not valid".to_owned())
            }
            AppError::Path(_) => (
                StatusCode::BAD_REQUEST,
                "invalid_id",
                "the id must be a positive integer".to_owned(),
            ),
            AppError::Query(_) => (
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "the query string is not valid".to_owned(),
            ),
            AppError::QueryRange(message) => (
                StatusCode::BAD_REQUEST,
                "invalid_query",
                (*message).to_owned(),
            ),
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", self.to_string()),
            AppError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                self.to_string(),
            ),
            AppError::Timeout => (
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                self.to_string(),
            ),
            AppError::Invalid { code, message } => {
                (StatusCode::UNPROCESSABLE_ENTITY, code, message.clone())
            }
            AppError::TenantExists => (
                StatusCode::CONFLICT,
                "tenant_exists",
                "a tenant with this name exists".to_owned(),
            ),
            AppError::InvalidTenant => (
                StatusCode::BAD_REQUEST,
                "invalid_tenant_name",
                "tenant names are lowercase letters, digits and _, starting with a letter"
                    .to_owned(),
            ),
            AppError::Rejected(rejection) => (
                rejection.status(),
                rejection.code(),
                rejection.code().replace('_', " "),
            ),
            AppError::Db(_) | AppError::Tenancy(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".to_owned(),
            ),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Rejected(rejection) = self {
            return rejection.into_response();
        }
        let (status, code, message) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = (
            status,
            Json(json!({ "error": { "code": code, "message": message } })),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The router's fallback: 404 `not_found` as JSON.
pub(crate) async fn not_found() -> AppError {
    AppError::NotFound
}

/// The router's fallback for a known path and another method: 405
/// `method_not_allowed` as JSON.
pub(crate) async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
