//! Validated tenant identifiers and the mapping from tenant to its home.

use std::{fmt, sync::Arc};

use crate::error::{Error, Result};

/// Longest tenant id accepted by the default rule.
const DEFAULT_MAX_LEN: usize = 48;
/// Longest home name (schema, database or file stem) on any backend:
/// PostgreSQL truncates identifiers at 63 bytes.
const MAX_HOME_LEN: usize = 63;

/// Names no tenant may take, nor any tenant's home: the homes of the
/// databases themselves, and the schema names SQLite reserves.
const RESERVED: &[&str] = &[
    "public",
    "information_schema",
    "mysql",
    "sys",
    "performance_schema",
    "main",
    "temp",
    "shared",
    "tenancy",
];

/// A tenant identifier that passed validation.
///
/// The only ways to get one are [`TenantId::new`] (the default rule) and
/// [`Tenancy::tenant_id`](crate::Tenancy::tenant_id) (the configured rule), so an
/// unvalidated string cannot reach SQL. Cloning is cheap.
///
/// # Examples
/// ```
/// use tenancy::TenantId;
/// assert_eq!(TenantId::new("acme")?.as_str(), "acme");
/// assert!(TenantId::new("acme\"; DROP SCHEMA public; --").is_err());
/// # Ok::<(), tenancy::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(Arc<str>);

impl TenantId {
    /// Validates `name` with the default rule: `^[a-z][a-z0-9_]{0,47}$`, not a
    /// reserved name (`public`, `information_schema`, `pg_*`, `mysql`, `sys`,
    /// `performance_schema`, ...).
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`] with the reason.
    pub fn new(name: &str) -> Result<Self> {
        TenantRules::default().validate(name)
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// [`Error::TenantNotFound`] for this tenant.
    pub(crate) fn not_found(&self) -> Error {
        Error::TenantNotFound {
            tenant: self.to_string(),
        }
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for TenantId {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Validating against the floor every name must pass whatever the rules
/// (ASCII letters, digits, `_`, `-`, at most 63 bytes, not reserved: what
/// keeps a name out of SQL), so a job payload or request body can carry a
/// tenant without an unvalidated string reaching SQL. A tenancy applies its
/// own rule (the default one, or the builder's `validate_names`) when it is
/// handed the id ([`Tenancy::tenant_by_id`](crate::Tenancy::tenant_by_id)).
///
/// # Examples
/// ```
/// use tenancy::TenantId;
/// let id: TenantId = serde_json::from_str(r#""acme""#).unwrap();
/// assert_eq!(id.as_str(), "acme");
/// assert!(serde_json::from_str::<TenantId>(r#""a\"; DROP SCHEMA x""#).is_err());
/// ```
impl<'de> serde::Deserialize<'de> for TenantId {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        check_floor(&name).map_err(|reason| serde::de::Error::custom(invalid(&name, reason)))?;
        Ok(TenantId(Arc::from(&*name)))
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for TenantId {
    type Error = Error;
    fn try_from(value: &str) -> Result<Self> {
        TenantId::new(value)
    }
}

/// A custom validation rule: returns `Err(reason)` to refuse a name.
pub type ValidateFn = dyn Fn(&str) -> std::result::Result<(), &'static str> + Send + Sync;
/// A custom template from tenant id to home name (schema, database, file stem).
pub type HomeFn = dyn Fn(&TenantId) -> String + Send + Sync;

/// How tenant names are validated and where each tenant lives.
///
/// Whatever is configured, a name and its home are always limited to ASCII
/// letters, digits, `_` and `-`, at most 63 bytes, and never a reserved name:
/// custom rules can narrow the default, never open it to quotes, dots or
/// path separators.
#[derive(Clone)]
pub(crate) struct TenantRules {
    validate: Option<Arc<ValidateFn>>,
    prefix: Arc<str>,
    home: Option<Arc<HomeFn>>,
}

impl Default for TenantRules {
    fn default() -> Self {
        TenantRules {
            validate: None,
            prefix: Arc::from("tenant_"),
            home: None,
        }
    }
}

impl fmt::Debug for TenantRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantRules")
            .field("custom_validation", &self.validate.is_some())
            .field("prefix", &self.prefix)
            .field("custom_home", &self.home.is_some())
            .finish()
    }
}

fn invalid(name: &str, reason: &'static str) -> Error {
    Error::InvalidTenantName {
        name: name.chars().take(80).collect(),
        reason,
    }
}

/// The rule every name and home must pass, whatever the configuration.
fn check_floor(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() {
        return Err("must not be empty");
    }
    if name.len() > MAX_HOME_LEN {
        return Err("must be at most 63 bytes");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("may contain only ASCII letters, digits, '_' and '-'");
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str()) || lower.starts_with("pg_") {
        return Err("is a reserved name");
    }
    Ok(())
}

