//! The README's migration and task-local samples, compiled and run on
//! SQLite with no setup (a test keeps the README's blocks identical).
//!
//! Run: `cargo run --example readme`

// Entities are written as sea-orm-cli writes them, with `pub` items.
#![allow(unreachable_pub)]

use migration::{SharedMigrator, TenantMigrator};
use sea_orm::{ConnectionTrait, Database, DbBackend, EntityTrait, Schema};
use sea_orm_migration::MigratorTrait;
use tenancy::{MigrateOptions, Tenancy, TenantScoped, Verb};

mod post {
    use super::*;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, TenantScoped)]
    #[sea_orm(table_name = "readme_posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub title: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

async fn migrations(tenancy: &Tenancy) -> tenancy::Result<()> {
    let m = tenancy.migrations::<TenantMigrator>();
    m.run("acme", Verb::Up(None)).await?; // one tenant
    let options = MigrateOptions::default().concurrency(8);
    let report = m.run_all(Verb::Up(None), options).await?; // every active tenant
    for failed in report.failed() {
        eprintln!("{failed:?}");
    }
    m.status("acme").await?; // applied / pending / unknown
    m.create_and_migrate("globex").await?; // create + migrate, one unit
    Ok(())
}

async fn task_local(tenancy: &Tenancy) -> tenancy::Result<()> {
    let db = tenancy.contextual(); // fails with NoTenant outside a scope
    let posts = tenancy::scope(tenancy.tenant_id("acme")?, async {
        post::Entity::find().all(&db).await // acme's posts
    })
    .await?;
    assert!(posts.is_empty());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("tenancy-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("shared.db").display());
    let tenancy = Tenancy::builder(Database::connect(&url).await?)
        .build()
        .await?;
    SharedMigrator::up(tenancy.inner(), None).await?;
    tenancy.create("acme").await?;
    migrations(&tenancy).await?;
    let schema = Schema::new(DbBackend::Sqlite);
    let acme = tenancy.tenant("acme")?;
    acme.execute(&schema.create_table_from_entity(post::Entity))
        .await?;
    task_local(&tenancy).await?;
    std::fs::remove_dir_all(&dir)?;
    println!("ok");
    Ok(())
}
