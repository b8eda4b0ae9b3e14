//! The task-local tenant: nested scopes and spawned tasks, through the
//! public API only.

use tenancy::{Error, TenantId, current, require_current, scope, spawn};

#[tokio::test]
async fn nested_scopes_restore_the_outer_tenant() {
    let a = TenantId::new("alpha").expect("valid");
    let b = TenantId::new("beta").expect("valid");
    let (outer, inner, after) = scope(a.clone(), async {
        let outer = current();
        let inner = scope(b.clone(), async { current() }).await;
        (outer, inner, current())
    })
    .await;
    assert_eq!(outer.as_ref(), Some(&a));
    assert_eq!(inner.as_ref(), Some(&b));
    assert_eq!(after.as_ref(), Some(&a));
    assert!(matches!(require_current(), Err(Error::NoTenant)));
}

#[tokio::test]
async fn spawn_carries_the_tenant() {
    let a = TenantId::new("alpha").expect("valid");
    let seen = scope(a.clone(), async { spawn(async { current() }).await })
        .await
        .expect("task ran");
    assert_eq!(seen, Some(a));
    let none = spawn(async { current() }).await.expect("task ran");
    assert_eq!(none, None);
}
