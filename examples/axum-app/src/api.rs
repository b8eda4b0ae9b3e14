//! The JSON API: a tenant's items, and the tenant list.

use axum::{
    Json,
    extract::{Path, State, rejection::PathRejection},
    http::{StatusCode, header::LOCATION},
    response::{IntoResponse, Response},
};
use futures_util::{StreamExt, stream};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use tenancy::{
    Tenancy, TenantInfo,
    resolve::{Resolved, Tenant, TenantDb},
};

use crate::{AppState, error::AppError, item};

/// An extractor of JSON bodies whose rejection is an [`AppError`].
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub(crate) struct Body<T>(pub(crate) T);

/// `POST` and `PUT` bodies of an item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemInput {
    title: String,
    #[serde(default)]
    done: bool,
}

impl ItemInput {
    fn validated(self) -> Result<(String, bool), AppError> {
        let title = self.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(AppError::Invalid {
                code: "invalid_item",
                message: "title must be 1 to 200 characters".to_owned(),
            });
        }
        Ok((title, self.done))
    }
}

fn item_id(id: Result<Path<i32>, PathRejection>) -> Result<i32, AppError> {
    match id? {
        Path(id) if id > 0 => Ok(id),
        Path(_) => Err(AppError::ItemNotFound),
    }
}

/// `GET /api/items`: the tenant's items, oldest first.
pub(crate) async fn list_items(db: TenantDb) -> Result<Json<Vec<item::Model>>, AppError> {
    let items = item::Entity::find()
        .order_by_asc(item::Column::Id)
        .all(&*db)
        .await?;
    Ok(Json(items))
}

/// `POST /api/items`: 201 with the item and its `Location`.
pub(crate) async fn create_item(
    Tenant(tenant): Tenant,
    db: TenantDb,
    Body(input): Body<ItemInput>,
) -> Result<Response, AppError> {
    let (title, done) = input.validated()?;
    let item = item::ActiveModel {
        title: Set(title),
        done: Set(done),
        created_at: Set(chrono_now()),
        ..Default::default()
    }
    .insert(&*db)
    .await?;
    tracing::info!(%tenant, id = item.id, "item created");
    let location = format!("/api/items/{}", item.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(item)).into_response())
}

/// `GET /api/items/{id}`.
pub(crate) async fn get_item(
    db: TenantDb,
    id: Result<Path<i32>, PathRejection>,
) -> Result<Json<item::Model>, AppError> {
    let id = item_id(id)?;
    item::Entity::find_by_id(id)
        .one(&*db)
        .await?
        .map(Json)
        .ok_or(AppError::ItemNotFound)
}

/// `PUT /api/items/{id}`: replaces title and done.
pub(crate) async fn update_item(
    db: TenantDb,
    id: Result<Path<i32>, PathRejection>,
    Body(input): Body<ItemInput>,
) -> Result<Json<item::Model>, AppError> {
    let id = item_id(id)?;
    let (title, done) = input.validated()?;
    let found = item::Entity::find_by_id(id)
        .one(&*db)
        .await?
        .ok_or(AppError::ItemNotFound)?;
    let mut active: item::ActiveModel = found.into();
    active.title = Set(title);
    active.done = Set(done);
    Ok(Json(active.update(&*db).await?))
}

/// `DELETE /api/items/{id}`: 204, or 404.
pub(crate) async fn delete_item(
    db: TenantDb,
    id: Result<Path<i32>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let id = item_id(id)?;
    let result = item::Entity::delete_by_id(id).exec(&*db).await?;
    match result.rows_affected {
        0 => Err(AppError::ItemNotFound),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

fn chrono_now() -> sea_orm::prelude::ChronoDateTimeUtc {
    sea_orm::prelude::ChronoUtc::now()
}

/// A tenant in `GET /api/tenants`.
#[derive(Debug, Serialize)]
pub(crate) struct TenantSummary {
    pub(crate) name: String,
    pub(crate) status: &'static str,
    pub(crate) created_at: String,
    /// `None` when the tenant's home could not be read.
    pub(crate) items: Option<u64>,
}

/// Every registered tenant with its item count, by name.
pub(crate) async fn summaries(tenancy: &Tenancy) -> Result<Vec<TenantSummary>, AppError> {
    let tenants = tenancy.list().await?;
    let mut out: Vec<TenantSummary> = stream::iter(tenants)
        .map(|info: TenantInfo| async move {
            let items = match tenancy.tenant_by_id(info.id.clone()) {
                Ok(conn) => match item::Entity::find().count(&conn).await {
                    Ok(n) => Some(n),
                    Err(e) => {
                        tracing::warn!(tenant = %info.id, error = %e, "cannot count items");
                        None
                    }
                },
                Err(_) => None,
            };
            TenantSummary {
                name: info.id.to_string(),
                status: info.status.as_str(),
                created_at: info.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                items,
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Tenant management is not served inside a tenant.
fn platform_only(resolved: &Resolved) -> Result<(), AppError> {
    match resolved {
        Resolved::Tenant(_) => Err(AppError::NotFound),
        _ => Ok(()),
    }
}

/// `GET /api/tenants`.
pub(crate) async fn list_tenants(
    State(state): State<AppState>,
    resolved: Resolved,
) -> Result<Json<Vec<TenantSummary>>, AppError> {
    platform_only(&resolved)?;
    Ok(Json(summaries(&state.tenancy).await?))
}

/// `POST /api/tenants` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTenant {
    name: String,
}

/// `POST /api/tenants`: creates and migrates a tenant; 201, 409 or 400.
pub(crate) async fn create_tenant(
    State(state): State<AppState>,
    resolved: Resolved,
    Body(input): Body<NewTenant>,
) -> Result<Response, AppError> {
    platform_only(&resolved)?;
    let id = state.tenancy.tenant_id(&input.name)?;
    let applied = state.tenancy.create_and_migrate(id.as_str()).await?;
    let body =
        serde_json::json!({ "name": id.as_str(), "status": "active", "migrations": applied });
    let location = format!("/tenant/{id}");
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(body)).into_response())
}
