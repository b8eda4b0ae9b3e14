//! Tenant lifecycle: create, drop, exists, list, suspend, resume; backed by
//! the `tenancy_tenants` registry table in the shared home.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait, Schema,
    SqlErr, TransactionTrait, sea_query::Expr,
};

use crate::{
    error::{Error, Result},
    events::{Operation, TenantEvent},
    tenancy::Tenancy,
    tenant_id::TenantId,
};

/// The registry table, a shared entity owned by the library.
mod record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenancy_tenants")]
    pub(crate) struct Model {
        #[sea_orm(primary_key)]
        pub(crate) id: i32,
        #[sea_orm(unique)]
        pub(crate) name: String,
        pub(crate) status: String,
        pub(crate) created_at: ChronoDateTimeUtc,
        pub(crate) metadata: Json,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Where a tenant is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TenantStatus {
    /// Serving.
    Active,
    /// Registered but refused by [`Tenancy::connect`].
    Suspended,
    /// Being created (or a create was interrupted): not yet usable.
    Provisioning,
    /// Being dropped (MySQL, SQLite), or a drop was interrupted: not usable;
    /// such a row (and any home left) is removed by hand.
    Dropping,
}

impl TenantStatus {
    /// The status as stored in the registry.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
            TenantStatus::Provisioning => "provisioning",
            TenantStatus::Dropping => "dropping",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "active" => TenantStatus::Active,
            "suspended" => TenantStatus::Suspended,
            "dropping" => TenantStatus::Dropping,
            _ => TenantStatus::Provisioning,
        }
    }
}

/// A registered tenant, from [`Tenancy::list`] and [`Tenancy::info`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TenantInfo {
    /// The tenant.
    pub id: TenantId,
    /// Its status.
    pub status: TenantStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Free-form JSON set at creation.
    pub metadata: serde_json::Value,
}

/// Spelled out at the call site of [`Tenancy::drop`], which deletes a
/// tenant's home and every row in it.
#[derive(Debug, Clone, Copy)]
pub struct Irreversibly;

/// Runs a registry statement through the shared route.
async fn exec<C: ConnectionTrait>(t: &Tenancy, conn: &C, query: &impl QueryTrait) -> Result<u64> {
    let stmt = t
        .shared_router()
        .statement(query.build(conn.get_database_backend()))?;
    Ok(conn.execute_raw(stmt).await?.rows_affected())
}

/// [`exec`] on the pool, outside any transaction, retried when the database
/// picks the statement as a deadlock victim (MySQL's gap locks make
/// concurrent creates and drops of one name collide).
async fn exec_autocommit(
    t: &Tenancy,
    db: &sea_orm::DatabaseConnection,
    query: &impl QueryTrait,
) -> Result<u64> {
    let mut attempt = 0;
    loop {
        match exec(t, db, query).await {
            Err(Error::Db(e)) if attempt < 8 && is_deadlock(&e) => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(2 << attempt)).await;
            }
            other => return other,
        }
    }
}

/// SQLSTATE 40001 (MySQL deadlock, serialization failure) or 40P01.
fn is_deadlock(err: &DbErr) -> bool {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "40001" || code == "40P01")
}

fn exists_error(id: &TenantId) -> impl Fn(DbErr) -> Error + '_ {
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::TenantExists {
            tenant: id.to_string(),
        },
        _ => Error::Db(err),
    }
}

/// Creates the registry table if missing. Serialized on PostgreSQL, where
/// concurrent `CREATE TABLE IF NOT EXISTS` can collide.
pub(crate) async fn install(t: &Tenancy) -> Result<()> {
    let db = t.inner();
    let backend = db.get_database_backend();
    let create = Schema::new(backend)
        .create_table_from_entity(record::Entity)
        .if_not_exists()
        .to_owned();
    let stmt = t.shared_router().statement(backend.build(&create))?;
    let txn = db.begin().await?;
    if backend == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7300422916453021761)")
            .await?;
    }
    txn.execute_raw(stmt).await?;
    crate::domains::install(t, &txn).await?;
    txn.commit().await?;
    Ok(())
}

