//! The in-process cache of custom-domain lookups, with a time to live.

use std::{
    num::NonZeroUsize,
    sync::Mutex,
    time::{Duration, Instant},
};

use lru::LruCache;

use super::Domain;
use crate::tenant_id::TenantId;

/// A cached lookup: the tenant (or none) and when it was read.
type Entry = (Option<TenantId>, Instant);

/// How many domains the cache remembers (unknown ones included, so random
/// Host headers cannot make every request a database lookup).
const CACHED_DOMAINS: NonZeroUsize = NonZeroUsize::new(10_000).expect("non-zero");

/// Cached lookups by domain.
pub(crate) struct DomainCache {
    ttl: Duration,
    entries: Mutex<LruCache<Domain, Entry>>,
}

impl std::fmt::Debug for DomainCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl DomainCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        DomainCache {
            ttl,
            entries: Mutex::new(LruCache::new(CACHED_DOMAINS)),
        }
    }

    /// The cached tenant of `domain` (`Some(None)`: known to have none).
    pub(crate) fn get(&self, domain: &Domain) -> Option<Option<TenantId>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(domain) {
            Some((tenant, at)) if at.elapsed() < self.ttl => Some(tenant.clone()),
            _ => None,
        }
    }

    pub(crate) fn put(&self, domain: Domain, tenant: Option<TenantId>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.put(domain, (tenant, Instant::now()));
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(d: &str) -> Domain {
        Domain::parse(d).expect("a domain")
    }

    #[test]
    fn the_cache_expires_and_clears() {
        let cache = DomainCache::new(Duration::from_millis(50));
        let acme = TenantId::new("acme").expect("valid");
        cache.put(domain("a.com"), Some(acme.clone()));
        cache.put(domain("b.com"), None);
        assert_eq!(cache.get(&domain("a.com")), Some(Some(acme)));
        assert_eq!(cache.get(&domain("b.com")), Some(None));
        assert_eq!(cache.get(&domain("c.com")), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&domain("a.com")), None);
        cache.put(domain("a.com"), None);
        cache.clear();
        assert_eq!(cache.get(&domain("a.com")), None);
    }
}
