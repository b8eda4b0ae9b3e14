//! Example migrations: [`SharedMigrator`] runs once in the shared home,
//! [`TenantMigrator`] in every tenant (through `tenancy::Migrations`).

mod shared;
mod tenant;

pub use shared::SharedMigrator;
pub use tenant::TenantMigrator;
