//! The JSON API: a tenant's items, and the tenant list.

use axum::{
    Json,
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    http::{StatusCode, header::LOCATION},
    response::{IntoResponse, Response},
};
use futures_util::{StreamExt, stream};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use tenancy::{
    Tenancy, TenantInfo,
    resolve::{Resolved, TenantDb},
};

use crate::{AppState, auth::Admin, error::AppError, item};

/// The page size when `limit` is not given.
pub(crate) const DEFAULT_LIMIT: u64 = 50;
/// The largest `limit` accepted.
pub(crate) const MAX_LIMIT: u64 = 100;

/// `?limit=&after=`: at most `limit` entries after the cursor `after`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery<C> {
    limit: Option<u64>,
    after: Option<C>,
}

impl<C> PageQuery<C> {
    /// The checked page size and cursor.
    pub(crate) fn checked(
        query: Result<Query<Self>, QueryRejection>,
    ) -> Result<(u64, Option<C>), AppError> {
        let Query(query) = query?;
        match query.limit.unwrap_or(DEFAULT_LIMIT) {
            limit @ 1..=MAX_LIMIT => Ok((limit, query.after)),
            _ => Err(AppError::QueryRange("limit must be 1 to 100")),
        }
    }
}

/// One page of a list, and the cursor of the next (`null` on the last).
#[derive(Debug, Serialize)]
pub(crate) struct Page<T, C> {
    pub(crate) items: Vec<T>,
    pub(crate) next_after: Option<C>,
}

