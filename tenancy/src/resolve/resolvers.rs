//! The built-in resolvers: header, subdomain, custom domain, path prefix.

use futures_util::future::BoxFuture;
use http::{HeaderName, Uri, header::HOST, request::Parts, uri::PathAndQuery};

use super::{Resolution, Resolve};
use crate::tenancy::Tenancy;

/// Why the request's host could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostProblem {
    /// Not a host name (answered `invalid_tenant_name` when a resolver
    /// needs it).
    Invalid(&'static str),
    /// More than one host: refused with `ambiguous_tenant` whatever the
    /// resolvers.
    Ambiguous(&'static str),
}

impl From<HostProblem> for Resolution {
    fn from(problem: HostProblem) -> Self {
        match problem {
            HostProblem::Invalid(reason) => Resolution::Invalid(reason),
            HostProblem::Ambiguous(reason) => Resolution::Ambiguous(reason),
        }
    }
}

/// The host the layer read once for the whole chain (see
/// [`request_host`]); the built-in resolvers find it in the extensions.
#[derive(Debug, Clone)]
pub(crate) struct RequestHost(pub(crate) Result<Option<String>, HostProblem>);

/// The one value of header `name`, if any: a repeated header is ambiguous.
fn single<'p>(parts: &'p Parts, name: &HeaderName) -> Result<Option<&'p str>, HostProblem> {
    let mut values = parts.headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(HostProblem::Ambiguous("repeated host header"));
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| HostProblem::Invalid("host is not visible ASCII"))
}

/// `raw` (`host[:port]`) ASCII-lowercased, without port or trailing dot.
fn normalize(raw: &str) -> Result<String, HostProblem> {
    if raw.starts_with('[') {
        // An IPv6 literal names no tenant.
        return Ok(raw.to_ascii_lowercase());
    }
    let host = match raw.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        Some(_) => return Err(HostProblem::Invalid("malformed port in host")),
        None => raw,
    };
    crate::store::Domain::parse(host)
        .map(|d| d.as_str().to_owned())
        .ok_or(HostProblem::Invalid("malformed host"))
}

/// The request's host, ASCII-lowercased, without port or trailing dot.
///
/// With `trusted` (a header a proxy in front owns, e.g. `x-forwarded-host`)
/// only that header counts: one value, no list. Otherwise the `Host` header
/// and the request target's authority (absolute-form in HTTP/1.1,
/// `:authority` in HTTP/2): when both are there they must name the same
/// host (ports aside), else the request is ambiguous (RFC 9112 §3.2.2 makes
/// the authority win; a proxy that routed on `Host` saw another tenant).
/// `Ok(None)` without one.
pub(crate) fn request_host(
    parts: &Parts,
    trusted: Option<&HeaderName>,
) -> Result<Option<String>, HostProblem> {
    if let Some(name) = trusted {
        return match single(parts, name)? {
            Some(raw) if raw.contains(',') => {
                Err(HostProblem::Ambiguous("a list of forwarded hosts"))
            }
            Some(raw) => normalize(raw).map(Some),
            None => Ok(None),
        };
    }
    let header = single(parts, &HOST)?.map(normalize).transpose()?;
    let authority = parts.uri.host().map(normalize).transpose()?;
    match (header, authority) {
        (Some(header), Some(authority)) if header != authority => Err(HostProblem::Ambiguous(
            "the request target's authority disagrees with host",
        )),
        (Some(host), _) | (None, Some(host)) => Ok(Some(host)),
        (None, None) => Ok(None),
    }
}

/// The host the layer read for this request; computed here (with no
/// trusted header) when a resolver runs outside the layer.
fn host_of(parts: &Parts) -> Result<Option<String>, HostProblem> {
    match parts.extensions.get::<RequestHost>() {
        Some(RequestHost(host)) => host.clone(),
        None => request_host(parts, None),
    }
}

/// A header naming the tenant (default `X-Tenant`). Its value is taken as
/// it is (no trimming, no case folding) and validated by the layer; a
/// repeated header is ambiguous.
#[derive(Debug, Clone)]
pub struct Header {
    name: HeaderName,
}

impl Header {
    /// Reads header `name`.
    pub fn new(name: HeaderName) -> Self {
        Header { name }
    }
}

impl Default for Header {
    fn default() -> Self {
        Header::new(HeaderName::from_static("x-tenant"))
    }
}

impl Resolve for Header {
    fn resolve<'a>(&'a self, parts: &'a mut Parts, _: &'a Tenancy) -> BoxFuture<'a, Resolution> {
        let mut values = parts.headers.get_all(&self.name).iter();
        let resolution = match (values.next(), values.next()) {
            (None, _) => Resolution::Next,
            (Some(_), Some(_)) => Resolution::Ambiguous("repeated tenant header"),
            (Some(value), None) => match value.to_str() {
                Ok(name) => Resolution::Tenant(name.to_owned()),
                Err(_) => Resolution::Invalid("tenant header is not visible ASCII"),
            },
        };
        Box::pin(std::future::ready(resolution))
    }
}

/// The first label of a subdomain of the primary domain: `acme.example.com`
/// names `acme`. The primary domain itself, `www`, the excluded labels and
/// other hosts pass to the next resolver; deeper subdomains
/// (`a.b.example.com`) are invalid.
#[derive(Debug, Clone)]
pub struct Subdomain {
    suffix: String,
    excluded: Vec<String>,
}

