//! Request-to-tenant resolution for axum and tower (feature `axum`).
//!
//! [`TenantLayer`] runs a chain of resolvers, in the order they were added,
//! on each request; the first that names a tenant (or declares the request
//! an admin request) wins. The name is validated, the registry checked, and
//! the request continues inside the tenant's task-local
//! [`scope`](crate::scope) with the tenant and its [`TenantConnection`]
//! in the request extensions, where the [`Tenant`] and [`TenantDb`]
//! extractors find them.
//!
//! | outcome | status | `error.code` |
//! |---|---|---|
//! | invalid name, malformed Host | 400 | `invalid_tenant_name` |
//! | no tenant and one is required | 400 (configurable) | `tenant_required` |
//! | unknown tenant | 404 | `tenant_not_found` |
//! | suspended tenant | 403 | `tenant_suspended` |
//! | being created elsewhere, database down | 503 | `tenant_provisioning`, `unavailable` |
//!
//! Bodies are JSON, `{"error": {"code": "...", "message": "..."}}`, and
//! never carry database text.
//!
//! [`TenantConnection`]: crate::TenantConnection

mod extract;
mod future;
mod layer;
mod resolvers;
mod response;
mod service;

pub use self::{
    extract::{Resolved, Tenant, TenantDb},
    future::ResponseFuture,
    layer::TenantLayer,
    resolvers::{CustomDomain, Header, PathPrefix, Subdomain},
    response::{TenantRejection, health_route},
    service::TenantService,
};

use futures_util::future::BoxFuture;
use http::request::Parts;

use crate::tenancy::Tenancy;

/// What one resolver concluded about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolution {
    /// This tenant name (validated by the layer).
    Tenant(String),
    /// This tenant id (e.g. from [`Tenancy::tenant_of_domain`]); checked
    /// again only when the tenancy has name rules of its own.
    Id(crate::tenant_id::TenantId),
    /// No tenant, on purpose (an admin host): the request goes on without one.
    Admin,
    /// The request carries something that cannot name a tenant (answered
    /// 400 `invalid_tenant_name`); the reason is for logs.
    Invalid(&'static str),
    /// Nothing to say: ask the next resolver.
    Next,
}

/// One step of the resolver chain.
///
/// Implemented by the built-in resolvers and by closures
/// `Fn(&Parts) -> impl Future<Output = Resolution>` whose future does not
/// borrow the request (copy what you need out of `parts` first):
///
/// ```
/// use tenancy::resolve::{Resolution, TenantLayer};
/// # fn layer(tenancy: tenancy::Tenancy) -> TenantLayer {
/// TenantLayer::new(tenancy).resolver(|parts: &http::request::Parts| {
///     let key = parts.headers.get("x-api-key").cloned();
///     async move {
///         match key.as_ref().and_then(|k| k.to_str().ok()) {
///             Some("secret-acme") => Resolution::Tenant("acme".into()),
///             _ => Resolution::Next,
///         }
///     }
/// })
/// # }
/// ```
pub trait Resolve: Send + Sync + 'static {
    /// Looks at the request; may rewrite it (the path resolver strips its
    /// prefix).
    fn resolve<'a>(
        &'a self,
        parts: &'a mut Parts,
        tenancy: &'a Tenancy,
    ) -> BoxFuture<'a, Resolution>;
}

impl<F, Fut> Resolve for F
where
    F: Fn(&Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Resolution> + Send + 'static,
{
    fn resolve<'a>(
        &'a self,
        parts: &'a mut Parts,
        _tenancy: &'a Tenancy,
    ) -> BoxFuture<'a, Resolution> {
        Box::pin(self(parts))
    }
}