fn check_default(name: &str) -> std::result::Result<(), &'static str> {
    let mut bytes = name.bytes();
    match bytes.next() {
        None => return Err("must not be empty"),
        Some(b) if !b.is_ascii_lowercase() => return Err("must start with a lowercase letter"),
        Some(_) => {}
    }
    if name.len() > DEFAULT_MAX_LEN {
        return Err("must be at most 48 bytes");
    }
    if !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err("may contain only lowercase letters, digits and '_'");
    }
    Ok(())
}

impl TenantRules {
    pub(crate) fn with_validation(mut self, f: Arc<ValidateFn>) -> Self {
        self.validate = Some(f);
        self
    }

    pub(crate) fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = Arc::from(prefix);
        self
    }

    pub(crate) fn with_home(mut self, f: Arc<HomeFn>) -> Self {
        self.home = Some(f);
        self
    }

    /// Validates a tenant name.
    pub(crate) fn validate(&self, name: &str) -> Result<TenantId> {
        self.check_name(name)?;
        let id = TenantId(Arc::from(name));
        // The home must pass the floor too, so a template cannot produce SQL.
        self.home(&id)?;
        Ok(id)
    }

    /// Checks an id made elsewhere (under other rules, or deserialized)
    /// against these rules' name rule, without allocating: every
    /// `TenantId` passed the floor when it was made, and its home is
    /// checked wherever a connection is built.
    pub(crate) fn check(&self, id: &TenantId) -> Result<()> {
        self.rule(id.as_str())
            .map_err(|reason| invalid(id.as_str(), reason))
    }

    fn rule(&self, name: &str) -> std::result::Result<(), &'static str> {
        match &self.validate {
            Some(f) => f(name),
            None => check_default(name),
        }
    }

    fn check_name(&self, name: &str) -> Result<()> {
        self.rule(name)
            .and_then(|()| check_floor(name))
            .map_err(|reason| invalid(name, reason))
    }

    /// The name of the tenant's home: schema, database or file stem.
    pub(crate) fn home(&self, id: &TenantId) -> Result<String> {
        let home = match &self.home {
            Some(f) => f(id),
            None => format!("{}{}", self.prefix, id),
        };
        check_floor(&home).map_err(|reason| invalid(&home, reason))?;
        Ok(home)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializing_checks_the_floor_and_a_tenancy_its_rule() {
        let id: TenantId = serde_json::from_str(r#""Acme-1""#).expect("floor");
        assert!(
            TenantRules::default().check(&id).is_err(),
            "the default rule"
        );
        let wide: Arc<ValidateFn> = Arc::new(|_| Ok(()));
        assert!(
            TenantRules::default()
                .with_validation(wide)
                .check(&id)
                .is_ok()
        );
        for bad in [
            r#""""#,
            r#""a b""#,
            r#""a.b""#,
            r#""pg_x""#,
            r#""public""#,
            "7",
        ] {
            assert!(serde_json::from_str::<TenantId>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accepts_ordinary_names() {
        for name in ["acme", "a", "tenant_42", "x1_y2", &"a".repeat(48)] {
            assert_eq!(
                TenantId::new(name).map(|t| t.to_string()).ok().as_deref(),
                Some(name)
            );
        }
    }

    #[test]
    fn refuses_hostile_names() {
        let long = "a".repeat(49);
        let cases = [
            "",
            "Acme",
            "1acme",
            "_acme",
            "acme-corp",
            "acme\"",
            "acme'",
            "acme;",
            "\"; DROP SCHEMA public; --",
            "acme`",
            "a.b",
            "../etc",
            "a/b",
            "a\\b",
            "a\0b",
            "ac me",
            "acmé",
            "аcme",
            "public",
            "information_schema",
            "pg_catalog",
            "pg_temp",
            "mysql",
            "sys",
            "performance_schema",
            "main",
            "shared",
            long.as_str(),
        ];
        for name in cases {
            let err = TenantId::new(name).expect_err(name);
            assert!(err.is_invalid_name(), "{name:?}: {err}");
        }
    }

    #[test]
    fn custom_rules_cannot_open_the_floor() {
        let rules = TenantRules::default().with_validation(Arc::new(|_| Ok(())));
        assert!(rules.validate("Acme-Corp").is_ok());
        for name in [
            "a\"b",
            "a;b",
            "a.b",
            "a/b",
            "public",
            "PG_x",
            &"a".repeat(64),
        ] {
            assert!(rules.validate(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn home_uses_prefix_or_template() {
        let id = TenantId::new("acme").expect("valid");
        assert_eq!(
            TenantRules::default().home(&id).ok().as_deref(),
            Some("tenant_acme")
        );
        let rules = TenantRules::default().with_prefix("t_");
        assert_eq!(rules.home(&id).ok().as_deref(), Some("t_acme"));
        let bad = TenantRules::default().with_home(Arc::new(|id| format!("x\"{id}")));
        assert!(bad.validate("acme").is_err());
        // An empty prefix makes `public` a tenant's home: refused.
        let bare = TenantRules::default().with_prefix("");
        assert!(bare.validate("public").is_err());
    }
}
