//! The per-tenant migration CLI: `cargo run -p migration -- --help`.

#[tokio::main]
async fn main() {
    tenancy::cli::run(migration::SharedMigrator, migration::TenantMigrator).await
}
