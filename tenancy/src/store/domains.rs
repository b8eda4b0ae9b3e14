//! `tenancy_domains`: custom domains, each mapped to one tenant.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

pub(super) use self::record::Entity;
use super::Store;
use crate::{error::Result, tenant_id::TenantId};

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

use record::{ActiveModel, Column};

/// A domain row as stored: the tenant name is not yet validated.
pub(crate) type DomainRow = record::Model;

/// A host name in its stored form: ASCII lowercase, no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Domain(String);

impl Domain {
    /// `domain` in its stored form: ASCII lowercase, no trailing dot, no
    /// port; `None` when it is not a host name (labels of letters, digits
    /// and `-`, at most 63 bytes each and 253 in all). Internationalised
    /// names must come in their punycode (`xn--`) form, as they do in a
    /// `Host` header.
    pub(crate) fn parse(domain: &str) -> Option<Self> {
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
        ok.then(|| Domain(domain.to_ascii_lowercase()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Store {
    /// Maps `domain` to `tenant` (a taken domain is a unique violation).
    pub(crate) async fn insert_domain(&self, domain: &Domain, tenant: &TenantId) -> Result<()> {
        let insert = Entity::insert(ActiveModel {
            domain: Set(domain.0.clone()),
            tenant: Set(tenant.to_string()),
            created_at: Set(chrono::Utc::now()),
        });
        self.exec(self.db(), &insert).await.map(drop)
    }

    /// Removes `domain`; whether it was mapped.
    pub(crate) async fn delete_domain(&self, domain: &Domain) -> Result<bool> {
        let query = Entity::delete_many().filter(Column::Domain.eq(domain.as_str()));
        Ok(self.exec(self.db(), &query).await? > 0)
    }

    /// Removes every domain of `tenant` (when it is dropped).
    pub(crate) async fn delete_domains_of<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant: &TenantId,
    ) -> Result<()> {
        let query = Entity::delete_many().filter(Column::Tenant.eq(tenant.as_str()));
        self.exec(conn, &query).await.map(drop)
    }

    /// The domains of `tenant`, sorted.
    pub(crate) async fn domains_of(&self, tenant: &TenantId) -> Result<Vec<DomainRow>> {
        let query = Entity::find()
            .filter(Column::Tenant.eq(tenant.as_str()))
            .order_by_asc(Column::Domain);
        self.select(self.db(), query).await
    }

    /// The row of `domain`.
    pub(crate) async fn domain(&self, domain: &Domain) -> Result<Option<DomainRow>> {
        let query = Entity::find().filter(Column::Domain.eq(domain.as_str()));
        Ok(self.select(self.db(), query).await?.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalized_or_refused() {
        let parse = |d: &str| Domain::parse(d).map(|d| d.0);
        assert_eq!(parse("Shop.ACME.com.").as_deref(), Some("shop.acme.com"));
        assert_eq!(
            parse("xn--bcher-kva.example").as_deref(),
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
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let long = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63),
        ]
        .join(".");
        assert_eq!(parse(&long), None);
    }
}
