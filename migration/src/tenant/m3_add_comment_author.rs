use sea_orm_migration::prelude::*;

use super::ArticleComments;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ArticleComments::Table)
                    .add_column(ColumnDef::new(ArticleComments::AuthorId).integer())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx-comments-author")
                    .table(ArticleComments::Table)
                    .col(ArticleComments::AuthorId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx-comments-author")
                    .table(ArticleComments::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ArticleComments::Table)
                    .drop_column(ArticleComments::AuthorId)
                    .to_owned(),
            )
            .await
    }
}