async fn find<C: ConnectionTrait>(
    t: &Tenancy,
    conn: &C,
    id: &TenantId,
) -> Result<Option<record::Model>> {
    let query = record::Entity::find().filter(record::Column::Name.eq(id.as_str()));
    let stmt = t
        .shared_router()
        .statement(query.build(conn.get_database_backend()))?;
    Ok(record::Entity::find().from_raw_sql(stmt).one(conn).await?)
}

fn info(t: &Tenancy, row: record::Model) -> Option<TenantInfo> {
    let id = t.tenant_id(&row.name).ok()?;
    Some(TenantInfo {
        id,
        status: TenantStatus::parse(&row.status),
        created_at: row.created_at,
        metadata: row.metadata,
    })
}

async fn delete_row<C: ConnectionTrait>(t: &Tenancy, conn: &C, id: &TenantId) -> Result<u64> {
    let query = record::Entity::delete_many().filter(record::Column::Name.eq(id.as_str()));
    exec(t, conn, &query).await
}

async fn set_status(
    t: &Tenancy,
    conn: &sea_orm::DatabaseConnection,
    id: &TenantId,
    from: &[TenantStatus],
    to: TenantStatus,
) -> Result<u64> {
    let query = record::Entity::update_many()
        .col_expr(record::Column::Status, Expr::value(to.as_str()))
        .filter(record::Column::Name.eq(id.as_str()))
        .filter(record::Column::Status.is_in(from.iter().map(|s| s.as_str())));
    exec_autocommit(t, conn, &query).await
}

