//! The task-local tenant, for code that cannot thread a connection through,
//! and [`ContextualConnection`], which follows it.

mod connection;

use std::future::Future;

use tokio::task::JoinHandle;

pub use self::connection::ContextualConnection;
use crate::{
    error::{Error, Result},
    tenant_id::TenantId,
};

tokio::task_local! {
    static CURRENT: TenantId;
}

/// Runs `fut` with `tenant` as the current tenant. Scopes nest: inside, an
/// inner `scope` replaces the tenant, and the outer one is back after it.
///
/// # Examples
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> tenancy::Result<()> {
/// use tenancy::{TenantId, current, scope};
/// let acme = TenantId::new("acme")?;
/// let seen = scope(acme.clone(), async { current() }).await;
/// assert_eq!(seen, Some(acme));
/// assert_eq!(current(), None);
/// # Ok(()) }
/// ```
pub async fn scope<F: Future>(tenant: TenantId, fut: F) -> F::Output {
    CURRENT.scope(tenant, fut).await
}

/// The current tenant, if inside a [`scope`].
pub fn current() -> Option<TenantId> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The current tenant.
///
/// # Errors
/// [`Error::NoTenant`] outside a [`scope`].
pub fn require_current() -> Result<TenantId> {
    current().ok_or(Error::NoTenant)
}

/// Spawns `fut` on the tokio runtime inside the current tenant's scope (or
/// with no tenant, when there is none), so the task sees the same tenant.
///
/// # Panics
/// As [`tokio::spawn`], when called outside a tokio runtime.
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match current() {
        Some(tenant) => tokio::spawn(CURRENT.scope(tenant, fut)),
        None => tokio::spawn(fut),
    }
}
