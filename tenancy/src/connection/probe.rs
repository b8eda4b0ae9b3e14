//! What a connection asks the registry when a statement finds no table in
//! a home that still exists: is the tenant still the one the connection was
//! made for? Implemented by the store, above this layer.

use std::{fmt, future::Future, pin::Pin};

use chrono::{DateTime, Utc};

use crate::{error::Result, tenant::TenantStatus, tenant_id::TenantId};

/// A tenant's registry status and when its row was made; `None`: no row.
pub(crate) type Probed = Option<(TenantStatus, DateTime<Utc>)>;

/// The registry status of a tenant and when its row was made, `None` when
/// it has no row.
pub(crate) trait StatusProbe: fmt::Debug + Send + Sync {
    /// The status of `id` now, and the creation time of its row.
    fn status<'a>(
        &'a self,
        id: &'a TenantId,
    ) -> Pin<Box<dyn Future<Output = Result<Probed>> + Send + 'a>>;
}
