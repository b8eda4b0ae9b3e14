//! [`Config`]: the app's settings, from the environment or built by hand.

use std::{net::SocketAddr, path::PathBuf};

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
    /// Create a valid unknown tenant on its first request
    /// (`APP_CREATE_ON_DEMAND`, default `true`).
    pub create_on_demand: bool,
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
            create_on_demand: true,
        }
    }
}

impl Config {
    /// The defaults, overridden by the environment.
    ///
    /// # Errors
    /// When `APP_ADDR` is not a socket address or `APP_CREATE_ON_DEMAND`
    /// is not a boolean.
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
        Ok(config)
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
}
