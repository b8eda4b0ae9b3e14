//! Custom domains: which tenant a host name belongs to, for resolving
//! requests by their `Host` (the table is in `store/domains.rs`, the cache
//! in `store/cache.rs`).

use sea_orm::SqlErr;

use crate::{
    error::{Error, Result},
    store::Domain,
    tenancy::Tenancy,
    tenant_id::TenantId,
};

fn parse(domain: &str) -> Result<Domain> {
    Domain::parse(domain).ok_or_else(|| Error::InvalidDomain {
        domain: domain.to_owned(),
    })
}

impl Tenancy {
    /// Maps `domain` (e.g. `shop.acme.com`) to tenant `name`, for resolving
    /// requests by their `Host`. A domain belongs to at most one tenant.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::InvalidDomain`] for a malformed
    /// domain, [`Error::TenantNotFound`], [`Error::DomainTaken`] when the
    /// domain already belongs to a tenant, or a database error.
    pub async fn add_domain(&self, domain: &str, name: &str) -> Result<()> {
        let id = self.tenant_id(name)?;
        let domain = parse(domain)?;
        if !self.exists_id(&id).await? {
            return Err(Error::TenantNotFound {
                tenant: id.to_string(),
            });
        }
        let result = self.store().insert_domain(&domain, &id).await;
        self.domain_cache().clear();
        match result {
            Err(Error::Db(e))
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                Err(Error::DomainTaken {
                    domain: domain.as_str().to_owned(),
                })
            }
            other => other,
        }
    }

    /// Removes `domain`; returns whether it was mapped.
    ///
    /// # Errors
    /// [`Error::InvalidDomain`] for a malformed domain, or a database error.
    pub async fn remove_domain(&self, domain: &str) -> Result<bool> {
        let removed = self.store().delete_domain(&parse(domain)?).await;
        self.domain_cache().clear();
        removed
    }

    /// The domains of tenant `name`, sorted.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`] or a database error.
    pub async fn domains_of(&self, name: &str) -> Result<Vec<String>> {
        let id = self.tenant_id(name)?;
        let rows = self.store().domains_of(&id).await?;
        Ok(rows.into_iter().map(|r| r.domain).collect())
    }

    /// The tenant `domain` belongs to, through the cache (entries live for
    /// [`TenancyBuilder::domain_cache_ttl`](crate::TenancyBuilder::domain_cache_ttl)
    /// and are dropped when this process changes a domain). A malformed
    /// domain belongs to no tenant.
    ///
    /// # Errors
    /// A database error.
    pub async fn tenant_of_domain(&self, domain: &str) -> Result<Option<TenantId>> {
        let Some(domain) = Domain::parse(domain) else {
            return Ok(None);
        };
        if let Some(hit) = self.domain_cache().get(&domain) {
            return Ok(hit);
        }
        let row = self.store().domain(&domain).await?;
        let tenant = row.and_then(|r| self.tenant_id(&r.tenant).ok());
        self.domain_cache().put(domain, tenant.clone());
        Ok(tenant)
    }
}
