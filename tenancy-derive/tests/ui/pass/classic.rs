use sea_orm::entity::prelude::*;
use tenancy::{Scope, TenantScoped};

mod post {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
    #[sea_orm(table_name = "posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub title: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod plan {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
    #[sea_orm(table_name = "plans", schema_name = "billing")]
    #[shared]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn main() {
    assert_eq!(<post::Model as TenantScoped>::TABLE_NAME, "posts");
    assert_eq!(<post::Model as TenantScoped>::SCOPE, Scope::Tenant);
    assert_eq!(<plan::Model as TenantScoped>::SCOPE, Scope::Shared);
    let registered: Vec<_> = tenancy::__private::inventory::iter::<tenancy::__private::Registration>
        .into_iter()
        .map(|r| (r.table, r.scope))
        .collect();
    assert!(registered.contains(&("posts", Scope::Tenant)));
    assert!(registered.contains(&("plans", Scope::Shared)));
}
