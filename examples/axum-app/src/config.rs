//! [`Config`]: the app's settings, from the environment or built by hand.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// Settings of the app; [`Config::from_env`] reads them from `APP_*`
/// variables and `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The shared home (`DATABASE_URL`, default `sqlite://./data/shared.db?mode=rwc`).
    pub database_url: String,
    /// Where to listen (`APP_ADDR`, default `127.0.0.1:3000`).
    pub addr: SocketAddr,
    /// Tenants are subdomains of this domain (`APP_DOMAIN`, default `localhost`).
    pub domain: String,
    /// Requests to this host have no tenant (`APP_ADMIN_HOST`, default
    /// `admin.localhost`; empty: none).
    pub admin_host: Option<String>,
    /// Create a valid unknown tenant on its first request to one of the
    /// tenant routes (`APP_CREATE_ON_DEMAND`, default `false`).
    pub create_on_demand: bool,
    /// At most this many tenants created on demand per process
    /// (`APP_ON_DEMAND_LIMIT`, default 100).
    pub on_demand_limit: usize,
    /// At most this many tenants created on demand per second, after a
    /// burst of as many (`APP_ON_DEMAND_RATE`, default 1).
    pub on_demand_rate: u32,
    /// The bearer token of the administrator (`APP_ADMIN_TOKEN`, default
    /// none): the tenant list and tenant creation need it, and it reaches
    /// every tenant. Without it those routes answer 401.
    pub admin_token: Option<String>,
    /// Bearer tokens and the one tenant each reaches
    /// (`APP_TENANT_TOKENS=token1=acme,token2=globex`, default none). When
    /// this or [`admin_token`](Self::admin_token) is set, every tenant
    /// request needs a token; with neither, tenant routes are open (a demo).
    pub tenant_tokens: Vec<(String, String)>,
    /// How long a request may take, reading its body included
    /// (`APP_REQUEST_TIMEOUT_SECS`, default 30): then 408 `request_timeout`.
    pub request_timeout: Duration,
    /// How long a client may take to send the request line and headers
    /// (`APP_HEADER_TIMEOUT_SECS`, default 10); the connection is closed.
    pub header_timeout: Duration,
    /// How often the periodic job purges done items in every tenant
    /// (`APP_PURGE_EVERY_SECS`, default 3600).
    pub purge_every: Duration,
    /// Done items older than this are purged (`APP_PURGE_DONE_AFTER_SECS`,
    /// default 30 days).
    pub purge_done_after: Duration,
}

