//! [`TenantService`]: resolve, check, then run the request in the tenant's scope.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::response::{IntoResponse, Response};
use http::{HeaderName, Request, StatusCode, request::Parts};
use lru::LruCache;
use tower::Service;

use super::{
    Access, Resolution, Resolve, Resolved, TenantRejection,
    future::ResponseFuture,
    hooks::Hook,
    on_demand::{self, Creations, OnDemand},
    resolvers::{HostProblem, RequestHost, request_host},
};
use crate::{error::Error, tenancy::Tenancy, tenant::TenantStatus, tenant_id::TenantId};

/// A status read from the registry (`None`: not registered), when, and the
/// tenancy's epoch at that time.
type Cached = (Option<TenantStatus>, Instant, u64);

/// How many tenant statuses the layer remembers.
const CACHED_TENANTS: NonZeroUsize = NonZeroUsize::new(10_000).expect("non-zero");

/// State shared by every clone of the layer and its services.
#[derive(Default)]
pub(crate) struct State {
    statuses: Mutex<Option<LruCache<TenantId, Cached>>>,
    creations: Arc<Creations>,
}

/// What the chain decided for a request.
#[derive(Debug)]
enum Decision {
    Tenant(TenantId),
    Admin,
    Unresolved,
    Refused(TenantRejection),
}

/// The layer's configuration.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) tenancy: Tenancy,
    pub(crate) chain: Arc<Vec<Arc<dyn Resolve>>>,
    pub(crate) admin_hosts: Vec<String>,
    pub(crate) trusted_host: Option<HeaderName>,
    pub(crate) required: Option<StatusCode>,
    pub(crate) missing_status: StatusCode,
    pub(crate) authorize: Option<Arc<dyn Hook<Access>>>,
    pub(crate) on_demand: OnDemand,
    pub(crate) status_ttl: Duration,
    pub(crate) state: Arc<State>,
}

impl Shared {
    pub(crate) fn new(tenancy: Tenancy) -> Self {
        Shared {
            tenancy,
            chain: Arc::default(),
            admin_hosts: Vec::new(),
            trusted_host: None,
            required: Some(StatusCode::BAD_REQUEST),
            missing_status: StatusCode::BAD_REQUEST,
            authorize: None,
            on_demand: OnDemand::default(),
            status_ttl: Duration::from_secs(2),
            state: Arc::default(),
        }
    }

    /// Reads the host once, then runs the chain.
    async fn resolve(&self, parts: &mut Parts) -> Decision {
        let host = request_host(parts, self.trusted_host.as_ref());
        if let Err(HostProblem::Ambiguous(reason)) = host {
            tracing::debug!(reason, "request names more than one host");
            return Decision::Refused(TenantRejection::Ambiguous);
        }
        if let Ok(Some(host)) = &host
            && self.admin_hosts.contains(host)
        {
            return Decision::Admin;
        }
        parts.extensions.insert(RequestHost(host));
        let decision = self.run_chain(parts).await;
        parts.extensions.remove::<RequestHost>();
        decision
    }

    /// Runs every resolver: they must agree on one tenant (or on the admin
    /// side); the first refusal or disagreement ends it.
    async fn run_chain(&self, parts: &mut Parts) -> Decision {
        let mut named: Option<TenantId> = None;
        let mut admin = false;
        for resolver in self.chain.iter() {
            let id = match resolver.resolve(parts, &self.tenancy).await {
                Resolution::Next => continue,
                Resolution::Admin => {
                    admin = true;
                    continue;
                }
                Resolution::Tenant(name) => self.tenancy.tenant_id(&name),
                Resolution::Id(id) => self.tenancy.recheck(id),
                Resolution::Invalid(reason) => {
                    tracing::debug!(reason, "request names no valid tenant");
                    return Decision::Refused(TenantRejection::Invalid);
                }
                Resolution::Ambiguous(reason) => {
                    tracing::debug!(reason, "request names more than one tenant");
                    return Decision::Refused(TenantRejection::Ambiguous);
                }
                Resolution::Unavailable(reason) => {
                    tracing::warn!(reason, "a resolver could not look");
                    return Decision::Refused(TenantRejection::Unavailable);
                }
            };
            let Ok(id) = id else {
                return Decision::Refused(TenantRejection::Invalid);
            };
            match &named {
                Some(first) if *first != id => {
                    tracing::debug!(%first, second = %id, "resolvers disagree");
                    return Decision::Refused(TenantRejection::Ambiguous);
                }
                _ => named = Some(id),
            }
        }
        match (named, admin) {
            (Some(_), true) => Decision::Refused(TenantRejection::Ambiguous),
            (Some(id), false) => Decision::Tenant(id),
            (None, true) => Decision::Admin,
            (None, false) => Decision::Unresolved,
        }
    }

