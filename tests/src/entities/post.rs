//! Posts: tenant-scoped, SeaORM 2 `#[sea_orm::model]` format.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;
use tenancy::TenantScoped;

#[derive(Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "post_status")]
pub enum Status {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "published")]
    Published,
}

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub title: String,
    pub status: Status,
    pub plan_id: i32,
    #[sea_orm(belongs_to, from = "plan_id", to = "id", skip_fk)]
    pub plan: BelongsTo<super::plan::Entity>,
    #[sea_orm(has_many)]
    pub comments: HasMany<super::comment::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
