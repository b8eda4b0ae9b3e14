//! Custom domains: the `tenancy_domains` table (domain -> tenant, unique) in
//! the shared home, and an in-process cache with a time to live.

use std::{
    num::NonZeroUsize,
    sync::Mutex,
    time::{Duration, Instant},
};

use lru::LruCache;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryTrait, Schema, SqlErr,
};

use crate::{
    error::{Error, Result},
    tenancy::Tenancy,
    tenant_id::TenantId,
};

/// The table name, a shared table owned by the library.
pub(crate) const DOMAINS_TABLE: &str = "tenancy_domains";

mod record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenancy_domains")]
    pub(crate) struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub(crate) domain: String,
        pub(crate) tenant: String,
        pub(crate) created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A cached lookup: the tenant (or none) and when it was read.
type Entry = (Option<TenantId>, Instant);

/// Cached lookups by domain.
pub(crate) struct DomainCache {
    ttl: Duration,
    entries: Mutex<LruCache<Box<str>, Entry>>,
}

impl std::fmt::Debug for DomainCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// How many domains the cache remembers (unknown ones included, so random
/// Host headers cannot make every request a database lookup).
const CACHED_DOMAINS: NonZeroUsize = NonZeroUsize::new(10_000).expect("non-zero");

impl DomainCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        DomainCache {
            ttl,
            entries: Mutex::new(LruCache::new(CACHED_DOMAINS)),
        }
    }

    fn get(&self, domain: &str) -> Option<Option<TenantId>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(domain) {
            Some((tenant, at)) if at.elapsed() < self.ttl => Some(tenant.clone()),
            _ => None,
        }
    }

    fn put(&self, domain: &str, tenant: Option<TenantId>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.put(domain.into(), (tenant, Instant::now()));
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// `domain` in its stored form: ASCII lowercase, no trailing dot, no port;
/// `None` when it is not a host name (labels of letters, digits and `-`,
/// at most 63 bytes each and 253 in all). Internationalised names must come
/// in their punycode (`xn--`) form, as they do in a `Host` header.
pub(crate) fn normalize(domain: &str) -> Option<String> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ok.then(|| domain.to_ascii_lowercase())
}

fn invalid_domain(domain: &str) -> Error {
    Error::Config(format!("{domain:?} is not a domain name"))
}

/// Creates the domains table if missing (with the registry, at build).
pub(crate) async fn install<C: ConnectionTrait>(t: &Tenancy, conn: &C) -> Result<()> {
    let backend = conn.get_database_backend();
    let mut create = Schema::new(backend).create_table_from_entity(record::Entity);
    let stmt = t
        .shared_router()
        .statement(backend.build(create.if_not_exists()))?;
    conn.execute_raw(stmt).await?;
    Ok(())
}

/// Deletes every domain of `tenant` (when it is dropped).
pub(crate) async fn delete_all<C: ConnectionTrait>(
    t: &Tenancy,
    conn: &C,
    tenant: &TenantId,
) -> Result<()> {
    let query = record::Entity::delete_many().filter(record::Column::Tenant.eq(tenant.as_str()));
    let stmt = t
        .shared_router()
        .statement(query.build(conn.get_database_backend()))?;
    conn.execute_raw(stmt).await?;
    Ok(())
}

