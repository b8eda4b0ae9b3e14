//! The HTML forms behind the pages: sign in with a token (kept in a
//! cookie), create a tenant, add, complete and delete items. Each answers
//! `303 See Other` back to the page it came from; errors are JSON like the
//! API's.
//!
//! The cookie is `HttpOnly` and `SameSite=Strict`, so another site cannot
//! post these forms with it (no cross-site request forgery) and scripts
//! cannot read it.

use axum::{
    Form,
    extract::{Path, State, rejection::FormRejection, rejection::PathRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::Deserialize;
use tenancy::resolve::{Resolved, TenantDb};

use crate::{
    AppState,
    api::{self, ItemInput},
    auth::{Admin, TOKEN_COOKIE},
    error::AppError,
    item,
};

/// `303 See Other` to `location`, with `cookie` set when given.
fn see_other(location: &str, cookie: Option<String>) -> Result<Response, AppError> {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    let location = HeaderValue::from_str(location).map_err(|_| AppError::NotFound)?;
    headers.insert(header::LOCATION, location);
    if let Some(cookie) = cookie {
        let cookie = HeaderValue::from_str(&cookie).map_err(|_| AppError::NotFound)?;
        headers.insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// A form body, its rejection an [`AppError`] (400 `invalid_form`, 415).
fn form<T>(body: Result<Form<T>, FormRejection>) -> Result<T, AppError> {
    body.map(|Form(t)| t).map_err(AppError::Form)
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub(crate) struct SignIn {
    token: String,
}

/// `POST /ui/session`: keeps `token` in a cookie for the pages' forms and
/// links (the API takes `Authorization: Bearer` as well).
pub(crate) async fn sign_in(
    body: Result<Form<SignIn>, FormRejection>,
) -> Result<Response, AppError> {
    let token = form(body)?.token.trim().to_owned();
    // A cookie value is visible ASCII without separators; a token that is
    // not cannot be kept in one (the Authorization header still takes it).
    let cookie_safe = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\'));
    if !cookie_safe {
        return Err(AppError::Invalid {
            code: "invalid_token",
            message: "this token cannot be kept in a cookie; send it as Authorization: Bearer"
                .to_owned(),
        });
    }
    let cookie = format!("{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    see_other("/", Some(cookie))
}

/// `POST /ui/session/end`: forgets the cookie.
pub(crate) async fn sign_out() -> Result<Response, AppError> {
    let cookie = format!("{TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    see_other("/", Some(cookie))
}

/// The new-tenant form.
#[derive(Debug, Deserialize)]
pub(crate) struct NewTenant {
    name: String,
}

/// `POST /ui/tenants` (administrator): creates and migrates the tenant,
/// then shows its page.
pub(crate) async fn create_tenant(
    State(state): State<AppState>,
    resolved: Resolved,
    admin: Admin,
    body: Result<Form<NewTenant>, FormRejection>,
) -> Result<Response, AppError> {
    let name = form(body)?.name;
    let (id, _) = api::create(&state, &resolved, admin, name.trim()).await?;
    see_other(&format!("/tenant/{id}/"), None)
}

/// `POST /ui/items`: adds an item, then shows the tenant's page.
pub(crate) async fn add_item(
    db: TenantDb,
    body: Result<Form<ItemInput>, FormRejection>,
) -> Result<Response, AppError> {
    let input = form(body)?;
    api::insert(&db, input).await?;
    see_other(&dashboard(&db), None)
}

/// `POST /ui/items/{id}/toggle`: marks the item done, or open again.
pub(crate) async fn toggle_item(
    db: TenantDb,
    id: Result<Path<i32>, PathRejection>,
) -> Result<Response, AppError> {
    let found = api::find(&db, id).await?;
    let done = !found.done;
    let mut active: item::ActiveModel = found.into();
    active.done = Set(done);
    active.update(&*db).await?;
    see_other(&dashboard(&db), None)
}

/// `POST /ui/items/{id}/delete`.
pub(crate) async fn delete_item(
    db: TenantDb,
    id: Result<Path<i32>, PathRejection>,
) -> Result<Response, AppError> {
    let found = api::find(&db, id).await?;
    item::Entity::delete_by_id(found.id).exec(&*db).await?;
    see_other(&dashboard(&db), None)
}

/// The tenant's page, by path (whatever resolved the tenant, the path
/// prefix agrees with it).
pub(crate) fn dashboard(db: &TenantDb) -> String {
    format!("/tenant/{}/", db.tenant())
}
