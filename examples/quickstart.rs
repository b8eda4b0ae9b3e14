//! Two tenants on SQLite with no setup: isolated posts, one shared plans table.
//!
//! Run: `cargo run --example quickstart`

// Entities are written as sea-orm-cli writes them, with `pub` items.
#![allow(unreachable_pub)]

use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, DbBackend, EntityTrait, Schema, Set};
use tenancy::{Tenancy, TenantScoped};

mod plan {
    use super::*;
    use sea_orm::entity::prelude::*;

    /// One table for everyone.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
    #[sea_orm(table_name = "plans")]
    #[shared]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod post {
    use super::*;
    use sea_orm::entity::prelude::*;

    /// One table per tenant.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
    #[sea_orm(table_name = "posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub title: String,
        pub plan_id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::plan::Entity",
            from = "Column::PlanId",
            to = "super::plan::Column::Id"
        )]
        Plan,
    }

    impl Related<super::plan::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Plan.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("tenancy-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = Database::connect(format!("sqlite://{}/shared.db?mode=rwc", dir.display())).await?;
    let schema = Schema::new(DbBackend::Sqlite);
    db.execute(&schema.create_table_from_entity(plan::Entity))
        .await?;
    let pro = plan::ActiveModel {
        name: Set("pro".into()),
        ..Default::default()
    }
    .insert(&db)
    .await?;

    let tenancy = Tenancy::builder(db).build().await?; // SQLite: one file per tenant
    for name in ["acme", "globex"] {
        tenancy.create(name).await?;
        let conn = tenancy.tenant(name)?; // a TenantConnection: cheap, no I/O
        conn.execute(&schema.create_table_from_entity(post::Entity))
            .await?;
        post::ActiveModel {
            title: Set(format!("hello from {name}")),
            plan_id: Set(pro.id),
            ..Default::default()
        }
        .insert(&conn)
        .await?;
    }

    let acme = tenancy.tenant("acme")?;
    let posts = post::Entity::find().all(&acme).await?; // acme's posts only
    let joined = post::Entity::find()
        .find_also_related(plan::Entity) // tenant table joined to the shared table
        .all(&acme)
        .await?;

    println!(
        "acme sees {} post(s): {:?}",
        posts.len(),
        posts.iter().map(|p| &p.title).collect::<Vec<_>>()
    );
    for (post, plan) in &joined {
        println!(
            "  {:?} is on plan {:?}",
            post.title,
            plan.as_ref().map(|p| &p.name)
        );
    }
    let globex = tenancy.tenant("globex")?;
    let theirs = post::Entity::find().all(&globex).await?;
    println!(
        "globex sees {} post(s): {:?}",
        theirs.len(),
        theirs.iter().map(|p| &p.title).collect::<Vec<_>>()
    );
    assert!(posts.iter().all(|p| p.title.ends_with("acme")));
    assert!(theirs.iter().all(|p| p.title.ends_with("globex")));
    println!(
        "tenants: {:?}",
        tenancy
            .list()
            .await?
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>()
    );

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
