//! Request-to-tenant resolution for axum and tower (feature `axum`).
//!
//! [`TenantLayer`] runs every resolver of its chain on each request. They
//! must agree: two resolvers naming different tenants (or one a tenant and
//! one the admin side), a repeated tenant header, two `Host` headers, or a
//! request target whose authority disagrees with `Host` make the request
//! ambiguous, and it is refused rather than given to whichever came first.
//! The name is validated, the optional authorization hook asked, the
//! registry checked (and an unknown tenant perhaps created on demand), and
//! the request continues inside the tenant's task-local
//! [`scope`](crate::scope) with the tenant and its [`TenantConnection`]
//! in the request extensions, where the [`Tenant`] and [`TenantDb`]
//! extractors find them.
//!
//! | outcome | status | `error.code` |
//! |---|---|---|
//! | invalid name, malformed Host | 400 | `invalid_tenant_name` |
//! | resolvers or repeated headers disagree | 400 | `ambiguous_tenant` |
//! | no tenant and one is required | 400 (configurable) | `tenant_required` |
//! | the authorization hook refuses | 401, 403 | `unauthorized`, `forbidden` |
//! | unknown tenant (or creation not admitted) | 404 | `tenant_not_found` |
//! | suspended tenant | 403 | `tenant_suspended` |
//! | on-demand creation over its rate or cap | 429 | `creation_rate_limited`, `creation_limit_reached` |
//! | being created elsewhere, database down | 503 | `tenant_provisioning`, `unavailable` |
//!
//! Bodies are JSON, `{"error": {"code": "...", "message": "..."}}`, and
//! never carry database text.
//!
//! [`TenantConnection`]: crate::TenantConnection

mod extract;
mod future;
mod hooks;
mod layer;
mod on_demand;
mod resolvers;
mod response;
mod service;

pub use self::{
    extract::{Resolved, Tenant, TenantDb},
    future::ResponseFuture,
    hooks::Access,
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
    /// The request names more than one tenant in the place this resolver
    /// reads (a repeated header, say): answered 400 `ambiguous_tenant`;
    /// the reason is for logs.
    Ambiguous(&'static str),
    /// The resolver could not look (its store is down): answered 503
    /// `unavailable` with `Retry-After`, never a 400; the reason is for logs.
    Unavailable(&'static str),
    /// Nothing to say: ask the next resolver.
    Next,
}

/// One step of the resolver chain. Every resolver runs on every request
/// (the first two that disagree end it), so one may rewrite the request
/// (the path prefix does) and the next still sees the rest of it.
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
