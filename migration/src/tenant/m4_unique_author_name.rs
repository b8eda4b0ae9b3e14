use sea_orm_migration::prelude::*;

use super::Authors;

/// Fails in a tenant holding two authors with one name: the tests plant
/// such data to prove a failed tenant is left as it was.
#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx-authors-name")
                    .table(Authors::Table)
                    .col(Authors::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx-authors-name")
                    .table(Authors::Table)
                    .to_owned(),
            )
            .await
    }
}
