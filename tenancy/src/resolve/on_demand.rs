//! On-demand creation: who may cause it, how many, how fast.

use std::{
    collections::HashMap,
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use http::{Method, request::Parts};
use tokio::sync::OnceCell;

use super::{TenantRejection, hooks::Hook};
use crate::{error::Error, tenancy::Tenancy, tenant_id::TenantId};

/// One on-demand creation, shared by the requests waiting for it.
type Creation = Arc<OnceCell<Result<(), TenantRejection>>>;

/// The on-demand settings of a layer.
#[derive(Clone, Default)]
pub(crate) struct OnDemand {
    pub(crate) enabled: bool,
    /// Whether a request may cause a creation; `None`: any method but
    /// `HEAD`, `OPTIONS` and `TRACE`.
    pub(crate) admit: Option<Arc<dyn Hook<bool>>>,
    /// At most this many creations per layer.
    pub(crate) limit: Option<usize>,
    /// Creations per second, and the burst.
    pub(crate) rate: Option<(u32, u32)>,
}

impl fmt::Debug for OnDemand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnDemand")
            .field("enabled", &self.enabled)
            .field("admit", &self.admit.is_some())
            .field("limit", &self.limit)
            .field("rate", &self.rate)
            .finish()
    }
}

/// A token bucket: `burst` creations at once, refilled at `per_second`.
#[derive(Debug)]
struct Bucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new((per_second, burst): (u32, u32), now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Bucket {
            per_second: f64::from(per_second),
            burst,
            tokens: burst,
            at: now,
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What on-demand creation shares across the clones of a layer.
#[derive(Debug, Default)]
pub(crate) struct Creations {
    in_flight: Mutex<HashMap<TenantId, Creation>>,
    /// Slots taken against the cap (creations done or under way).
    created: AtomicUsize,
    bucket: Mutex<Option<Bucket>>,
}

impl Creations {
    /// Whether this layer is creating `id` right now.
    pub(crate) fn in_flight(&self, id: &TenantId) -> bool {
        self.in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(id)
    }

    /// Takes a slot under the cap and a token of the rate.
    fn reserve(&self, settings: &OnDemand) -> Result<(), TenantRejection> {
        if let Some(limit) = settings.limit {
            self.created
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < limit).then_some(n + 1)
                })
                .map_err(|_| TenantRejection::CreationLimitReached)?;
        }
        if let Some(rate) = settings.rate {
            let now = Instant::now();
            let mut bucket = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
            if !bucket
                .get_or_insert_with(|| Bucket::new(rate, now))
                .take(now)
            {
                drop(bucket);
                self.release(settings);
                return Err(TenantRejection::CreationRateLimited);
            }
        }
        Ok(())
    }

    /// Gives back a slot of a creation that created nothing.
    fn release(&self, settings: &OnDemand) {
        if settings.limit.is_some() {
            self.created.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Creates `id` once however many requests ask at the same time. The
    /// creation runs on a task of its own: a request that goes away (client
    /// gone, timeout) does not abandon it half-way, and the task frees its
    /// slot and its entry whatever the requests do.
    pub(crate) async fn create(
        self: &Arc<Self>,
        tenancy: &Tenancy,
        settings: &OnDemand,
        id: &TenantId,
    ) -> Result<(), TenantRejection> {
        let cell = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            in_flight.entry(id.clone()).or_default().clone()
        };
        let result = cell
            .get_or_init(|| async {
                self.reserve(settings)?;
                let (this, tenancy, settings) = (self.clone(), tenancy.clone(), settings.clone());
                let (id, cell) = (id.clone(), cell.clone());
                let task = tokio::spawn(async move {
                    let result = match tenancy.create_and_migrate_id(&id).await {
                        Ok(_) => Ok(()),
                        // Another process won: it is there, or about to be.
                        Err(Error::TenantExists { .. }) => {
                            this.release(&settings);
                            Ok(())
                        }
                        Err(e) => {
                            this.release(&settings);
                            tracing::error!(tenant = %id, error = %e, "on-demand creation failed");
                            Err(TenantRejection::Unavailable)
                        }
                    };
                    this.forget(&id, &cell);
                    result
                });
                task.await.unwrap_or(Err(TenantRejection::Unavailable))
            })
            .await;
        let result = *result;
        self.forget(id, &cell);
        result
    }

    /// Removes the entry of `id` if it is still `cell`.
    fn forget(&self, id: &TenantId, cell: &Creation) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if in_flight.get(id).is_some_and(|c| Arc::ptr_eq(c, cell)) {
            in_flight.remove(id);
        }
    }
}

/// Whether `parts` may cause the creation of `id`.
pub(crate) async fn admitted(settings: &OnDemand, parts: &Parts, id: &TenantId) -> bool {
    match &settings.admit {
        Some(hook) => hook.ask(parts, id).await,
        None => ![Method::HEAD, Method::OPTIONS, Method::TRACE].contains(&parts.method),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_its_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new((2, 3), start);
        assert!((0..3).all(|_| bucket.take(start)));
        assert!(!bucket.take(start));
        assert!(bucket.take(start + Duration::from_millis(500)));
        assert!(!bucket.take(start + Duration::from_millis(600)));
        // Refills to the burst, not beyond.
        let later = start + Duration::from_secs(60);
        assert!((0..3).all(|_| bucket.take(later)));
        assert!(!bucket.take(later));
    }

    #[test]
    fn a_zero_rate_allows_only_the_burst() {
        let start = Instant::now();
        let mut bucket = Bucket::new((0, 0), start);
        assert!(bucket.take(start));
        assert!(!bucket.take(start + Duration::from_secs(3600)));
    }
}
