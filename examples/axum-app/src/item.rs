//! The `items` entity: tenant-scoped, one table per tenant home.

use sea_orm::entity::prelude::*;
use serde::Serialize;
use tenancy::TenantScoped;

/// One item of a tenant's list.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped, Serialize)]
#[sea_orm(table_name = "items")]
pub struct Model {
    /// Per-tenant id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// What the item says (1 to 200 characters).
    pub title: String,
    /// Whether it is done.
    pub done: bool,
    /// When it was created.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
