// Hidden setup of the doc examples (diesel's habit): a tenancy over a
// temporary SQLite file, so the examples run with no server. Included with
// `# include!("../doctest_setup.rs");` from files in `src/`.

/// A tenancy on a fresh SQLite file; keep the directory alive while using it.
#[allow(dead_code)]
async fn setup() -> (tenancy::Tenancy, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("shared.db").display());
    let db = sea_orm::Database::connect(&url).await.expect("sqlite opens");
    let tenancy = tenancy::Tenancy::builder(db).build().await.expect("tenancy builds");
    (tenancy, dir)
}

/// A one-migration tenant migrator: a `notes` table.
#[allow(dead_code)]
mod doc_migrator {
    use sea_orm_migration::prelude::*;

    pub struct Notes;

    impl MigrationName for Notes {
        fn name(&self) -> &str {
            "m20260101_000001_notes"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Notes {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.create_table(
                Table::create()
                    .table("notes")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_table(Table::drop().table("notes").to_owned()).await
        }
    }

    pub struct Migrator;

    impl MigratorTrait for Migrator {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(Notes)]
        }
    }
}
#[allow(unused_imports)]
use doc_migrator::Migrator;
