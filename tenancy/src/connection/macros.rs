//! The one `ConnectionTrait` body shared by every routed connection type.

/// Implements `ConnectionTrait` for `$ty` by routing each statement through
/// `self.router` and running it on the connection `$conn` yields.
macro_rules! routed_connection {
    ($ty:ty, |$this:ident| $conn:expr) => {
        #[async_trait::async_trait]
        impl sea_orm::ConnectionTrait for $ty {
            fn get_database_backend(&self) -> sea_orm::DbBackend {
                self.router.backend()
            }

            async fn execute_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
                let stmt = self.router.statement(stmt)?;
                let $this = self;
                $conn.execute_raw(stmt).await
            }

            async fn execute_unprepared(
                &self,
                sql: &str,
            ) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
                let sql = self.router.sql(sql)?;
                let $this = self;
                $conn.execute_unprepared(&sql).await
            }

            async fn query_one_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<Option<sea_orm::QueryResult>, sea_orm::DbErr> {
                let stmt = self.router.statement(stmt)?;
                let $this = self;
                $conn.query_one_raw(stmt).await
            }

            async fn query_all_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
                let stmt = self.router.statement(stmt)?;
                let $this = self;
                $conn.query_all_raw(stmt).await
            }
        }
    };
}

pub(crate) use routed_connection;
