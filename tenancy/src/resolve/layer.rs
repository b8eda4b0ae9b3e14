//! [`TenantLayer`]: the configured resolver chain, as a tower `Layer`.

use std::{sync::Arc, time::Duration};

use http::{HeaderName, StatusCode, request::Parts};
use tower::Layer;

use super::{
    Access, Resolve,
    resolvers::{CustomDomain, Header, PathPrefix, Subdomain},
    service::{Shared, TenantService},
};
use crate::{tenancy::Tenancy, tenant_id::TenantId};

/// Resolves each request's tenant and runs the request in its scope.
///
/// `Router::layer` runs a layer after routing, which is fine for every
/// resolver but the path prefix: a layer that rewrites the path must wrap
/// the router (`tower::Layer::layer(&tenant_layer, router)`, or
/// `ServiceBuilder`), so the router sees the stripped path.
///
/// ```
/// use axum::{Router, routing::get};
/// use tenancy::resolve::{Tenant, TenantLayer};
///
/// async fn whoami(Tenant(tenant): Tenant) -> String {
///     tenant.to_string()
/// }
///
/// # fn app(tenancy: tenancy::Tenancy) -> Router {
/// Router::new().route("/whoami", get(whoami)).layer(
///     TenantLayer::new(tenancy)
///         .admin_host("admin.example.com")
///         .header("x-tenant")
///         .subdomain_of("example.com", ["api"])
///         .custom_domains()
///         .path_prefix("/t"),
/// )
/// # }
/// ```
#[derive(Clone)]
pub struct TenantLayer {
    shared: Shared,
}

impl std::fmt::Debug for TenantLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantLayer")
            .field("resolvers", &self.shared.chain.len())
            .field("admin_hosts", &self.shared.admin_hosts)
            .field("trusted_host", &self.shared.trusted_host)
            .field("required", &self.shared.required)
            .field("authorize", &self.shared.authorize.is_some())
            .field("on_demand", &self.shared.on_demand)
            .finish_non_exhaustive()
    }
}

impl TenantLayer {
    /// A layer with no resolvers yet: add them in the order they should run.
    pub fn new(tenancy: Tenancy) -> Self {
        TenantLayer {
            shared: Shared::new(tenancy),
        }
    }

    fn push(mut self, resolver: impl Resolve) -> Self {
        Arc::make_mut(&mut self.shared.chain).push(Arc::new(resolver));
        self
    }

    /// Resolves from header `name` (e.g. `x-tenant`).
    ///
    /// # Panics
    /// When `name` is not a valid header name (a programming error).
    pub fn header(self, name: &'static str) -> Self {
        self.push(Header::new(HeaderName::from_static(name)))
    }

    /// Resolves from the subdomain of `primary`; `excluded` labels (and
    /// `www`) are not tenants.
    pub fn subdomain_of<I, S>(self, primary: &str, excluded: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.push(Subdomain::new(primary).exclude(excluded))
    }

    /// Resolves the Host through the custom domains table
    /// ([`Tenancy::add_domain`]).
    pub fn custom_domains(self) -> Self {
        self.push(CustomDomain)
    }

    /// Resolves from a path prefix (`/t/{tenant}/...`), stripping it; wrap
    /// the router with this layer (see above) for the router to see the
    /// stripped path.
    pub fn path_prefix(self, prefix: &str) -> Self {
        self.push(PathPrefix::new(prefix))
    }

    /// Adds any resolver: a built-in one configured by hand, your own
    /// [`Resolve`] type, or a closure.
    pub fn resolver(self, resolver: impl Resolve) -> Self {
        self.push(resolver)
    }

    /// Requests to `host` (compared without port, case-insensitively) have
    /// no tenant on purpose: they go on as [`Resolved::Admin`](super::Resolved::Admin)
    /// before any resolver runs (a tenant header on them is ignored).
    pub fn admin_host(mut self, host: &str) -> Self {
        if let Some(host) = crate::store::Domain::parse(host) {
            self.shared.admin_hosts.push(host.as_str().to_owned());
        }
        self
    }

    /// Whether a request no resolver names a tenant for is refused (default
    /// `true`, with 400). `false` lets it through as
    /// [`Resolved::Unresolved`](super::Resolved::Unresolved).
    pub fn require_tenant(mut self, required: bool) -> Self {
        self.shared.required = required.then_some(self.shared.missing_status);
        self
    }

    /// The status answered when a tenant is required and none resolved
    /// (default 400).
    pub fn missing_tenant_status(mut self, status: StatusCode) -> Self {
        self.shared.missing_status = status;
        if self.shared.required.is_some() {
            self.shared.required = Some(status);
        }
        self
    }

