//! The app's tenant migrator: the `items` table, replayed in every tenant.

use sea_orm_migration::prelude::*;

/// Migrations of each tenant's home (registered with
/// `TenancyBuilder::migrator`, so tenants created on demand get them too).
#[derive(Debug)]
pub struct TenantMigrator;

impl MigratorTrait for TenantMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateItems)]
    }
}

#[derive(DeriveIden)]
enum Items {
    Table,
    Id,
    Title,
    Done,
    CreatedAt,
}

struct CreateItems;

impl MigrationName for CreateItems {
    fn name(&self) -> &str {
        "m20260101_000001_create_items"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateItems {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Items::Table)
                    .col(
                        ColumnDef::new(Items::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Items::Title).string_len(200).not_null())
                    .col(
                        ColumnDef::new(Items::Done)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Items::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Items::Table).to_owned())
            .await
    }
}
