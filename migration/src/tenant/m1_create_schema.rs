use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use super::{
    ArticleComments, ArticleLabels, Articles, Attachments, Authors, Categories, Labels, Reactions,
};
use crate::shared::BillingPlans;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn child(
    table: impl IntoIden,
    id_col: impl IntoIden,
    parent_col: impl IntoIden,
) -> TableCreateStatement {
    let table = table.into_iden();
    let parent_col = parent_col.into_iden();
    Table::create()
        .table(table.clone())
        .col(id(id_col))
        .col(ColumnDef::new(parent_col.clone()).integer().not_null())
        .foreign_key(
            ForeignKey::create()
                .from(table, parent_col)
                .to(Articles::Table, Articles::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Authors::Table)
                    .col(id(Authors::Id))
                    .col(
                        ColumnDef::new(Authors::Email)
                            .string_len(255)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Authors::Name).string_len(255).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(id(Categories::Id))
                    .col(
                        ColumnDef::new(Categories::Name)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .to_owned(),
            )
            .await?;
        let mut articles = Table::create()
            .table(Articles::Table)
            .col(id(Articles::Id))
            .col(ColumnDef::new(Articles::AuthorId).integer().not_null())
            .col(ColumnDef::new(Articles::CategoryId).integer())
            .col(ColumnDef::new(Articles::PlanId).integer())
            .col(ColumnDef::new(Articles::Title).string_len(255).not_null())
            .col(
                ColumnDef::new(Articles::Status)
                    .enumeration("article_status", ["draft", "published"])
                    .not_null(),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(Articles::Table, Articles::AuthorId)
                    .to(Authors::Table, Authors::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(Articles::Table, Articles::CategoryId)
                    .to(Categories::Table, Categories::Id)
                    .on_delete(ForeignKeyAction::SetNull),
            )
            .to_owned();
        // A foreign key into the shared home. PostgreSQL resolves it through
        // the migration's `search_path` (tenant, then shared). A MySQL
        // migration runs with the tenant's database as default and does not
        // know the shared one; SQLite cannot reach across database files.
        if backend == DbBackend::Postgres {
            articles.foreign_key(
                ForeignKey::create()
                    .from(Articles::Table, Articles::PlanId)
                    .to(BillingPlans::Table, BillingPlans::Id),
            );
        }
        manager.create_table(articles).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx-articles-author")
                    .table(Articles::Table)
                    .col(Articles::AuthorId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                child(
                    ArticleComments::Table,
                    ArticleComments::Id,
                    ArticleComments::ArticleId,
                )
                .col(ColumnDef::new(ArticleComments::Body).text().not_null())
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Labels::Table)
                    .col(id(Labels::Id))
                    .col(
                        ColumnDef::new(Labels::Name)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ArticleLabels::Table)
                    .col(
                        ColumnDef::new(ArticleLabels::ArticleId)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ArticleLabels::LabelId).integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(ArticleLabels::ArticleId)
                            .col(ArticleLabels::LabelId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ArticleLabels::Table, ArticleLabels::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ArticleLabels::Table, ArticleLabels::LabelId)
                            .to(Labels::Table, Labels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                child(Attachments::Table, Attachments::Id, Attachments::ArticleId)
                    .col(ColumnDef::new(Attachments::Url).string_len(1024).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                child(Reactions::Table, Reactions::Id, Reactions::ArticleId)
                    .col(ColumnDef::new(Reactions::Kind).string_len(16).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Reactions::Table.into_iden(),
            Attachments::Table.into_iden(),
            ArticleLabels::Table.into_iden(),
            Labels::Table.into_iden(),
            ArticleComments::Table.into_iden(),
            Articles::Table.into_iden(),
            Categories::Table.into_iden(),
            Authors::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
