use sea_orm::entity::prelude::*;
use tenancy::{Scope, TenantScoped};

mod post {
    use super::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
    #[sea_orm(table_name = "posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub title: String,
        #[sea_orm(has_many)]
        pub comments: HasMany<super::comment::Entity>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod comment {
    use super::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
    #[sea_orm(table_name = "comments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub post_id: i32,
        #[sea_orm(belongs_to, from = "post_id", to = "id")]
        pub post: BelongsTo<super::post::Entity>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

fn main() {
    // `#[sea_orm::model]` copies the derive onto `ModelEx`: both implement
    // the trait, the table is registered once.
    assert_eq!(<post::Model as TenantScoped>::TABLE_NAME, "posts");
    assert_eq!(<post::ModelEx as TenantScoped>::TABLE_NAME, "posts");
    let posts = tenancy::__private::inventory::iter::<tenancy::__private::Registration>
        .into_iter()
        .filter(|r| r.table == "posts" && r.scope == Scope::Tenant)
        .count();
    assert_eq!(posts, 1);
}
