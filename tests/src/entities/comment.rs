//! Comments: tenant-scoped, with a foreign key to posts.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;
use tenancy::TenantScoped;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub body: String,
    pub post_id: i32,
    #[sea_orm(belongs_to, from = "post_id", to = "id", on_delete = "Cascade")]
    pub post: BelongsTo<super::post::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
