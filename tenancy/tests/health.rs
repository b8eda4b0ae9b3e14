//! The shallow health check a load balancer can afford: the shared home
//! and the registry, no tenant, no tenant name.

use sea_orm::{ConnectionTrait, Database};
use tenancy::{HealthOptions, HealthStatus, Tenancy};

#[tokio::test]
async fn shallow_health_reads_the_registry_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
    let tenancy = Tenancy::builder(Database::connect(&url).await.expect("sqlite"))
        .build()
        .await
        .expect("tenancy");
    for name in ["acme", "globex"] {
        tenancy.create(name).await.expect("create");
    }
    // A tenant whose home is gone: the deep check sees it, the shallow one
    // does not look.
    std::fs::remove_file(dir.path().join("tenants").join("tenant_globex.db")).expect("remove");
    let deep = tenancy
        .health_all(HealthOptions::default())
        .await
        .expect("deep");
    assert_eq!(
        (deep.status, deep.tenants.len()),
        (HealthStatus::Unhealthy, 2)
    );
    let shallow = tenancy
        .health_all(HealthOptions::default().shallow(true))
        .await
        .expect("shallow");
    assert_eq!(shallow.status, HealthStatus::Ok);
    assert!(shallow.tenants.is_empty() && shallow.shared.reachable);
    let json = serde_json::to_string(&shallow).expect("json");
    assert!(!json.contains("acme") && !json.contains("globex"), "{json}");
    // The registry unreadable: unhealthy.
    tenancy
        .inner()
        .execute_unprepared("DROP TABLE tenancy_tenants")
        .await
        .expect("drop");
    let broken = tenancy
        .health_all(HealthOptions::default().shallow(true))
        .await
        .expect("shallow");
    assert_eq!(broken.status, HealthStatus::Unhealthy);
}
