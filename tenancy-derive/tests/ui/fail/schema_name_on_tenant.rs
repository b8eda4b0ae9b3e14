use sea_orm::entity::prelude::*;
use tenancy::TenantScoped;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
#[sea_orm(table_name = "posts", schema_name = "app")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

fn main() {}