impl Tenancy {
    /// Maps `domain` (e.g. `shop.acme.com`) to tenant `name`, for resolving
    /// requests by their `Host`. A domain belongs to at most one tenant.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`],
    /// [`Error::Config`] for a malformed domain, [`Error::TenantExists`]
    /// when the domain already belongs to a tenant, or a database error.
    pub async fn add_domain(&self, domain: &str, name: &str) -> Result<()> {
        let id = self.tenant_id(name)?;
        let stored = normalize(domain).ok_or_else(|| invalid_domain(domain))?;
        if !self.exists(name).await? {
            return Err(Error::TenantNotFound {
                tenant: id.to_string(),
            });
        }
        let insert = record::Entity::insert(record::ActiveModel {
            domain: sea_orm::Set(stored.clone()),
            tenant: sea_orm::Set(id.to_string()),
            created_at: sea_orm::Set(chrono::Utc::now()),
        });
        let db = self.inner();
        let stmt = self
            .shared_router()
            .statement(insert.build(db.get_database_backend()))?;
        let result = db.execute_raw(stmt).await;
        self.domain_cache().clear();
        match result {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Err(Error::TenantExists { tenant: stored })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Removes `domain`; returns whether it was mapped.
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed domain, or a database error.
    pub async fn remove_domain(&self, domain: &str) -> Result<bool> {
        let stored = normalize(domain).ok_or_else(|| invalid_domain(domain))?;
        let query = record::Entity::delete_many().filter(record::Column::Domain.eq(stored));
        let db = self.inner();
        let stmt = self
            .shared_router()
            .statement(query.build(db.get_database_backend()))?;
        let removed = db.execute_raw(stmt).await?.rows_affected() > 0;
        self.domain_cache().clear();
        Ok(removed)
    }

    /// The domains of tenant `name`, sorted.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`] or a database error.
    pub async fn domains_of(&self, name: &str) -> Result<Vec<String>> {
        let id = self.tenant_id(name)?;
        let query = record::Entity::find()
            .filter(record::Column::Tenant.eq(id.as_str()))
            .order_by_asc(record::Column::Domain);
        Ok(self
            .find_domains(query)
            .await?
            .into_iter()
            .map(|r| r.domain)
            .collect())
    }

    /// The tenant `domain` belongs to, through the cache (entries live for
    /// [`TenancyBuilder::domain_cache_ttl`](crate::TenancyBuilder::domain_cache_ttl)
    /// and are dropped when this process changes a domain). A malformed
    /// domain belongs to no tenant.
    ///
    /// # Errors
    /// A database error.
    pub async fn tenant_of_domain(&self, domain: &str) -> Result<Option<TenantId>> {
        let Some(stored) = normalize(domain) else {
            return Ok(None);
        };
        if let Some(hit) = self.domain_cache().get(&stored) {
            return Ok(hit);
        }
        let query = record::Entity::find().filter(record::Column::Domain.eq(stored.as_str()));
        let tenant = self
            .find_domains(query)
            .await?
            .into_iter()
            .next()
            .and_then(|r| self.tenant_id(&r.tenant).ok());
        self.domain_cache().put(&stored, tenant.clone());
        Ok(tenant)
    }

    async fn find_domains(
        &self,
        query: sea_orm::Select<record::Entity>,
    ) -> Result<Vec<record::Model>> {
        let db = self.inner();
        let stmt = self
            .shared_router()
            .statement(query.build(db.get_database_backend()))?;
        Ok(record::Entity::find().from_raw_sql(stmt).all(db).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalized_or_refused() {
        assert_eq!(
            normalize("Shop.ACME.com.").as_deref(),
            Some("shop.acme.com")
        );
        assert_eq!(
            normalize("xn--bcher-kva.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        for bad in [
            "",
            ".",
            "a..b",
            "-a.com",
            "a-.com",
            "bücher.de",
            "a b.com",
            "a.com:80",
            "a/b",
            &"a".repeat(64),
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
        let long = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63),
        ]
        .join(".");
        assert_eq!(normalize(&long), None);
    }

    #[test]
    fn the_cache_expires_and_clears() {
        let cache = DomainCache::new(Duration::from_millis(50));
        let acme = TenantId::new("acme").expect("valid");
        cache.put("a.com", Some(acme.clone()));
        cache.put("b.com", None);
        assert_eq!(cache.get("a.com"), Some(Some(acme)));
        assert_eq!(cache.get("b.com"), Some(None));
        assert_eq!(cache.get("c.com"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("a.com"), None);
        cache.put("a.com", None);
        cache.clear();
        assert_eq!(cache.get("a.com"), None);
    }
}
