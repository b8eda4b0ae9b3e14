//! SQLite's half of the migration runner: one immediate transaction per
//! tenant file, foreign keys checked before commit.

use std::collections::HashMap;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use super::Sqlite;
use crate::{
    backend::{
        Backend,
        migrate::{self, Migrate, Session},
    },
    dialect::Dialect,
    error::{Error, Result},
};

#[async_trait::async_trait]
impl Migrate for Sqlite {
    /// SQLite DDL is transactional: one immediate transaction per tenant
    /// file serializes runners and makes the run atomic.
    fn session(&self, _transactional: bool) -> Session {
        Session::DedicatedTransaction
    }

    /// An immediate transaction: it takes the write lock at once, so two
    /// runners on one file queue instead of failing at their first write.
    async fn begin(&self, conn: &DatabaseConnection) -> Result<DatabaseTransaction> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(conn.begin_with_options(options).await?)
    }

    /// Foreign keys are off during migrations (as SQLite prescribes for
    /// schema changes); none may be broken at commit.
    async fn check(&self, txn: &DatabaseTransaction) -> Result<()> {
        let broken = txn
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA foreign_key_check",
            ))
            .await?;
        if !broken.is_empty() {
            return Err(Error::Db(DbErr::Migration(format!(
                "{} rows violate foreign keys after the migration",
                broken.len()
            ))));
        }
        Ok(())
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    /// Read from the tenant's own file (one pool per read).
    async fn applied(
        &self,
        db: &DatabaseConnection,
        home: &str,
        table: &str,
    ) -> Result<Vec<String>> {
        let conn = self.migration_pool(db, home).await?;
        let sql = migrate::versions_sql(Dialect::Sqlite, Some("main"), table);
        let found = migrate::versions(&conn, sql, |e| self.is_missing_table(e)).await;
        let closed = conn.close_by_ref().await;
        let found = found?;
        closed?;
        Ok(found)
    }

    /// Each file is read in turn: there is no catalog across files.
    async fn applied_many(
        &self,
        db: &DatabaseConnection,
        homes: &[String],
        table: &str,
    ) -> Result<HashMap<String, Vec<String>>> {
        let mut out = HashMap::with_capacity(homes.len());
        for home in homes {
            out.insert(home.clone(), self.applied(db, home, table).await?);
        }
        Ok(out)
    }

    /// SQLite has no code for it: `no such table` is its message.
    fn is_missing_table(&self, err: &DbErr) -> bool {
        err.to_string().contains("no such table")
    }
}
