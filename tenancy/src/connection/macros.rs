//! The `ConnectionTrait` and `TransactionTrait` bodies shared by both
//! routed connection types.

/// Runs `conn.$call($arg)` on the connection `$conn` yields, answering a
/// failure through `$self.explain` (a dropped or re-created tenant).
macro_rules! explained {
    ($self:ident, $conn:expr, $call:ident($arg:expr)) => {{
        let conn = &$conn;
        match conn.$call($arg).await {
            Err(err) => Err($self.explain(conn, err).await),
            ok => ok,
        }
    }};
}

/// Implements `ConnectionTrait` and `StreamTrait` (with stream type
/// `$stream`) for `$ty` by routing each statement through `self.router`
/// and running it on the connection `$conn` yields.
macro_rules! routed_connection {
    ($ty:ty, $stream:ty, |$this:ident| $conn:expr) => {
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
                $crate::connection::macros::explained!(self, $conn, execute_raw(stmt))
            }

            async fn execute_unprepared(
                &self,
                sql: &str,
            ) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
                let sql = self.router.sql(sql)?;
                let $this = self;
                $crate::connection::macros::explained!(self, $conn, execute_unprepared(&sql))
            }

            async fn query_one_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<Option<sea_orm::QueryResult>, sea_orm::DbErr> {
                let stmt = self.router.statement(stmt)?;
                let $this = self;
                $crate::connection::macros::explained!(self, $conn, query_one_raw(stmt))
            }

            async fn query_all_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
                let stmt = self.router.statement(stmt)?;
                let $this = self;
                $crate::connection::macros::explained!(self, $conn, query_all_raw(stmt))
            }
        }

        impl sea_orm::StreamTrait for $ty {
            type Stream<'a> = $stream;

            fn get_database_backend(&self) -> sea_orm::DbBackend {
                self.router.backend()
            }

            fn stream_raw<'a>(
                &'a self,
                stmt: sea_orm::Statement,
            ) -> std::pin::Pin<
                Box<
                    dyn std::future::Future<Output = Result<Self::Stream<'a>, sea_orm::DbErr>>
                        + 'a
                        + Send,
                >,
            > {
                Box::pin(async move {
                    let stmt = self.router.statement(stmt)?;
                    let $this = self;
                    $conn.stream_raw(stmt).await
                })
            }
        }
    };
}

/// Implements `TransactionTrait` for `$ty` (with `Transaction =
/// TenantTransaction`, a fixed point) by beginning on the connection
/// `$conn` yields and wrapping the result with `self.wrap_held` (which
/// keeps what must live as long as the transaction).
macro_rules! routed_transactions {
    ($ty:ty, |$this:ident| $conn:expr) => {
        impl $ty {
            /// Runs `callback` in a transaction of this tenant (a savepoint
            /// when called on a transaction): committed when it returns `Ok`,
            /// rolled back otherwise; the `AsyncFnOnce` counterpart of
            /// [`TransactionTrait::transaction`](sea_orm::TransactionTrait::transaction).
            ///
            /// # Errors
            /// [`TransactionError::Connection`](sea_orm::TransactionError::Connection)
            /// when begin, commit or rollback fail;
            /// [`TransactionError::Transaction`](sea_orm::TransactionError::Transaction)
            /// with the callback's error.
            pub async fn transaction_async<F, T, E>(
                &self,
                callback: F,
            ) -> Result<T, sea_orm::TransactionError<E>>
            where
                F: for<'c> AsyncFnOnce(&'c $crate::connection::TenantTransaction) -> Result<T, E>
                    + Send,
                T: Send,
                E: std::fmt::Display + std::fmt::Debug + Send,
            {
                let txn = sea_orm::TransactionTrait::begin(self)
                    .await
                    .map_err(sea_orm::TransactionError::Connection)?;
                $crate::connection::run_transaction(txn, callback).await
            }
        }

        #[async_trait::async_trait]
        impl sea_orm::TransactionTrait for $ty {
            type Transaction = $crate::connection::TenantTransaction;

            async fn begin(&self) -> Result<$crate::connection::TenantTransaction, sea_orm::DbErr> {
                let $this = self;
                let conn = $conn;
                let txn = conn.begin().await?;
                Ok(self.wrap_held(txn, conn))
            }

            async fn begin_with_config(
                &self,
                isolation_level: Option<sea_orm::IsolationLevel>,
                access_mode: Option<sea_orm::AccessMode>,
            ) -> Result<$crate::connection::TenantTransaction, sea_orm::DbErr> {
                let $this = self;
                let conn = $conn;
                let txn = conn.begin_with_config(isolation_level, access_mode).await?;
                Ok(self.wrap_held(txn, conn))
            }

            async fn begin_with_options(
                &self,
                options: sea_orm::TransactionOptions,
            ) -> Result<$crate::connection::TenantTransaction, sea_orm::DbErr> {
                let $this = self;
                let conn = $conn;
                let txn = conn.begin_with_options(options).await?;
                Ok(self.wrap_held(txn, conn))
            }

            async fn transaction<F, T, E>(
                &self,
                callback: F,
            ) -> Result<T, sea_orm::TransactionError<E>>
            where
                F: for<'c> FnOnce(
                        &'c $crate::connection::TenantTransaction,
                    ) -> std::pin::Pin<
                        Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'c>,
                    > + Send,
                T: Send,
                E: std::fmt::Display + std::fmt::Debug + Send,
            {
                let txn = self
                    .begin()
                    .await
                    .map_err(sea_orm::TransactionError::Connection)?;
                $crate::connection::run_transaction(txn, async move |t| callback(t).await).await
            }

            async fn transaction_with_config<F, T, E>(
                &self,
                callback: F,
                isolation_level: Option<sea_orm::IsolationLevel>,
                access_mode: Option<sea_orm::AccessMode>,
            ) -> Result<T, sea_orm::TransactionError<E>>
            where
                F: for<'c> FnOnce(
                        &'c $crate::connection::TenantTransaction,
                    ) -> std::pin::Pin<
                        Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'c>,
                    > + Send,
                T: Send,
                E: std::fmt::Display + std::fmt::Debug + Send,
            {
                let txn = self
                    .begin_with_config(isolation_level, access_mode)
                    .await
                    .map_err(sea_orm::TransactionError::Connection)?;
                $crate::connection::run_transaction(txn, async move |t| callback(t).await).await
            }
        }
    };
}

pub(crate) use {explained, routed_connection, routed_transactions};
