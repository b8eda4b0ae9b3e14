//! The HTML pages: the tenant list (`/`) and a tenant's dashboard
//! (`/tenant/{tenant}`, or `/` on a tenant's subdomain), with the forms of
//! [`crate::ui`], and examples that use the address the app listens on.

use std::fmt::Write;

use axum::{
    Extension,
    extract::{Query, State, rejection::QueryRejection},
    http::HeaderMap,
    response::Html,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use tenancy::resolve::{Resolved, TenantDb};

use crate::{
    AppState, Listening,
    api::{self, MAX_LIMIT, PageQuery},
    auth,
    error::AppError,
    item,
};

const STYLE: &str = "
:root { color-scheme: light dark; --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --accent: #0969da; --bg: #fff; --soft: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --line: #30363d; --accent: #4493f8; --bg: #0d1117; --soft: #161b22; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; color: var(--fg); background: var(--bg); }
header { border-bottom: 1px solid var(--line); background: var(--soft); }
header div, main { max-width: 52rem; margin: 0 auto; padding: 0.9rem 1.25rem; }
header a { color: var(--fg); font-weight: 600; text-decoration: none; }
main { padding-top: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 0.25rem; }
p.lead { color: var(--muted); margin: 0 0 1.5rem; }
table { width: 100%; border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { text-align: left; padding: 0.55rem 0.6rem; border-bottom: 1px solid var(--line); }
th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: var(--accent); }
.badge { display: inline-block; padding: 0 0.5rem; border-radius: 1rem; font-size: 0.8rem; border: 1px solid var(--line); color: var(--muted); }
.badge.active, .badge.done { color: #1a7f37; border-color: #1a7f37; }
.badge.suspended { color: #bc4c00; border-color: #bc4c00; }
.empty { color: var(--muted); padding: 1rem 0; }
code, pre { font: 0.85rem/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--soft); border-radius: 6px; }
code { padding: 0.1rem 0.35rem; }
pre { padding: 0.75rem 1rem; overflow-x: auto; border: 1px solid var(--line); }
footer { color: var(--muted); font-size: 0.85rem; margin-top: 2rem; }
form.inline { display: inline; margin: 0; }
form.row { display: flex; gap: 0.5rem; margin: 1rem 0; }
input[type=text], input[type=password] { flex: 1; font: inherit; padding: 0.35rem 0.6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { font: inherit; padding: 0.3rem 0.8rem; border: 1px solid var(--line); border-radius: 6px; background: var(--soft); color: var(--fg); cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
";

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str, headers: &HeaderMap) -> Html<String> {
    let session = if auth::signed_in(headers) {
        " · <form class=\"inline\" method=\"post\" action=\"/ui/session/end\">\
         <button>Sign out</button></form>"
    } else {
        ""
    };
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <header><div><a href=\"/\">tenancy · items</a></div></header>\
         <main>{body}<footer>Links: <a href=\"/api/tenants\">/api/tenants</a> · \
         <a href=\"/health\">/health</a> · <a href=\"/metrics\">/metrics</a>{session}</footer></main>\
         </body></html>\n",
        title = escape(title),
    ))
}

/// The address clients reach the app at, for the pages' examples: where
/// [`crate::serve`] listens (`localhost` for an unspecified address).
#[derive(Debug, Clone)]
struct Origin {
    host: String,
    port: u16,
}

impl Origin {
    fn of(listening: Option<Extension<Listening>>, state: &AppState) -> Self {
        let addr = listening.map_or(state.addr, |Extension(Listening(addr))| addr);
        let host = match addr.ip() {
            ip if ip.is_unspecified() => "localhost".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        Origin {
            host,
            port: addr.port(),
        }
    }

    /// `host:port`, escaped for HTML.
    fn base(&self) -> String {
        escape(&format!("{}:{}", self.host, self.port))
    }
}

/// `GET /`: a tenant's dashboard when the request has a tenant, else the
/// tenant list (`?limit=&after=`) for the administrator, else a welcome
/// page that lists nothing.
pub(crate) async fn home(
    State(state): State<AppState>,
    resolved: Resolved,
    db: Option<TenantDb>,
    headers: HeaderMap,
    listening: Option<Extension<Listening>>,
    query: Result<Query<PageQuery<String>>, QueryRejection>,
) -> Result<Html<String>, AppError> {
    let origin = Origin::of(listening, &state);
    match db {
        Some(db) => dashboard(db, &origin, &headers).await,
        None if state.tokens.is_admin(&headers) => {
            let (limit, after) = PageQuery::checked(query)?;
            tenants(
                &state,
                &resolved,
                limit,
                after.as_deref(),
                &origin,
                &headers,
            )
            .await
        }
        None => Ok(welcome(&state, &origin, &headers)),
    }
}

/// The page of an anonymous client: how to use the service, a sign-in
/// form, no tenant names.
fn welcome(state: &AppState, origin: &Origin, headers: &HeaderMap) -> Html<String> {
    let mut body = String::from("<h1>Items</h1>");
    if auth::signed_in(headers) {
        body.push_str(
            "<p class=\"lead\">Your token does not open the tenant list. Open your tenant's \
             page: <code>/tenant/NAME/</code>.</p>",
        );
    } else {
        body.push_str(
            "<p class=\"lead\">Sign in with the administrator's token to see and create \
             tenants, or with a tenant's token and open <code>/tenant/NAME/</code>.</p>\
             <form class=\"row\" method=\"post\" action=\"/ui/session\">\
             <input type=\"password\" name=\"token\" placeholder=\"token\" required \
             aria-label=\"token\"><button class=\"primary\">Sign in</button></form>",
        );
    }
    try_it(&mut body, state, origin);
    page("Items", &body, headers)
}

/// The "try it" commands.
fn try_it(body: &mut String, state: &AppState, origin: &Origin) {
    let on_demand = if state.create_on_demand {
        "Visiting a new tenant's page creates it."
    } else {
        "Create one with the form above, or with the API:"
    };
    let _ = write!(
        body,
        "<h2>Try it</h2><p>{on_demand}</p><pre>curl -X POST {base}/api/tenants \
         -H \"authorization: Bearer $APP_ADMIN_TOKEN\" \
         -H 'content-type: application/json' -d '{{\"name\": \"acme\"}}'\n\
         curl -X POST {base}/tenant/acme/api/items -H \"authorization: Bearer $TOKEN\" \
         -H 'content-type: application/json' -d '{{\"title\": \"Ship it\"}}'\n\
         curl -H 'x-tenant: acme' -H \"authorization: Bearer $TOKEN\" {base}/api/items\n\
         curl -H \"authorization: Bearer $TOKEN\" acme.{domain}:{port}/api/items</pre>",
        base = origin.base(),
        domain = escape(&state.domain),
        port = origin.port,
    );
}

async fn tenants(
    state: &AppState,
    resolved: &Resolved,
    limit: u64,
    after: Option<&str>,
    origin: &Origin,
    headers: &HeaderMap,
) -> Result<Html<String>, AppError> {
    let page_of = api::summaries(&state.tenancy, limit, after).await?;
    let tenants = &page_of.items;
    let total = state.tenancy.count().await?;
    let mut body = String::from("<h1>Tenants</h1>");
    let _ = write!(
        body,
        "<p class=\"lead\">{} tenant{}, each with its own {}.{}</p>",
        total,
        if total == 1 { "" } else { "s" },
        state.home_kind,
        if *resolved == Resolved::Admin {
            " You are on the admin host."
        } else {
            ""
        },
    );
    body.push_str(
        "<form class=\"row\" method=\"post\" action=\"/ui/tenants\">\
         <input type=\"text\" name=\"name\" placeholder=\"new tenant, e.g. acme\" required \
         pattern=\"[a-z][a-z0-9_]*\" aria-label=\"tenant name\">\
         <button class=\"primary\">Create tenant</button></form>",
    );
    if tenants.is_empty() {
        body.push_str("<p class=\"empty\">No tenants yet.</p>");
    } else {
        body.push_str(
            "<table><thead><tr><th>Tenant</th><th>Status</th><th class=\"num\">Items</th>\
             <th>Created</th></tr></thead><tbody>",
        );
        for t in tenants {
            let name = escape(&t.name);
            let items = t.items.map_or_else(|| "–".to_owned(), |n| n.to_string());
            let _ = write!(
                body,
                "<tr><td><a href=\"/tenant/{name}\">{name}</a></td>\
                 <td><span class=\"badge {status}\">{status}</span></td>\
                 <td class=\"num\">{items}</td><td>{created}</td></tr>",
                status = t.status,
                created = escape(&t.created_at),
            );
        }
        body.push_str("</tbody></table>");
    }
    if let Some(next) = &page_of.next_after {
        let _ = write!(
            body,
            "<p><a href=\"/?limit={limit}&amp;after={next}\">Next {limit} tenants</a></p>",
            next = escape(next),
        );
    }
    try_it(&mut body, state, origin);
    Ok(page("Tenants", &body, headers))
}

async fn dashboard(
    db: TenantDb,
    origin: &Origin,
    headers: &HeaderMap,
) -> Result<Html<String>, AppError> {
    let tenant = db.tenant().to_string();
    let total = item::Entity::find().count(&*db).await?;
    let done = item::Entity::find()
        .filter(item::Column::Done.eq(true))
        .count(&*db)
        .await?;
    let items = item::Entity::find()
        .order_by_asc(item::Column::Id)
        .limit(MAX_LIMIT)
        .all(&*db)
        .await?;
    let name = escape(&tenant);
    let mut body = format!(
        "<h1>{name}</h1><p class=\"lead\">{total} item{}, {done} done.{}</p>\
         <form class=\"row\" method=\"post\" action=\"/tenant/{name}/ui/items\">\
         <input type=\"text\" name=\"title\" placeholder=\"a new item\" required maxlength=\"200\" \
         aria-label=\"title\"><button class=\"primary\">Add</button></form>",
        if total == 1 { "" } else { "s" },
        if total > MAX_LIMIT {
            " The first 100 are shown."
        } else {
            ""
        },
    );
    if items.is_empty() {
        body.push_str("<p class=\"empty\">No items yet.</p>");
    } else {
        body.push_str(
            "<table><thead><tr><th class=\"num\">#</th><th>Title</th><th>State</th>\
             <th>Created</th><th></th></tr></thead><tbody>",
        );
        for i in &items {
            let (state, toggle) = if i.done {
                ("done", "Reopen")
            } else {
                ("open", "Done")
            };
            let _ = write!(
                body,
                "<tr><td class=\"num\">{id}</td><td>{title}</td>\
                 <td><span class=\"badge {state}\">{state}</span></td><td>{created}</td>\
                 <td><form class=\"inline\" method=\"post\" action=\"/tenant/{name}/ui/items/{id}/toggle\">\
                 <button>{toggle}</button></form> \
                 <form class=\"inline\" method=\"post\" action=\"/tenant/{name}/ui/items/{id}/delete\">\
                 <button>Delete</button></form></td></tr>",
                id = i.id,
                title = escape(&i.title),
                created = i.created_at.format("%Y-%m-%d %H:%M UTC"),
            );
        }
        body.push_str("</tbody></table>");
    }
    let _ = write!(
        body,
        "<h2>API</h2><pre>curl -X POST {base}/tenant/{name}/api/items -H \"authorization: Bearer $TOKEN\" \
         -H 'content-type: application/json' -d '{{\"title\": \"Write the docs\"}}'\n\
         curl -X PUT {base}/tenant/{name}/api/items/1 -H \"authorization: Bearer $TOKEN\" \
         -H 'content-type: application/json' -d '{{\"title\": \"Write the docs\", \"done\": true}}'\n\
         curl -X DELETE {base}/tenant/{name}/api/items/1 -H \"authorization: Bearer $TOKEN\"</pre>\
         <p><a href=\"/tenant/{name}/api/items\">This tenant's items as JSON</a></p>",
        base = origin.base(),
    );
    Ok(page(&tenant, &body, headers))
}
