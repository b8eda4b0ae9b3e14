//! The request hooks of [`TenantLayer`](super::TenantLayer): authorization
//! ([`Access`]) and on-demand creation admission.

use futures_util::future::BoxFuture;
use http::request::Parts;

use crate::tenant_id::TenantId;

/// What an authorization hook
/// ([`TenantLayer::authorize`](super::TenantLayer::authorize)) decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// The request may go on to this tenant.
    Allow,
    /// No credentials, or none this service accepts: 401 `unauthorized`.
    Unauthorized,
    /// Credentials, but not for this tenant: 403 `forbidden`.
    Forbidden,
}

/// An async question about a request and its tenant, asked by the layer.
pub(crate) trait Hook<T>: Send + Sync + 'static {
    /// Asks it; the future does not borrow the request.
    fn ask<'a>(&'a self, parts: &'a Parts, tenant: &'a TenantId) -> BoxFuture<'a, T>;
}

impl<T, F, Fut> Hook<T> for F
where
    F: Fn(&Parts, &TenantId) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    fn ask<'a>(&'a self, parts: &'a Parts, tenant: &'a TenantId) -> BoxFuture<'a, T> {
        Box::pin(self(parts, tenant))
    }
}
