//! Bearer tokens: the administrator's, and one tenant's each (see
//! [`Config::admin_token`](crate::Config::admin_token) and
//! [`Config::tenant_tokens`](crate::Config::tenant_tokens)).

use axum::{
    extract::FromRequestParts,
    http::{
        HeaderMap,
        header::{AUTHORIZATION, COOKIE},
        request::Parts,
    },
};
use tenancy::{TenantId, resolve::Access};

use crate::{AppState, Config, error::AppError};

/// The tokens the app accepts.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    admin: Option<String>,
    tenants: Vec<(String, String)>,
}

impl Tokens {
    pub(crate) fn new(config: &Config) -> Self {
        Tokens {
            admin: config.admin_token.clone(),
            tenants: config.tenant_tokens.clone(),
        }
    }

    /// Whether `headers` carry the administrator's token.
    pub(crate) fn is_admin(&self, headers: &HeaderMap) -> bool {
        match (&self.admin, bearer(headers)) {
            (Some(admin), Some(token)) => same(admin, token),
            _ => false,
        }
    }

    /// Whether the request's token reaches `tenant`: the administrator's
    /// reaches all, a tenant's only its own.
    pub(crate) fn access(&self, headers: &HeaderMap, tenant: &TenantId) -> Access {
        let Some(token) = bearer(headers) else {
            return Access::Unauthorized;
        };
        if self.is_admin(headers) {
            return Access::Allow;
        }
        // Every entry is compared, so the time taken says nothing of which.
        let mut known = false;
        let mut allowed = false;
        for (candidate, owner) in &self.tenants {
            if same(candidate, token) {
                known = true;
                allowed |= owner == tenant.as_str();
            }
        }
        match (known, allowed) {
            (_, true) => Access::Allow,
            (true, false) => Access::Forbidden,
            (false, false) => Access::Unauthorized,
        }
    }
}

/// The cookie the pages' sign-in form keeps the token in.
pub(crate) const TOKEN_COOKIE: &str = "app_token";

/// The token of an `Authorization: Bearer ...` header, else of the
/// sign-in cookie (the HTML forms' way: a browser cannot set the header).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return cookie(headers);
    };
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The value of the [`TOKEN_COOKIE`] cookie.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == TOKEN_COOKIE).then_some(value)
        })
        .filter(|t| !t.is_empty())
}

/// Whether the request carries any token (header or cookie).
pub(crate) fn signed_in(headers: &HeaderMap) -> bool {
    bearer(headers).is_some()
}

/// `a == b` in a time that depends on their lengths only.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A request made with the administrator's token: 401 `unauthorized`
/// otherwise (also when the app has no admin token).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if state.tokens.is_admin(&parts.headers) {
            Ok(Admin)
        } else {
            Err(AppError::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(auth).expect("value"));
        headers
    }

    #[test]
    fn tokens_reach_their_tenant_only() {
        let tokens = Tokens {
            admin: Some("root".to_owned()),
            tenants: vec![("ta".to_owned(), "acme".to_owned())],
        };
        let acme = TenantId::new("acme").expect("id");
        let globex = TenantId::new("globex").expect("id");
        assert_eq!(tokens.access(&headers("Bearer ta"), &acme), Access::Allow);
        assert_eq!(tokens.access(&headers("bearer ta"), &acme), Access::Allow);
        assert_eq!(
            tokens.access(&headers("Bearer ta"), &globex),
            Access::Forbidden
        );
        assert_eq!(
            tokens.access(&headers("Bearer tb"), &acme),
            Access::Unauthorized
        );
        assert_eq!(
            tokens.access(&headers("Basic ta"), &acme),
            Access::Unauthorized
        );
        assert_eq!(
            tokens.access(&HeaderMap::new(), &acme),
            Access::Unauthorized
        );
        assert_eq!(
            tokens.access(&headers("Bearer root"), &globex),
            Access::Allow
        );
        assert!(tokens.is_admin(&headers("Bearer root")));
        assert!(!tokens.is_admin(&headers("Bearer ta")));
        assert!(!Tokens::default().is_admin(&headers("Bearer ")));
    }

    #[test]
    fn the_cookie_carries_a_token_when_the_header_does_not() {
        let tokens = Tokens {
            admin: Some("root".to_owned()),
            tenants: vec![("ta".to_owned(), "acme".to_owned())],
        };
        let acme = TenantId::new("acme").expect("id");
        let globex = TenantId::new("globex").expect("id");
        let mut jar = HeaderMap::new();
        jar.insert(COOKIE, HeaderValue::from_static("theme=dark; app_token=ta"));
        assert_eq!(tokens.access(&jar, &acme), Access::Allow);
        assert_eq!(tokens.access(&jar, &globex), Access::Forbidden);
        // A header, even a wrong one, wins over the cookie.
        jar.insert(AUTHORIZATION, HeaderValue::from_static("Bearer nope"));
        assert_eq!(tokens.access(&jar, &acme), Access::Unauthorized);
        let mut other = HeaderMap::new();
        other.insert(COOKIE, HeaderValue::from_static("xapp_token=root"));
        assert!(!tokens.is_admin(&other));
    }
}
