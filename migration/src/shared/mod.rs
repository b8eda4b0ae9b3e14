//! The shared migrator: billing plans and the article status type.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

/// Migrations of the shared home.
#[derive(Debug)]
pub struct SharedMigrator;

impl MigratorTrait for SharedMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreatePlans)]
    }

    fn migration_table_name() -> DynIden {
        "seaql_shared_migrations".into_iden()
    }
}

#[derive(DeriveIden)]
pub(crate) enum BillingPlans {
    Table,
    Id,
    Name,
    PriceCents,
}

#[derive(DeriveMigrationName)]
struct CreatePlans;

#[async_trait::async_trait]
impl MigrationTrait for CreatePlans {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BillingPlans::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(BillingPlans::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(BillingPlans::Name)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(BillingPlans::PriceCents)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        // Tenant tables hold foreign keys into it: on a Citus cluster it
        // must be a reference table (a copy on every node); elsewhere this
        // does nothing.
        tenancy::citus::reference_table(manager.get_connection(), "billing_plans")
            .await
            .map_err(|e| DbErr::Migration(e.to_string()))?;
        if manager.get_database_backend() == DbBackend::Postgres {
            // Enum types are shared: SeaORM casts them unqualified.
            manager
                .get_connection()
                .execute_unprepared(
                    "DO $$ BEGIN CREATE TYPE article_status AS ENUM ('draft', 'published'); \
                     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BillingPlans::Table).to_owned())
            .await
    }
}