impl<T, C> Page<T, C> {
    /// The page of `fetched` (up to `limit + 1` entries: one more tells
    /// there is a next page), its cursor taken by `cursor`.
    pub(crate) fn of(mut fetched: Vec<T>, limit: u64, cursor: impl Fn(&T) -> C) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_after = if fetched.len() > limit {
            fetched.truncate(limit);
            fetched.last().map(cursor)
        } else {
            None
        };
        Page {
            items: fetched,
            next_after,
        }
    }
}

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
        // Control characters (NUL above all: PostgreSQL refuses it in text,
        // SQLite would store it) are refused the same on every backend.
        if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
            return Err(AppError::Invalid {
                code: "invalid_item",
                message: "title must be 1 to 200 characters, none of them control characters"
                    .to_owned(),
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

/// `GET /api/items?limit=&after=`: a page of the tenant's items, oldest
/// first, after item id `after`.
pub(crate) async fn list_items(
    db: TenantDb,
    query: Result<Query<PageQuery<i32>>, QueryRejection>,
) -> Result<Json<Page<item::Model, i32>>, AppError> {
    let (limit, after) = PageQuery::checked(query)?;
    let items = item::Entity::find()
        .filter(item::Column::Id.gt(after.unwrap_or(0)))
        .order_by_asc(item::Column::Id)
        .limit(limit + 1)
        .all(&*db)
        .await?;
    Ok(Json(Page::of(items, limit, |i| i.id)))
}

/// Validates `input` and inserts it as a new item of the tenant.
pub(crate) async fn insert(db: &TenantDb, input: ItemInput) -> Result<item::Model, AppError> {
    let (title, done) = input.validated()?;
    let item = item::ActiveModel {
        title: Set(title),
        done: Set(done),
        created_at: Set(chrono_now()),
        ..Default::default()
    }
    .insert(&**db)
    .await?;
    tracing::info!(tenant = %db.tenant(), id = item.id, "item created");
    Ok(item)
}

/// The tenant's item `id`, or 404 `item_not_found`.
pub(crate) async fn find(
    db: &TenantDb,
    id: Result<Path<i32>, PathRejection>,
) -> Result<item::Model, AppError> {
    let id = item_id(id)?;
    item::Entity::find_by_id(id)
        .one(&**db)
        .await?
        .ok_or(AppError::ItemNotFound)
}

/// `POST /api/items`: 201 with the item and its `Location`.
pub(crate) async fn create_item(
    db: TenantDb,
    Body(input): Body<ItemInput>,
) -> Result<Response, AppError> {
    let item = insert(&db, input).await?;
    let location = format!("/api/items/{}", item.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(item)).into_response())
}

/// `GET /api/items/{id}`.
pub(crate) async fn get_item(
    db: TenantDb,
    id: Result<Path<i32>, PathRejection>,
) -> Result<Json<item::Model>, AppError> {
    find(&db, id).await.map(Json)
}

/// `PUT /api/items/{id}`: replaces title and done.
pub(crate) async fn update_item(
    db: TenantDb,
    id: Result<Path<i32>, PathRejection>,
    Body(input): Body<ItemInput>,
) -> Result<Json<item::Model>, AppError> {
    let (title, done) = input.validated()?;
    let found = find(&db, id).await?;
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

/// A page of the registered tenants, by name after `after`, with their
/// item counts (counted for the page only).
pub(crate) async fn summaries(
    tenancy: &Tenancy,
    limit: u64,
    after: Option<&str>,
) -> Result<Page<TenantSummary, String>, AppError> {
    let after = after
        .map(|name| tenancy.tenant_id(name))
        .transpose()
        .map_err(|_| AppError::QueryRange("after must be a tenant name"))?;
    // One page of the registry, not all of it: the work per request is
    // bounded by `limit`, however many tenants there are.
    let tenants = tenancy.list_page(after.as_ref(), limit + 1).await?;
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
    Ok(Page::of(out, limit, |t| t.name.clone()))
}

/// Tenant management is not served inside a tenant.
fn platform_only(resolved: &Resolved) -> Result<(), AppError> {
    match resolved {
        Resolved::Tenant(_) => Err(AppError::NotFound),
        _ => Ok(()),
    }
}

/// `GET /api/tenants?limit=&after=`: a page of tenants, for the
/// administrator.
pub(crate) async fn list_tenants(
    State(state): State<AppState>,
    resolved: Resolved,
    _: Admin,
    query: Result<Query<PageQuery<String>>, QueryRejection>,
) -> Result<Json<Page<TenantSummary, String>>, AppError> {
    platform_only(&resolved)?;
    let (limit, after) = PageQuery::checked(query)?;
    Ok(Json(
        summaries(&state.tenancy, limit, after.as_deref()).await?,
    ))
}

/// `GET /health/tenants`: every tenant's health, for the administrator
/// (the report names tenants); 200, or 503 when one is unhealthy.
pub(crate) async fn tenants_health(
    State(state): State<AppState>,
    resolved: Resolved,
    _: Admin,
) -> Result<axum::response::Response, AppError> {
    platform_only(&resolved)?;
    let options = tenancy::HealthOptions::default();
    match state.tenancy.health_all(options).await {
        Ok(report) => Ok(axum::response::IntoResponse::into_response(report)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/tenants` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTenant {
    name: String,
}

/// Creates and migrates tenant `name` for the administrator; its id.
pub(crate) async fn create(
    state: &AppState,
    resolved: &Resolved,
    _: Admin,
    name: &str,
) -> Result<(tenancy::TenantId, Vec<String>), AppError> {
    platform_only(resolved)?;
    let id = state.tenancy.tenant_id(name)?;
    let applied = state.tenancy.create_and_migrate(id.as_str()).await?;
    Ok((id, applied))
}

/// `POST /api/tenants`: creates and migrates a tenant, for the
/// administrator; 201, 409 or 400.
pub(crate) async fn create_tenant(
    State(state): State<AppState>,
    resolved: Resolved,
    admin: Admin,
    Body(input): Body<NewTenant>,
) -> Result<Response, AppError> {
    let (id, applied) = create(&state, &resolved, admin, &input.name).await?;
    let body =
        serde_json::json!({ "name": id.as_str(), "status": "active", "migrations": applied });
    let location = format!("/tenant/{id}");
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(body)).into_response())
}
