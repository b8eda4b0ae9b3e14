//! What a connection asks the registry when a statement finds no table in
//! a home that still exists: is the tenant still the one the connection was
//! made for? Implemented by the store, above this layer.

use std::{fmt, future::Future, pin::Pin};

use crate::{error::Result, tenant::TenantStatus, tenant_id::TenantId};

/// The registry status of a tenant, `None` when it has no row.
pub(crate) trait StatusProbe: fmt::Debug + Send + Sync {
    /// The status of `id` now.
    fn status<'a>(
        &'a self,
        id: &'a TenantId,
    ) -> Pin<Box<dyn Future<Output = Result<Option<TenantStatus>>> + Send + 'a>>;
}
