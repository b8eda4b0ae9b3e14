//! tenancy (work in progress)
mod error;
mod registry;
mod rewrite;
mod tenant_id;
pub use error::{Error, ErrorCode, Result};
pub use registry::{Registration, Scope, TenantScoped};
pub use tenant_id::TenantId;