/// A variable that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    var: &'static str,
    reason: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://./data/shared.db?mode=rwc".to_owned(),
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            domain: "localhost".to_owned(),
            admin_host: Some("admin.localhost".to_owned()),
            create_on_demand: false,
            on_demand_limit: 100,
            on_demand_rate: 1,
            admin_token: None,
            tenant_tokens: Vec::new(),
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            purge_every: Duration::from_secs(3600),
            purge_done_after: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl Config {
    /// The defaults, overridden by the environment.
    ///
    /// # Errors
    /// When `APP_ADDR` is not a socket address, `APP_CREATE_ON_DEMAND` not
    /// a boolean, a number not a number, or `APP_TENANT_TOKENS` not
    /// `token=tenant` pairs.
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = Config::default();
        if let Some(url) = var("DATABASE_URL") {
            config.database_url = url;
        }
        if let Some(addr) = var("APP_ADDR") {
            config.addr = addr.parse().map_err(|e| ConfigError {
                var: "APP_ADDR",
                reason: format!("{e} (expected e.g. 127.0.0.1:3000)"),
            })?;
        }
        if let Some(domain) = var("APP_DOMAIN") {
            config.domain = domain;
        }
        match std::env::var("APP_ADMIN_HOST") {
            Ok(host) if host.trim().is_empty() => config.admin_host = None,
            Ok(host) => config.admin_host = Some(host),
            Err(_) => {}
        }
        if let Some(flag) = var("APP_CREATE_ON_DEMAND") {
            config.create_on_demand = match flag.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(ConfigError {
                        var: "APP_CREATE_ON_DEMAND",
                        reason: format!("{flag:?} is not true or false"),
                    });
                }
            };
        }
        if let Some(limit) = var("APP_ON_DEMAND_LIMIT") {
            config.on_demand_limit = number("APP_ON_DEMAND_LIMIT", &limit)?;
        }
        if let Some(rate) = var("APP_ON_DEMAND_RATE") {
            config.on_demand_rate = number("APP_ON_DEMAND_RATE", &rate)?;
        }
        if let Some(secs) = var("APP_REQUEST_TIMEOUT_SECS") {
            config.request_timeout = seconds("APP_REQUEST_TIMEOUT_SECS", &secs)?;
        }
        if let Some(secs) = var("APP_HEADER_TIMEOUT_SECS") {
            config.header_timeout = seconds("APP_HEADER_TIMEOUT_SECS", &secs)?;
        }
        if let Some(secs) = var("APP_PURGE_EVERY_SECS") {
            config.purge_every = seconds("APP_PURGE_EVERY_SECS", &secs)?;
        }
        if let Some(secs) = var("APP_PURGE_DONE_AFTER_SECS") {
            config.purge_done_after = seconds("APP_PURGE_DONE_AFTER_SECS", &secs)?;
        }
        config.admin_token = var("APP_ADMIN_TOKEN").map(|t| t.trim().to_owned());
        if let Some(pairs) = var("APP_TENANT_TOKENS") {
            config.tenant_tokens = tenant_tokens(&pairs)?;
        }
        Ok(config)
    }

    /// Whether tenant requests need a bearer token.
    pub(crate) fn auth_required(&self) -> bool {
        self.admin_token.is_some() || !self.tenant_tokens.is_empty()
    }

    /// The directory of a SQLite URL's file, to create before connecting.
    pub(crate) fn sqlite_dir(&self) -> Option<PathBuf> {
        let rest = self.database_url.strip_prefix("sqlite:")?;
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        PathBuf::from(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(PathBuf::from)
    }
}

/// A non-negative integer setting.
fn number<T: std::str::FromStr>(var: &'static str, value: &str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError {
        var,
        reason: format!("{value:?} is not a non-negative integer"),
    })
}

/// A positive number of seconds.
fn seconds(var: &'static str, value: &str) -> Result<Duration, ConfigError> {
    match number::<u64>(var, value)? {
        0 => Err(ConfigError {
            var,
            reason: "must be at least 1".to_owned(),
        }),
        secs => Ok(Duration::from_secs(secs)),
    }
}

/// `token=tenant` pairs, comma-separated.
fn tenant_tokens(pairs: &str) -> Result<Vec<(String, String)>, ConfigError> {
    pairs
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| match pair.trim().split_once('=') {
            Some((token, tenant)) if !token.trim().is_empty() && !tenant.trim().is_empty() => {
                Ok((token.trim().to_owned(), tenant.trim().to_owned()))
            }
            _ => Err(ConfigError {
                var: "APP_TENANT_TOKENS",
                reason: "expected token=tenant pairs separated by commas".to_owned(),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_directory_is_found() {
        let dir = |url: &str| {
            Config {
                database_url: url.to_owned(),
                ..Config::default()
            }
            .sqlite_dir()
        };
        assert_eq!(
            dir("sqlite://./data/shared.db?mode=rwc"),
            Some("./data".into())
        );
        assert_eq!(dir("sqlite:///tmp/x/shared.db"), Some("/tmp/x".into()));
        assert_eq!(dir("sqlite://shared.db"), None);
        assert_eq!(dir("postgres://localhost/db"), None);
    }

    #[test]
    fn tenant_tokens_are_pairs() {
        assert_eq!(
            tenant_tokens(" t1=acme, t2 = globex,").expect("pairs"),
            [
                ("t1".to_owned(), "acme".to_owned()),
                ("t2".to_owned(), "globex".to_owned())
            ]
        );
        assert!(tenant_tokens("t1").is_err());
        assert!(tenant_tokens("=acme").is_err());
        assert!(seconds("X", "0").is_err());
    }
}
