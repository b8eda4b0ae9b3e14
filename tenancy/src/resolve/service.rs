//! [`TenantService`]: resolve, check, then run the request in the tenant's scope.

use std::{
    collections::HashMap,
    num::NonZeroUsize,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::response::{IntoResponse, Response};
use http::{Request, StatusCode, request::Parts};
use lru::LruCache;
use tokio::sync::OnceCell;
use tower::Service;

use super::{
    Resolution, Resolve, Resolved, TenantRejection, future::ResponseFuture, resolvers::request_host,
};
use crate::{
    error::{Error, ErrorCode},
    tenancy::Tenancy,
    tenant::TenantStatus,
    tenant_id::TenantId,
};

/// A status read from the registry (`None`: not registered), when, and the
/// tenancy's epoch at that time.
type Cached = (Option<TenantStatus>, Instant, u64);

/// How many tenant statuses the layer remembers.
const CACHED_TENANTS: NonZeroUsize = NonZeroUsize::new(10_000).expect("non-zero");

/// One on-demand creation, shared by the requests waiting for it.
type Creation = Arc<OnceCell<Result<(), ErrorCode>>>;

/// State shared by every clone of the layer and its services.
#[derive(Default)]
pub(crate) struct State {
    statuses: Mutex<Option<LruCache<TenantId, Cached>>>,
    creating: Mutex<HashMap<TenantId, Creation>>,
}

/// The layer's configuration.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) tenancy: Tenancy,
    pub(crate) chain: Arc<Vec<Arc<dyn Resolve>>>,
    pub(crate) admin_hosts: Vec<String>,
    pub(crate) required: Option<StatusCode>,
    pub(crate) missing_status: StatusCode,
    pub(crate) on_demand: bool,
    pub(crate) status_ttl: Duration,
    pub(crate) state: Arc<State>,
}

impl Shared {
    pub(crate) fn new(tenancy: Tenancy) -> Self {
        Shared {
            tenancy,
            chain: Arc::default(),
            admin_hosts: Vec::new(),
            required: Some(StatusCode::BAD_REQUEST),
            missing_status: StatusCode::BAD_REQUEST,
            on_demand: false,
            status_ttl: Duration::from_secs(2),
            state: Arc::default(),
        }
    }

    /// Runs the chain: the first resolver with something to say wins.
    async fn resolve(&self, parts: &mut Parts) -> Resolution {
        if !self.admin_hosts.is_empty()
            && let Ok(Some(host)) = request_host(parts)
            && self.admin_hosts.contains(&host)
        {
            return Resolution::Admin;
        }
        for resolver in self.chain.iter() {
            match resolver.resolve(parts, &self.tenancy).await {
                Resolution::Next => {}
                decided => return decided,
            }
        }
        Resolution::Next
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

    /// Creates `id` once however many requests ask at the same time.
    async fn create(&self, id: &TenantId) -> Result<(), ErrorCode> {
        let cell = {
            let mut creating = self
                .state
                .creating
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            creating.entry(id.clone()).or_default().clone()
        };
        let result = cell
            .get_or_init(|| async {
                match self.tenancy.create_and_migrate_id(id).await {
                    Ok(_) => Ok(()),
                    // Another process won: it is there, or about to be.
                    Err(Error::TenantExists { .. }) => Ok(()),
                    Err(e) => {
                        tracing::error!(tenant = %id, error = %e, "on-demand creation failed");
                        Err(e.code())
                    }
                }
            })
            .await;
        let result = *result;
        let mut creating = self
            .state
            .creating
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if creating.get(id).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            creating.remove(id);
        }
        result
    }

    /// Whether this process is creating `id` on demand right now.
    fn creating(&self, id: &TenantId) -> bool {
        self.state
            .creating
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(id)
    }

    /// The tenant a request resolves to, checked against the registry.
    async fn admit(&self, id: TenantId) -> Result<TenantId, TenantRejection> {
        let unavailable = |e: Error| {
            tracing::error!(tenant = %id, error = %e, "tenant registry lookup failed");
            TenantRejection::Unavailable
        };
        let mut status = self.status(&id).await.map_err(unavailable)?;
        // Also join a creation this process has in flight: off PostgreSQL
        // the row reads `provisioning`, then `active` before the migrations
        // finish, and only the creation's end means the tenant is ready. A
        // `provisioning` row with no creation here (finished since, or
        // another process's) retries the create, which then answers
        // `TenantExists`, and the status is read again.
        let in_flight = matches!(status, None | Some(TenantStatus::Provisioning));
        if self.on_demand && (in_flight || self.creating(&id)) {
            self.create(&id)
                .await
                .map_err(|_| TenantRejection::Unavailable)?;
            status = self.status(&id).await.map_err(unavailable)?;
        }
        match status {
            Some(TenantStatus::Active) => Ok(id),
            Some(TenantStatus::Suspended) => Err(TenantRejection::Suspended),
            Some(TenantStatus::Provisioning) if self.on_demand => {
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
            let resolution = shared.resolve(&mut parts).await;
            let named = match resolution {
                Resolution::Tenant(name) => shared.tenancy.tenant_id(&name),
                Resolution::Id(id) => shared.tenancy.recheck(id),
                Resolution::Invalid(reason) => {
                    tracing::debug!(reason, "request names no valid tenant");
                    return Ok(TenantRejection::Invalid.into_response());
                }
                Resolution::Admin => {
                    parts.extensions.insert(Resolved::Admin);
                    return inner.call(Request::from_parts(parts, body)).await;
                }
                _ => {
                    if let Some(status) = shared.required {
                        return Ok(TenantRejection::Required(status).into_response());
                    }
                    parts.extensions.insert(Resolved::Unresolved);
                    return inner.call(Request::from_parts(parts, body)).await;
                }
            };
            let admitted = match named {
                Ok(id) => shared.admit(id).await,
                Err(_) => Err(TenantRejection::Invalid),
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