    /// Reads the request's host from header `name` (e.g.
    /// `x-forwarded-host`) instead of `Host` and the request target: for a
    /// deployment behind a proxy that sets it (replacing any value the
    /// client sent). One value only: a repeated header or a list
    /// (`a, b`) is ambiguous. Without it the host resolvers and admin hosts
    /// see no host. Only use a header your proxy owns, or a client picks
    /// its tenant by Host.
    ///
    /// # Panics
    /// When `name` is not a valid header name (a programming error).
    pub fn trusted_host_header(mut self, name: &'static str) -> Self {
        self.shared.trusted_host = Some(HeaderName::from_static(name));
        self
    }

    /// Asks `hook` whether the request may reach its tenant, once the
    /// tenant is resolved and validated and before the registry is read or
    /// anything created: [`Access::Unauthorized`] answers 401
    /// `unauthorized`, [`Access::Forbidden`] 403 `forbidden`. Requests
    /// without a tenant (admin host, unresolved) are not asked: guard those
    /// routes yourself. The future must not borrow its arguments (copy what
    /// you need first).
    ///
    /// ```
    /// use tenancy::resolve::{Access, TenantLayer};
    /// # fn layer(tenancy: tenancy::Tenancy) -> TenantLayer {
    /// TenantLayer::new(tenancy)
    ///     .header("x-tenant")
    ///     .authorize(|parts, tenant| {
    ///         let token = parts.headers.get("authorization").cloned();
    ///         let tenant = tenant.to_string();
    ///         async move {
    ///             match token.as_ref().and_then(|t| t.to_str().ok()) {
    ///                 None => Access::Unauthorized,
    ///                 Some(t) if t == format!("Bearer secret-{tenant}") => Access::Allow,
    ///                 Some(_) => Access::Forbidden,
    ///             }
    ///         }
    ///     })
    /// # }
    /// ```
    pub fn authorize<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(&Parts, &TenantId) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Access> + Send + 'static,
    {
        self.shared.authorize = Some(Arc::new(hook));
        self
    }

    /// Creates an unknown (valid) tenant on its first request, with
    /// [`Tenancy::create_and_migrate`] (register the migrator with
    /// [`TenancyBuilder::migrator`](crate::TenancyBuilder::migrator)).
    /// Concurrent first requests in this process create it once; across
    /// processes the database lets one win and the others wait or get 503.
    ///
    /// Any client that passes the [authorization hook](Self::authorize)
    /// can create tenants this way: narrow it with
    /// [`create_on_demand_if`](Self::create_on_demand_if),
    /// [`on_demand_limit`](Self::on_demand_limit) and
    /// [`on_demand_rate`](Self::on_demand_rate). By default `HEAD`,
    /// `OPTIONS` and `TRACE` requests create nothing.
    pub fn create_on_demand(mut self, enabled: bool) -> Self {
        self.shared.on_demand.enabled = enabled;
        self
    }

    /// Turns on-demand creation on, for the requests `admit` accepts (it
    /// replaces the default, which refuses `HEAD`, `OPTIONS` and `TRACE`).
    /// A request it refuses for an unknown tenant answers 404
    /// `tenant_not_found`, as with on-demand creation off. Runs after the
    /// authorization hook, with the path the router will see.
    ///
    /// ```
    /// use tenancy::resolve::TenantLayer;
    /// # fn layer(tenancy: tenancy::Tenancy) -> TenantLayer {
    /// TenantLayer::new(tenancy)
    ///     .header("x-tenant")
    ///     .create_on_demand_if(|parts, _tenant| {
    ///         let signup = parts.method == http::Method::POST && parts.uri.path() == "/signup";
    ///         async move { signup }
    ///     })
    /// # }
    /// ```
    pub fn create_on_demand_if<F, Fut>(mut self, admit: F) -> Self
    where
        F: Fn(&Parts, &TenantId) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.shared.on_demand.enabled = true;
        self.shared.on_demand.admit = Some(Arc::new(admit));
        self
    }

    /// At most `max` tenants created on demand by this layer (all its
    /// clones) in the life of the process; later ones answer 429
    /// `creation_limit_reached`. Failed creations do not count.
    pub fn on_demand_limit(mut self, max: usize) -> Self {
        self.shared.on_demand.limit = Some(max);
        self
    }

    /// At most `per_second` creations on demand per second, after a burst
    /// of `burst` (at least 1), by this layer (all its clones): a token
    /// bucket. Over it, 429 `creation_rate_limited` with `Retry-After`.
    pub fn on_demand_rate(mut self, per_second: u32, burst: u32) -> Self {
        self.shared.on_demand.rate = Some((per_second, burst));
        self
    }

    /// How long a tenant's registry status is cached (default 2 s; zero
    /// disables). Lifecycle changes made through this process's
    /// [`Tenancy`] invalidate it at once; changes by other processes are
    /// seen within this time.
    pub fn status_ttl(mut self, ttl: Duration) -> Self {
        self.shared.status_ttl = ttl;
        self
    }
}

impl<S> Layer<S> for TenantLayer {
    type Service = TenantService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TenantService::new(inner, self.shared.clone())
    }
}