impl Subdomain {
    /// Subdomains of `primary` (e.g. `example.com`; case and a trailing dot
    /// are ignored).
    pub fn new(primary: &str) -> Self {
        let primary = primary.trim_end_matches('.').to_ascii_lowercase();
        Subdomain {
            suffix: format!(".{primary}"),
            excluded: vec!["www".to_owned()],
        }
    }

    /// Labels that are not tenants (`api`, `static`...), besides `www`.
    pub fn exclude<I, S>(mut self, labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.excluded
            .extend(labels.into_iter().map(|l| l.as_ref().to_ascii_lowercase()));
        self
    }

    fn pick(&self, host: &str) -> Resolution {
        let Some(label) = host.strip_suffix(&self.suffix) else {
            return Resolution::Next;
        };
        if label.contains('.') {
            return Resolution::Invalid("nested subdomain");
        }
        if self.excluded.iter().any(|e| e == label) {
            return Resolution::Next;
        }
        Resolution::Tenant(label.to_owned())
    }
}

impl Resolve for Subdomain {
    fn resolve<'a>(&'a self, parts: &'a mut Parts, _: &'a Tenancy) -> BoxFuture<'a, Resolution> {
        let resolution = match host_of(parts) {
            Ok(Some(host)) => self.pick(&host),
            Ok(None) => Resolution::Next,
            Err(problem) => problem.into(),
        };
        Box::pin(std::future::ready(resolution))
    }
}

/// The host looked up in the `tenancy_domains` table (see
/// [`Tenancy::add_domain`]), through the tenancy's cache. Unknown hosts
/// pass to the next resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct CustomDomain;

impl Resolve for CustomDomain {
    fn resolve<'a>(
        &'a self,
        parts: &'a mut Parts,
        tenancy: &'a Tenancy,
    ) -> BoxFuture<'a, Resolution> {
        Box::pin(async move {
            let host = match host_of(parts) {
                Ok(Some(host)) => host,
                Ok(None) => return Resolution::Next,
                Err(problem) => return problem.into(),
            };
            match tenancy.tenant_of_domain(&host).await {
                Ok(Some(tenant)) => Resolution::Id(tenant),
                Ok(None) => Resolution::Next,
                Err(e) => {
                    tracing::error!(error = %e, "custom domain lookup failed");
                    Resolution::Unavailable("custom domain lookup failed")
                }
            }
        })
    }
}

/// A path prefix: with prefix `/t`, `/t/acme/items?x=1` names `acme` and
/// continues as `/items?x=1` (the original URI is kept in axum's
/// `OriginalUri` extension). Other paths pass.
#[derive(Debug, Clone)]
pub struct PathPrefix {
    prefix: String,
}

impl PathPrefix {
    /// Paths under `prefix` (e.g. `/t` or `/tenant`).
    pub fn new(prefix: &str) -> Self {
        let prefix = format!("/{}/", prefix.trim_matches('/'));
        PathPrefix {
            prefix: prefix.replace("//", "/"),
        }
    }

    /// The tenant segment and the path that remains, when `path` is ours.
    fn split<'p>(&self, path: &'p str) -> Option<(&'p str, &'p str)> {
        let rest = path.strip_prefix(&self.prefix)?;
        Some(match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        })
    }
}

impl Resolve for PathPrefix {
    fn resolve<'a>(&'a self, parts: &'a mut Parts, _: &'a Tenancy) -> BoxFuture<'a, Resolution> {
        let resolution = match self.split(parts.uri.path()) {
            None => Resolution::Next,
            Some((tenant, rest)) => {
                let tenant = tenant.to_owned();
                let pq = match parts.uri.query() {
                    Some(q) => format!("{rest}?{q}"),
                    None => rest.to_owned(),
                };
                match strip(&parts.uri, &pq) {
                    Some(uri) => {
                        if parts
                            .extensions
                            .get::<axum::extract::OriginalUri>()
                            .is_none()
                        {
                            let original = axum::extract::OriginalUri(parts.uri.clone());
                            parts.extensions.insert(original);
                        }
                        parts.uri = uri;
                        Resolution::Tenant(tenant)
                    }
                    None => Resolution::Invalid("malformed path"),
                }
            }
        };
        Box::pin(std::future::ready(resolution))
    }
}

/// `uri` with its path and query replaced by `pq`.
fn strip(uri: &Uri, pq: &str) -> Option<Uri> {
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(pq).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_pick_one_label() {
        let s = Subdomain::new("Example.com.").exclude(["api"]);
        let t = |n: &str| Resolution::Tenant(n.to_owned());
        assert_eq!(s.pick("acme.example.com"), t("acme"));
        assert_eq!(s.pick("example.com"), Resolution::Next);
        assert_eq!(s.pick("www.example.com"), Resolution::Next);
        assert_eq!(s.pick("api.example.com"), Resolution::Next);
        assert_eq!(s.pick("acme.example.org"), Resolution::Next);
        assert_eq!(s.pick("evilexample.com"), Resolution::Next);
        assert!(matches!(s.pick("a.b.example.com"), Resolution::Invalid(_)));
    }

    #[test]
    fn paths_split_after_the_prefix() {
        let p = PathPrefix::new("/t/");
        assert_eq!(p.split("/t/acme/items/1"), Some(("acme", "/items/1")));
        assert_eq!(p.split("/t/acme"), Some(("acme", "/")));
        assert_eq!(p.split("/t/"), Some(("", "/")));
        assert_eq!(p.split("/tx/acme"), None);
        assert_eq!(p.split("/items"), None);
    }
}