pub(crate) async fn require_active(t: &Tenancy, id: &TenantId) -> Result<()> {
    let row = find(t, t.inner(), id).await?;
    match row.map(|r| TenantStatus::parse(&r.status)) {
        Some(TenantStatus::Active) => Ok(()),
        Some(TenantStatus::Suspended) => Err(Error::TenantSuspended {
            tenant: id.to_string(),
        }),
        _ => Err(Error::TenantNotFound {
            tenant: id.to_string(),
        }),
    }
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
    pub async fn create(&self, name: &str) -> Result<TenantInfo> {
        self.create_with_metadata(name, serde_json::Value::Object(Default::default()))
            .await
    }

    /// [`Tenancy::create`] with metadata stored in the registry row.
    ///
    /// # Errors
    /// As [`Tenancy::create`].
    pub async fn create_with_metadata(
        &self,
        name: &str,
        metadata: serde_json::Value,
    ) -> Result<TenantInfo> {
        let id = self.tenant_id(name)?;
        let created = |info: &TenantInfo| {
            vec![TenantEvent::Created {
                tenant: info.id.clone(),
            }]
        };
        let create = self.create_id(&id, metadata, false, async || Ok(()));
        self.observe(Operation::Create, &id, create, created).await
    }

    /// [`Tenancy::create`] that runs `prepare` (migrations, seeding) after
    /// making the home and before the tenant turns active; when `prepare`
    /// fails the create is undone.
    pub(crate) async fn create_prepared<F>(&self, id: &TenantId, prepare: F) -> Result<TenantInfo>
    where
        F: AsyncFnOnce() -> Result<()>,
    {
        let created = |info: &TenantInfo| {
            vec![TenantEvent::Created {
                tenant: info.id.clone(),
            }]
        };
        let metadata = serde_json::Value::Object(Default::default());
        let create = self.create_id(id, metadata, true, prepare);
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
        let id = id.clone();
        let home = self.rules().home(&id)?;
        let backend = self.backend();
        let db = self.inner();
        let created_at = Utc::now();
        let row = |status: TenantStatus| {
            record::Entity::insert(record::ActiveModel {
                name: sea_orm::Set(id.to_string()),
                status: sea_orm::Set(status.as_str().to_owned()),
                created_at: sea_orm::Set(created_at),
                metadata: sea_orm::Set(metadata.clone()),
                ..Default::default()
            })
        };
        if backend.transactional_ddl() {
            // One transaction; a staged create (a migration that cannot run
            // in a transaction follows) commits the row as `provisioning`.
            let first = if staged {
                TenantStatus::Provisioning
            } else {
                TenantStatus::Active
            };
            let txn = db.begin().await?;
            self.insert_and_create(&txn, &id, &row(first)).await?;
            txn.commit().await?;
            if !staged {
                return Ok(self.created(id, created_at, metadata));
            }
        } else {
            exec_autocommit(self, db, &row(TenantStatus::Provisioning))
                .await
                .map_err(|e| db_error(e, exists_error(&id)))?;
            if let Err(err) = backend.create_home(db, &home).await {
                self.compensate(&id, &home, false).await;
                return Err(err);
            }
        }
        // Still `provisioning`: nobody is served a half-made tenant.
        if let Err(err) = prepare().await {
            self.compensate(&id, &home, true).await;
            return Err(err);
        }
        let provisioning = [TenantStatus::Provisioning];
        match set_status(self, db, &id, &provisioning, TenantStatus::Active).await {
            Ok(1) => {}
            Ok(_) => {
                // The row is gone: whatever removed it, the home this
                // create made must not outlive it.
                self.compensate(&id, &home, true).await;
                return Err(Error::TenantNotFound {
                    tenant: id.to_string(),
                });
            }
            Err(err) => {
                self.compensate(&id, &home, true).await;
                return Err(err);
            }
        }
        Ok(self.created(id, created_at, metadata))
    }

    fn created(
        &self,
        id: TenantId,
        created_at: DateTime<Utc>,
        metadata: serde_json::Value,
    ) -> TenantInfo {
        TenantInfo {
            id,
            status: TenantStatus::Active,
            created_at,
            metadata,
        }
    }

    /// PostgreSQL: the registry row (active, empty metadata) and the schema
    /// of a new tenant, inside the caller's transaction.
    pub(crate) async fn create_in<C: ConnectionTrait>(&self, txn: &C, id: &TenantId) -> Result<()> {
        let row = record::Entity::insert(record::ActiveModel {
            name: sea_orm::Set(id.to_string()),
            status: sea_orm::Set(TenantStatus::Active.as_str().to_owned()),
            created_at: sea_orm::Set(Utc::now()),
            metadata: sea_orm::Set(serde_json::Value::Object(Default::default())),
            ..Default::default()
        });
        self.insert_and_create(txn, id, &row).await
    }

    async fn insert_and_create<C: ConnectionTrait>(
        &self,
        txn: &C,
        id: &TenantId,
        row: &impl QueryTrait,
    ) -> Result<()> {
        let home = self.rules().home(id)?;
        let sql = self.backend().create_home_sql(&home).ok_or_else(|| {
            Error::Config("this backend cannot create a home in a transaction".to_owned())
        })?;
        exec(self, txn, row)
            .await
            .map_err(|e| db_error(e, exists_error(id)))?;
        txn.execute_unprepared(&sql).await?;
        Ok(())
    }

    /// Undoes a failed create: the home (when this create made it) and the row.
    async fn compensate(&self, id: &TenantId, home: &str, drop_home: bool) {
        let db = self.inner();
        if drop_home && let Err(e) = self.backend().drop_home(db, home).await {
            tracing::error!(tenant = %id, error = %e, "could not remove the home of a failed create");
        }
        if let Err(e) = delete_row(self, db, id).await {
            tracing::error!(tenant = %id, error = %e, "could not remove the registry row of a failed create");
        }
    }

    /// Deletes tenant `name`: its home with every table and row in it, and
    /// its registry row. **Irreversible**: there is no undo and no trash.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`], or a database error.
    pub async fn drop(&self, name: &str, _confirm: Irreversibly) -> Result<()> {
        let id = self.tenant_id(name)?;
        let dropped = |(): &()| vec![TenantEvent::Dropped { tenant: id.clone() }];
        self.observe(Operation::Drop, &id, self.drop_id(&id), dropped)
            .await
    }

    async fn drop_id(&self, id: &TenantId) -> Result<()> {
        let id = id.clone();
        let home = self.rules().home(&id)?;
        let db = self.inner();
        let backend = self.backend();
        if find(self, db, &id).await?.is_none() {
            return Err(Error::TenantNotFound {
                tenant: id.to_string(),
            });
        }
        if !backend.transactional_ddl() {
            // Claim the row first: a tenant still being created is not
            // ours to drop (its create would then make a home no row lists).
            // One dropper wins the claim; the others find nothing to drop.
            let from = [TenantStatus::Active, TenantStatus::Suspended];
            if set_status(self, db, &id, &from, TenantStatus::Dropping).await? == 0 {
                return Err(Error::TenantNotFound {
                    tenant: id.to_string(),
                });
            }
        }
        match backend.drop_home_sql(&home) {
            Some(sql) if backend.transactional_ddl() => {
                let txn = db.begin().await?;
                crate::domains::delete_all(self, &txn, &id).await?;
                if delete_row(self, &txn, &id).await? == 0 {
                    // A concurrent drop got there first: the schema there
                    // now (if any) belongs to a newer create.
                    return Err(Error::TenantNotFound {
                        tenant: id.to_string(),
                    });
                }
                txn.execute_unprepared(&sql).await?;
                txn.commit().await?;
            }
            _ => {
                backend.drop_home(db, &home).await?;
                crate::domains::delete_all(self, db, &id).await?;
                // Only the row this drop claimed.
                let query = record::Entity::delete_many()
                    .filter(record::Column::Name.eq(id.as_str()))
                    .filter(record::Column::Status.eq(TenantStatus::Dropping.as_str()));
                exec_autocommit(self, db, &query).await?;
            }
        }
        Ok(())
    }

    /// Whether the home (schema, database or file) of tenant `name` exists,
    /// registered or not: for checking that a drop or a failed create left
    /// nothing behind.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`] or a database error.
    pub async fn home_exists(&self, name: &str) -> Result<bool> {
        let id = self.tenant_id(name)?;
        let home = self.rules().home(&id)?;
        self.backend().home_exists(self.inner(), &home).await
    }

    /// Whether tenant `name` is registered (active or suspended).
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`] or a database error.
    pub async fn exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .info(name)
            .await?
            .is_some_and(|t| matches!(t.status, TenantStatus::Active | TenantStatus::Suspended)))
    }

    /// The registry row of tenant `name`.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`] or a database error.
    pub async fn info(&self, name: &str) -> Result<Option<TenantInfo>> {
        let id = self.tenant_id(name)?;
        Ok(find(self, self.inner(), &id)
            .await?
            .and_then(|row| info(self, row)))
    }

    /// Every registered tenant, by name.
    ///
    /// # Errors
    /// A database error.
    pub async fn list(&self) -> Result<Vec<TenantInfo>> {
        let db = self.inner();
        let query = record::Entity::find().order_by_asc(record::Column::Name);
        let stmt = self
            .shared_router()
            .statement(query.build(db.get_database_backend()))?;
        let rows = record::Entity::find().from_raw_sql(stmt).all(db).await?;
        Ok(rows.into_iter().filter_map(|row| info(self, row)).collect())
    }

    /// Suspends tenant `name`: [`Tenancy::connect`] refuses it until
    /// [`Tenancy::resume`]. Its data stays.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`], or a database error.
    pub async fn suspend(&self, name: &str) -> Result<()> {
        self.change_status(name, TenantStatus::Suspended).await
    }

    /// Resumes a suspended tenant.
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantNotFound`], or a database error.
    pub async fn resume(&self, name: &str) -> Result<()> {
        self.change_status(name, TenantStatus::Active).await
    }

    async fn change_status(&self, name: &str, to: TenantStatus) -> Result<()> {
        let id = self.tenant_id(name)?;
        let from = [TenantStatus::Active, TenantStatus::Suspended];
        let change = async {
            if set_status(self, self.inner(), &id, &from, to).await? == 0 {
                return Err(Error::TenantNotFound {
                    tenant: id.to_string(),
                });
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

/// Maps the database error inside `err`, leaving ours alone.
fn db_error(err: Error, map: impl Fn(DbErr) -> Error) -> Error {
    match err {
        Error::Db(db) => map(db),
        other => other,
    }
}
