//! The axum extractors: [`Tenant`], [`TenantDb`] and [`Resolved`].

use std::ops::Deref;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::{StatusCode, request::Parts};

use super::TenantRejection;
use crate::{connection::TenantConnection, tenant_id::TenantId};

/// What [`TenantLayer`](super::TenantLayer) decided for this request, in its
/// extensions (also an extractor).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolved {
    /// This tenant, active.
    Tenant(TenantId),
    /// An admin host: no tenant, on purpose.
    Admin,
    /// No resolver named a tenant (and the layer does not require one).
    Unresolved,
}

/// Where the layer put the answer, and the rejection of an extractor that
/// needs a tenant and has none.
fn missing(parts: &Parts) -> TenantRejection {
    match parts.extensions.get::<Resolved>() {
        None => TenantRejection::LayerMissing,
        Some(_) => TenantRejection::Required(StatusCode::BAD_REQUEST),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Resolved {
    type Rejection = TenantRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Resolved>()
            .cloned()
            .ok_or(TenantRejection::LayerMissing)
    }
}

/// The request's tenant. Rejects with 400 `tenant_required` when the request
/// has none (use `Option<Tenant>` where that is fine), 500 without the layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant(pub TenantId);

impl Deref for Tenant {
    type Target = TenantId;

    fn deref(&self) -> &TenantId {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = TenantRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<TenantConnection>() {
            Some(conn) => Ok(Tenant(conn.tenant().clone())),
            None => Err(missing(parts)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Tenant {
    type Rejection = TenantRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        match parts.extensions.get::<Resolved>() {
            None => Err(TenantRejection::LayerMissing),
            Some(Resolved::Tenant(id)) => Ok(Some(Tenant(id.clone()))),
            Some(_) => Ok(None),
        }
    }
}

/// The request tenant's [`TenantConnection`]: pass `&*db` wherever SeaORM
/// takes a connection. Rejects like [`Tenant`].
#[derive(Debug, Clone)]
pub struct TenantDb(pub TenantConnection);

impl Deref for TenantDb {
    type Target = TenantConnection;

    fn deref(&self) -> &TenantConnection {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantDb {
    type Rejection = TenantRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<TenantConnection>() {
            Some(conn) => Ok(TenantDb(conn.clone())),
            None => Err(missing(parts)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for TenantDb {
    type Rejection = TenantRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        match (
            parts.extensions.get::<Resolved>(),
            parts.extensions.get::<TenantConnection>(),
        ) {
            (None, _) => Err(TenantRejection::LayerMissing),
            (Some(_), conn) => Ok(conn.cloned().map(TenantDb)),
        }
    }
}
