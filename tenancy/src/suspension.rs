//! Suspending a tenant (its data kept, nobody served) and resuming it,
//! migrated first.

use crate::{
    error::Result,
    events::{Operation, TenantEvent},
    tenancy::Tenancy,
    tenant::TenantStatus,
};

impl Tenancy {
    /// Suspends tenant `name`: [`Tenancy::connect`] refuses it until
    /// [`Tenancy::resume`]. Its data stays.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName), [`Error::TenantNotFound`](crate::Error::TenantNotFound), or a database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::{Error, TenantStatus};
    /// tenancy.create("acme").await?;
    /// tenancy.suspend("acme").await?;
    /// assert!(matches!(tenancy.connect("acme").await, Err(Error::TenantSuspended { .. })));
    /// assert_eq!(tenancy.info("acme").await?.map(|t| t.status), Some(TenantStatus::Suspended));
    /// tenancy.resume("acme").await?;
    /// tenancy.connect("acme").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn suspend(&self, name: &str) -> Result<()> {
        self.change_status(name, TenantStatus::Suspended).await
    }

    /// Resumes a suspended tenant. When the application's migrator is
    /// registered ([`TenancyBuilder::migrator`](crate::TenancyBuilder::migrator)),
    /// the migrations it missed while suspended are applied first, while
    /// nobody is served, so a resumed tenant never serves on an old schema:
    /// if they fail, the tenant stays suspended and the error is returned.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`](crate::Error::InvalidTenantName), [`Error::TenantNotFound`](crate::Error::TenantNotFound),
    /// [`Error::Migration`](crate::Error::Migration) (still suspended), or a database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::ErrorCode;
    /// tenancy.create("acme").await?;
    /// tenancy.suspend("acme").await?;
    /// let refused = tenancy.connect("acme").await.unwrap_err();
    /// assert_eq!(refused.code(), ErrorCode::TenantSuspended);
    /// tenancy.resume("acme").await?;
    /// tenancy.connect("acme").await?.ping().await?; // connectable again
    /// assert!(tenancy.resume("globex").await.unwrap_err().is_not_found());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume(&self, name: &str) -> Result<()> {
        let id = self.tenant_id(name)?;
        if let Some(migrator) = self.migrator() {
            match self.info_id(&id).await?.map(|t| t.status) {
                Some(TenantStatus::Suspended) => {
                    migrator.up(self, &id).await?;
                }
                // Serving already: migrated like every active tenant.
                Some(TenantStatus::Active) => {}
                _ => return Err(id.not_found()),
            }
        }
        self.change_status(name, TenantStatus::Active).await
    }

    async fn change_status(&self, name: &str, to: TenantStatus) -> Result<()> {
        let id = self.tenant_id(name)?;
        let from = [TenantStatus::Active, TenantStatus::Suspended];
        let change = async {
            if self.store().set_status(&id, &from, to).await? == 0 {
                return Err(id.not_found());
            }
            Ok(())
        };
        let changed = |(): &()| {
            vec![TenantEvent::StatusChanged {
                tenant: id.clone(),
                status: to,
            }]
        };
        self.observe(Operation::ChangeStatus, &id, change, changed)
            .await
    }
}
