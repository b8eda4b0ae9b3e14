//! Tenant lifecycle: create, drop, exists, list, suspend, resume, on the
//! registry table (`store/tenants.rs`) and the backend's homes.

use chrono::Utc;
use sea_orm::{ConnectionTrait, SqlErr, TransactionTrait};

use crate::{
    error::{Error, Result},
    events::{Operation, TenantEvent},
    store::NewTenant,
    tenancy::Tenancy,
    tenant::{Irreversibly, TenantInfo, TenantStatus},
    tenant_id::TenantId,
};

/// `err` with a unique violation read as "tenant `id` exists".
fn exists_error(id: &TenantId, err: Error) -> Error {
    match err {
        Error::Db(db) if matches!(db.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Error::TenantExists {
                tenant: id.to_string(),
            }
        }
        other => other,
    }
}

fn created(info: &TenantInfo) -> Vec<TenantEvent> {
    vec![TenantEvent::Created {
        tenant: info.id.clone(),
    }]
}

fn empty_metadata() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

impl Tenancy {
    /// Creates tenant `name`: its home (schema, database or file) and its
    /// registry row, with empty metadata. The home is empty; run the tenant
    /// migrations to fill it.
    ///
    /// On PostgreSQL both happen in one transaction. Elsewhere the row is
    /// written first as `provisioning`, then the home is made, then the row
    /// turns `active`; a failure removes what was made. Of concurrent
    /// creates of one name exactly one wins.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantExists`], or a database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::TenantStatus;
    /// let acme = tenancy.create("acme").await?;
    /// assert_eq!(acme.status, TenantStatus::Active);
    /// assert!(tenancy.home_exists("acme").await?);
    /// assert!(tenancy.create("acme").await.unwrap_err().is_exists());
    /// assert!(tenancy.create("Not A Name").await.unwrap_err().is_invalid_name());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(&self, name: &str) -> Result<TenantInfo> {
        self.create_of(&self.tenant_id(name)?, empty_metadata())
            .await
    }

    /// [`Tenancy::create`] with metadata stored in the registry row.
    ///
    /// # Errors
    /// As [`Tenancy::create`].
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use serde_json::json;
    /// let acme = tenancy.create_with_metadata("acme", json!({ "plan": "pro" })).await?;
    /// assert_eq!(acme.metadata["plan"], "pro");
    /// let stored = tenancy.info("acme").await?.expect("registered");
    /// assert_eq!(stored.metadata, json!({ "plan": "pro" }));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_with_metadata(
        &self,
        name: &str,
        metadata: serde_json::Value,
    ) -> Result<TenantInfo> {
        self.create_of(&self.tenant_id(name)?, metadata).await
    }

    /// [`Tenancy::create_with_metadata`] for a validated tenant.
    pub(crate) async fn create_of(
        &self,
        id: &TenantId,
        metadata: serde_json::Value,
    ) -> Result<TenantInfo> {
        let create = self.create_id(id, metadata, false, async || Ok(()));
        self.observe(Operation::Create, id, create, created).await
    }

    /// [`Tenancy::create`] that runs `prepare` (migrations, seeding) after
    /// making the home and before the tenant turns active; when `prepare`
    /// fails the create is undone.
    pub(crate) async fn create_prepared<F>(&self, id: &TenantId, prepare: F) -> Result<TenantInfo>
    where
        F: AsyncFnOnce() -> Result<()>,
    {
        let create = self.create_id(id, empty_metadata(), true, prepare);
        self.observe(Operation::Create, id, create, created).await
    }

    async fn create_id<F>(
        &self,
        id: &TenantId,
        metadata: serde_json::Value,
        staged: bool,
        prepare: F,
    ) -> Result<TenantInfo>
    where
        F: AsyncFnOnce() -> Result<()>,
    {
        let home = self.home(id)?;
        let backend = self.backend();
        let store = self.store();
        let db = self.inner();
        let mut row = NewTenant {
            id,
            status: TenantStatus::Provisioning,
            created_at: Utc::now(),
            metadata: &metadata,
        };
        if backend.transactional_ddl() {
            // One transaction; a staged create (a migration that cannot run
            // in a transaction follows) commits the row as `provisioning`.
            if !staged {
                row.status = TenantStatus::Active;
            }
            let txn = db.begin().await?;
            self.insert_and_create(&txn, &row).await?;
            txn.commit().await?;
            if !staged {
                return Ok(self.created(&row));
            }
        } else {
            store
                .insert_tenant_retrying(&row)
                .await
                .map_err(|e| exists_error(id, e))?;
            if let Err(err) = backend.create_home(db, &home).await {
                self.compensate(id, &home, false).await;
                return Err(err);
            }
        }
        // Still `provisioning`: nobody is served a half-made tenant.
        if let Err(err) = prepare().await {
            self.compensate(id, &home, true).await;
            return Err(err);
        }
        let provisioning = [TenantStatus::Provisioning];
        match store
            .set_status(id, &provisioning, TenantStatus::Active)
            .await
        {
            Ok(1) => Ok(self.created(&row)),
            Ok(_) => {
                // The row is gone: whatever removed it, the home this
                // create made must not outlive it.
                self.compensate(id, &home, true).await;
                Err(id.not_found())
            }
            Err(err) => {
                self.compensate(id, &home, true).await;
                Err(err)
            }
        }
    }

    fn created(&self, row: &NewTenant<'_>) -> TenantInfo {
        TenantInfo {
            id: row.id.clone(),
            status: TenantStatus::Active,
            created_at: row.created_at,
            metadata: row.metadata.clone(),
        }
    }

    /// PostgreSQL: the registry row (active, empty metadata) and the schema
    /// of a new tenant, inside the caller's transaction.
    pub(crate) async fn create_in<C: ConnectionTrait>(&self, txn: &C, id: &TenantId) -> Result<()> {
        let metadata = empty_metadata();
        let row = NewTenant {
            id,
            status: TenantStatus::Active,
            created_at: Utc::now(),
            metadata: &metadata,
        };
        self.insert_and_create(txn, &row).await
    }

    async fn insert_and_create<C: ConnectionTrait>(
        &self,
        txn: &C,
        row: &NewTenant<'_>,
    ) -> Result<()> {
        let home = self.home(row.id)?;
        let sql = self.backend().create_home_sql(&home).ok_or_else(|| {
            Error::Config("this backend cannot create a home in a transaction".to_owned())
        })?;
        self.store()
            .insert_tenant(txn, row)
            .await
            .map_err(|e| exists_error(row.id, e))?;
        txn.execute_unprepared(&sql).await?;
        Ok(())
    }

    /// Undoes a failed create: the home (when this create made it) and the row.
    async fn compensate(&self, id: &TenantId, home: &str, drop_home: bool) {
        let db = self.inner();
        if drop_home && let Err(e) = self.backend().drop_home(db, home).await {
            tracing::error!(tenant = %id, error = %e, "could not remove the home of a failed create");
        }
        if let Err(e) = self.store().delete_tenant(db, id).await {
            tracing::error!(tenant = %id, error = %e, "could not remove the registry row of a failed create");
        }
    }

    /// Deletes tenant `name`: its home with every table and row in it, and
    /// its registry row. **Irreversible**: there is no undo and no trash.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`], or a database error.
    ///
    /// # Examples
    /// ```
    /// # include!("../doctest_setup.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> tenancy::Result<()> {
    /// # let (tenancy, _dir) = setup().await;
    /// use tenancy::Irreversibly;
    /// tenancy.create("acme").await?;
    /// tenancy.drop("acme", Irreversibly).await?;
    /// assert!(!tenancy.exists("acme").await?);
    /// assert!(!tenancy.home_exists("acme").await?); // nothing left behind
    /// assert!(tenancy.drop("acme", Irreversibly).await.unwrap_err().is_not_found());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn drop(&self, name: &str, _confirm: Irreversibly) -> Result<()> {
        let id = self.tenant_id(name)?;
        let dropped = |(): &()| vec![TenantEvent::Dropped { tenant: id.clone() }];
        self.observe(Operation::Drop, &id, self.drop_id(&id), dropped)
            .await
    }

    async fn drop_id(&self, id: &TenantId) -> Result<()> {
        let home = self.home(id)?;
        let db = self.inner();
        let backend = self.backend();
        let store = self.store();
        let Some(row) = store.tenant(db, id).await? else {
            return Err(id.not_found());
        };
        // Claim the row first, committed: a tenant still being created is
        // not ours to drop (its create would then make a home no row
        // lists); one dropper wins the claim, the others find nothing to
        // drop; and every process sees `dropping` at once (its statements
        // that fail while the home goes answer "not found").
        let from = [TenantStatus::Active, TenantStatus::Suspended];
        if store.set_status(id, &from, TenantStatus::Dropping).await? == 0 {
            return Err(id.not_found());
        }
        match backend.drop_home_sql(&home) {
            Some(sql) if backend.transactional_ddl() => {
                let dropped = async {
                    let txn = db.begin().await?;
                    store.delete_domains_of(&txn, id).await?;
                    store.delete_tenant(&txn, id).await?;
                    txn.execute_unprepared(&sql).await?;
                    txn.commit().await?;
                    Ok::<_, Error>(())
                };
                if let Err(e) = dropped.await {
                    // Nothing was dropped: the tenant serves as before.
                    let back = store.set_status(id, &[TenantStatus::Dropping], row.status());
                    if let Err(undo) = back.await {
                        tracing::error!(tenant = %id, error = %undo, "a failed drop left the tenant dropping");
                    }
                    return Err(e);
                }
            }
            _ => {
                backend.drop_home(db, &home).await?;
                store.delete_domains_of(db, id).await?;
                // Only the row this drop claimed.
                store.delete_tenant_in(id, TenantStatus::Dropping).await?;
            }
        }
        Ok(())
    }
}