    /// Runs `f` on the status cache (made on first use), unless caching is off.
    fn with_cache<T>(&self, f: impl FnOnce(&mut LruCache<TenantId, Cached>) -> T) -> Option<T> {
        if self.status_ttl.is_zero() {
            return None;
        }
        let mut cache = self
            .state
            .statuses
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Some(f(cache.get_or_insert_with(|| LruCache::new(CACHED_TENANTS))))
    }

    /// The registry status of `id`, through the cache.
    async fn status(&self, id: &TenantId) -> Result<Option<TenantStatus>, Error> {
        let epoch = self.tenancy.epoch();
        let hit = self.with_cache(|cache| match cache.get(id) {
            Some((status, at, seen)) if *seen == epoch && at.elapsed() < self.status_ttl => {
                Some(*status)
            }
            _ => None,
        });
        if let Some(Some(status)) = hit {
            return Ok(status);
        }
        let status = self.tenancy.info_id(id).await?.map(|info| info.status);
        self.with_cache(|cache| cache.put(id.clone(), (status, Instant::now(), epoch)));
        Ok(status)
    }

    /// The authorization hook's answer for `id`.
    async fn authorize(&self, parts: &Parts, id: &TenantId) -> Result<(), TenantRejection> {
        let Some(hook) = &self.authorize else {
            return Ok(());
        };
        match hook.ask(parts, id).await {
            Access::Allow => Ok(()),
            Access::Unauthorized => Err(TenantRejection::Unauthorized),
            Access::Forbidden => Err(TenantRejection::Forbidden),
        }
    }

    /// The tenant a request resolves to, checked against the registry.
    async fn admit(&self, parts: &Parts, id: TenantId) -> Result<TenantId, TenantRejection> {
        let unavailable = |e: Error| {
            tracing::error!(tenant = %id, error = %e, "tenant registry lookup failed");
            TenantRejection::Unavailable
        };
        let mut status = self.status(&id).await.map_err(unavailable)?;
        // Also join a creation this layer has in flight: off PostgreSQL
        // the row reads `provisioning`, then `active` before the migrations
        // finish, and only the creation's end means the tenant is ready. A
        // `provisioning` row with no creation here (finished since, or
        // another process's) retries the create, which then answers
        // `TenantExists`, and the status is read again. Only an admitted
        // request starts a creation.
        let creations = &self.state.creations;
        let on_demand = &self.on_demand;
        let wanted = matches!(status, None | Some(TenantStatus::Provisioning));
        if on_demand.enabled
            && (creations.in_flight(&id)
                || (wanted && on_demand::admitted(on_demand, parts, &id).await))
        {
            creations.create(&self.tenancy, on_demand, &id).await?;
            status = self.status(&id).await.map_err(unavailable)?;
        }
        match status {
            Some(TenantStatus::Active) => Ok(id),
            Some(TenantStatus::Suspended) => Err(TenantRejection::Suspended),
            Some(TenantStatus::Provisioning) if on_demand.enabled => {
                Err(TenantRejection::Provisioning)
            }
            _ => Err(TenantRejection::NotFound),
        }
    }
}

/// The service [`TenantLayer`](super::TenantLayer) wraps around yours.
#[derive(Clone)]
pub struct TenantService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for TenantService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantService").finish_non_exhaustive()
    }
}

impl<S> TenantService<S> {
    pub(crate) fn new(inner: S, shared: Shared) -> Self {
        TenantService {
            inner,
            shared: Arc::new(shared),
        }
    }
}

impl<S, B> Service<Request<B>> for TenantService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone is the one that is ready; keep it for this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        ResponseFuture::new(async move {
            let (mut parts, body) = request.into_parts();
            let id = match shared.resolve(&mut parts).await {
                Decision::Tenant(id) => id,
                Decision::Refused(rejection) => return Ok(rejection.into_response()),
                Decision::Admin => {
                    parts.extensions.insert(Resolved::Admin);
                    return inner.call(Request::from_parts(parts, body)).await;
                }
                Decision::Unresolved => {
                    if let Some(status) = shared.required {
                        return Ok(TenantRejection::Required(status).into_response());
                    }
                    parts.extensions.insert(Resolved::Unresolved);
                    return inner.call(Request::from_parts(parts, body)).await;
                }
            };
            // Authorization first: an unauthorized client learns nothing of
            // the registry and creates nothing.
            let admitted = match shared.authorize(&parts, &id).await {
                Ok(()) => shared.admit(&parts, id).await,
                Err(rejection) => Err(rejection),
            };
            let id = match admitted {
                Ok(id) => id,
                Err(rejection) => return Ok(rejection.into_response()),
            };
            let conn = match shared.tenancy.connection(&id) {
                Ok(conn) => conn,
                Err(_) => return Ok(TenantRejection::Invalid.into_response()),
            };
            parts.extensions.insert(Resolved::Tenant(id.clone()));
            parts.extensions.insert(conn);
            let span = tracing::info_span!("tenant", tenant = %id);
            let fut = inner.call(Request::from_parts(parts, body));
            tracing::Instrument::instrument(crate::context::scope(id, fut), span).await
        })
    }
}
