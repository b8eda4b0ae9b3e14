//! Bearer tokens: the administrator's, and one tenant's each (see
//! [`Config::admin_token`](crate::Config::admin_token) and
//! [`Config::tenant_tokens`](crate::Config::tenant_tokens)).

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header::AUTHORIZATION, request::Parts},
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

/// The token of an `Authorization: Bearer ...` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
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
}
