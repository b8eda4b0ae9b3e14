//! The tenant migrator: a small publishing schema, eight tables with
//! foreign keys, indexes, a unique constraint and an enum column, then
//! migrations that alter earlier tables.

mod m1_create_schema;
mod m2_add_article_slug;
mod m3_add_comment_author;
mod m4_unique_author_name;

use sea_orm_migration::prelude::*;

/// Migrations of every tenant.
#[derive(Debug)]
pub struct TenantMigrator;

impl MigratorTrait for TenantMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m1_create_schema::Migration),
            Box::new(m2_add_article_slug::Migration),
            Box::new(m3_add_comment_author::Migration),
            Box::new(m4_unique_author_name::Migration),
        ]
    }
}

#[derive(DeriveIden)]
pub(crate) enum Authors {
    Table,
    Id,
    Email,
    Name,
}

#[derive(DeriveIden)]
pub(crate) enum Categories {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
pub(crate) enum Articles {
    Table,
    Id,
    AuthorId,
    CategoryId,
    PlanId,
    Title,
    Status,
    Slug,
}

#[derive(DeriveIden)]
pub(crate) enum ArticleComments {
    Table,
    Id,
    ArticleId,
    Body,
    AuthorId,
}

#[derive(DeriveIden)]
pub(crate) enum Labels {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
pub(crate) enum ArticleLabels {
    Table,
    ArticleId,
    LabelId,
}

#[derive(DeriveIden)]
pub(crate) enum Attachments {
    Table,
    Id,
    ArticleId,
    Url,
}

#[derive(DeriveIden)]
pub(crate) enum Reactions {
    Table,
    Id,
    ArticleId,
    Kind,
}
