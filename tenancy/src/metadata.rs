//! A tenant's metadata in the registry: read as a type of the
//! application's, replaced after creation.

use serde::{Serialize, de::DeserializeOwned};

use crate::{
    error::{Error, Result},
    tenancy::Tenancy,
    tenant::{TenantInfo, TenantStatus},
};

/// Metadata changes only for these: a tenant being created gets its
/// metadata from the create, one being dropped is going.
const CHANGEABLE: [TenantStatus; 2] = [TenantStatus::Active, TenantStatus::Suspended];

impl Tenancy {
    /// Replaces the metadata of tenant `name` with `value` (anything serde
    /// serializes to JSON: a struct of the application's, a
    /// `serde_json::Value`), for an active or suspended tenant; the tenant
    /// as now registered.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`] (also while
    /// it is being dropped), [`Error::TenantProvisioning`] while it is being
    /// created, [`Error::Metadata`] when `value` does not serialize, or a
    /// database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    /// struct Billing {
    ///     plan: String,
    ///     seats: u32,
    /// }
    /// tenancy.create("acme").await?;
    /// let billing = Billing { plan: "pro".into(), seats: 5 };
    /// tenancy.set_metadata("acme", &billing).await?;
    /// assert_eq!(tenancy.metadata::<Billing>("acme").await?, billing);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn set_metadata<T: Serialize + ?Sized>(
        &self,
        name: &str,
        value: &T,
    ) -> Result<TenantInfo> {
        let id = self.tenant_id(name)?;
        let metadata = serde_json::to_value(value).map_err(|source| Error::Metadata {
            tenant: id.to_string(),
            source,
        })?;
        if self
            .store()
            .set_metadata(&id, &CHANGEABLE, metadata)
            .await?
            == 0
        {
            return Err(match self.info_id(&id).await?.map(|t| t.status) {
                Some(TenantStatus::Provisioning) => Error::TenantProvisioning {
                    tenant: id.to_string(),
                },
                _ => id.not_found(),
            });
        }
        self.info_id(&id).await?.ok_or_else(|| id.not_found())
    }

    /// The metadata of tenant `name` as a `T` (`serde_json::Value` for
    /// whatever is there).
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`],
    /// [`Error::Metadata`] when the stored metadata is not a `T`, or a
    /// database error.
    pub async fn metadata<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        let id = self.tenant_id(name)?;
        let info = self.info_id(&id).await?.ok_or_else(|| id.not_found())?;
        serde_json::from_value(info.metadata).map_err(|source| Error::Metadata {
            tenant: id.to_string(),
            source,
        })
    }
}
