//! Reading the registry: whether a tenant exists, its row, every row, and
//! the checked connection.

use crate::{
    connection::TenantConnection,
    error::{Error, Result},
    store::TenantRow,
    tenancy::Tenancy,
    tenant::{TenantInfo, TenantStatus},
    tenant_id::TenantId,
};

impl Tenancy {
    /// Whether the home (schema, database or file) of tenant `name` exists,
    /// registered or not: for checking that a drop or a failed create left
    /// nothing behind.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`] or a database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::Irreversibly;
    /// assert!(!tenancy.home_exists("acme").await?);
    /// tenancy.create("acme").await?;
    /// assert!(tenancy.home_exists("acme").await?);
    /// tenancy.drop("acme", Irreversibly).await?;
    /// assert!(!tenancy.home_exists("acme").await?); // nothing left behind
    /// # Ok(())
    /// # }
    /// ```
    pub async fn home_exists(&self, name: &str) -> Result<bool> {
        let home = self.home(&self.tenant_id(name)?)?;
        self.backend().home_exists(self.inner(), &home).await
    }

    /// Whether tenant `name` is registered (active or suspended).
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`] or a database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// tenancy.create("acme").await?;
    /// tenancy.suspend("acme").await?;
    /// assert!(tenancy.exists("acme").await?); // suspended still exists
    /// assert!(!tenancy.exists("globex").await?);
    /// assert!(tenancy.exists("Not A Name").await.unwrap_err().is_invalid_name());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn exists(&self, name: &str) -> Result<bool> {
        self.exists_id(&self.tenant_id(name)?).await
    }

    /// Whether `id` is registered (active or suspended).
    pub(crate) async fn exists_id(&self, id: &TenantId) -> Result<bool> {
        Ok(self
            .info_id(id)
            .await?
            .is_some_and(|t| matches!(t.status, TenantStatus::Active | TenantStatus::Suspended)))
    }

    /// The registry row of tenant `name`.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`] or a database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::TenantStatus;
    /// assert!(tenancy.info("acme").await?.is_none());
    /// tenancy.create("acme").await?;
    /// let acme = tenancy.info("acme").await?.expect("registered");
    /// assert_eq!((acme.id.as_str(), acme.status), ("acme", TenantStatus::Active));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn info(&self, name: &str) -> Result<Option<TenantInfo>> {
        self.info_id(&self.tenant_id(name)?).await
    }

    /// The registry row of `id`.
    pub(crate) async fn info_id(&self, id: &TenantId) -> Result<Option<TenantInfo>> {
        let row = self.store().tenant(self.inner(), id).await?;
        Ok(row.map(|row| row.into_info(id.clone())))
    }

    /// Every registered tenant, by name.
    ///
    /// # Errors
    /// A database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// tenancy.create("globex").await?;
    /// tenancy.create("acme").await?;
    /// let names: Vec<String> = tenancy.list().await?.iter().map(|t| t.id.to_string()).collect();
    /// assert_eq!(names, ["acme", "globex"]);
    /// assert!(tenancy.info("initech").await?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<Vec<TenantInfo>> {
        let rows = self.store().tenants().await?;
        Ok(self.infos(rows))
    }

    /// One page of the registered tenants: at most `limit`, by name, after
    /// `after` (the last name of the previous page; `None` for the first).
    /// One query, however many tenants there are: for lists an HTTP client
    /// pages through.
    ///
    /// # Errors
    /// A database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// for name in ["acme", "globex", "initech"] {
    ///     tenancy.create(name).await?;
    /// }
    /// let first = tenancy.list_page(None, 2).await?;
    /// assert_eq!(first.len(), 2);
    /// let rest = tenancy.list_page(Some(&first[1].id), 2).await?;
    /// assert_eq!(rest[0].id.as_str(), "initech");
    /// assert_eq!(tenancy.count().await?, 3);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_page(&self, after: Option<&TenantId>, limit: u64) -> Result<Vec<TenantInfo>> {
        let rows = self.store().tenants_after(after, limit).await?;
        Ok(self.infos(rows))
    }

    /// How many tenants the registry holds (every status).
    ///
    /// # Errors
    /// A database error.
    pub async fn count(&self) -> Result<u64> {
        self.store().count_tenants().await
    }

    fn infos(&self, rows: Vec<TenantRow>) -> Vec<TenantInfo> {
        rows.into_iter()
            .filter_map(|row| {
                // A row this tenancy's rules refuse is not one of its tenants.
                let id = self.tenant_id(&row.name).ok()?;
                Some(row.into_info(id))
            })
            .collect()
    }

    /// Fails unless `id` is registered and active.
    pub(crate) async fn require_active(&self, id: &TenantId) -> Result<()> {
        let row = self.store().tenant(self.inner(), id).await?;
        match row.map(|r| r.status()) {
            Some(TenantStatus::Active) => Ok(()),
            Some(TenantStatus::Suspended) => Err(Error::TenantSuspended {
                tenant: id.to_string(),
            }),
            _ => Err(Error::TenantNotFound {
                tenant: id.to_string(),
            }),
        }
    }

    /// The connection of tenant `name` after checking the registry.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`],
    /// [`Error::TenantSuspended`], or a database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::ErrorCode;
    /// let unknown = tenancy.connect("acme").await.unwrap_err();
    /// assert_eq!(unknown.code(), ErrorCode::TenantNotFound);
    /// tenancy.create("acme").await?;
    /// let conn = tenancy.connect("acme").await?;
    /// assert_eq!(conn.tenant().as_str(), "acme");
    /// tenancy.suspend("acme").await?;
    /// assert_eq!(tenancy.connect("acme").await.unwrap_err().code(), ErrorCode::TenantSuspended);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(&self, name: &str) -> Result<TenantConnection> {
        let id = self.tenant_id(name)?;
        self.require_active(&id).await?;
        self.connection(&id)
    }
}
