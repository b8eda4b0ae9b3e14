//! The `tenant_name` target: tenant-name validation and home names.
//!
//! Input: one mode byte, then (custom modes) a rule byte, a template byte
//! and a length-prefixed prefix and suffix, then the name.
//!
//! - mode 0: [`TenantId::new`] and the default `tenant_` prefix;
//! - mode 1: the default rule with a home template built from the input;
//! - mode 2: a custom rule (`validate_names`) and a home template.
//!
//! The floor and the default rule are restated here from the documentation,
//! not copied from `tenant_id.rs`, so the two are checked against each other.

use std::{cell::RefCell, sync::OnceLock};

use sea_orm::{ConnectOptions, Database};
use sqlparser::{
    dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect},
    parser::Parser,
};
use tenancy::{__fuzz::Rewriter, Scope, Tenancy, TenantId};

use super::bytes::Bytes;

/// Names no tenant or home may take (compared without ASCII case), besides
/// anything starting with `pg_`.
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

/// Every accepted name and home passes this, whatever the configuration.
fn floor(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("empty");
    }
    if name.len() > 63 {
        return Err("longer than 63 bytes");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("a byte outside [A-Za-z0-9_-]");
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str()) || lower.starts_with("pg_") {
        return Err("reserved");
    }
    Ok(())
}

/// The default rule: `^[a-z][a-z0-9_]{0,47}$`.
fn default_rule(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 48
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// Bytes that must never reach an accepted name or home, said explicitly.
fn hostile(name: &str) -> Option<char> {
    name.chars().find(|&c| {
        !c.is_ascii()
            || c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '\'' | '"' | '`' | '\\' | '.' | '/' | ';' | '[' | ']' | '$'
            )
    })
}

/// The custom rule and home template of the current input.
#[derive(Debug, Clone, Default)]
struct Config {
    rule: u8,
    template: u8,
    prefix: String,
    suffix: String,
}

thread_local! {
    static CONFIG: RefCell<Config> = RefCell::new(Config::default());
}

fn custom_rule(rule: u8, name: &str) -> Result<(), &'static str> {
    match rule % 4 {
        0 => Ok(()),
        1 => Err("refuses everything"),
        2 if name.len().is_multiple_of(2) => Ok(()),
        2 => Err("odd length"),
        _ if name.contains('x') => Err("contains x"),
        _ => Ok(()),
    }
}

fn template(config: &Config, id: &str) -> String {
    let Config { prefix, suffix, .. } = config;
    match config.template % 4 {
        0 => format!("{prefix}{id}{suffix}"),
        1 => format!("{prefix}{}", id.to_ascii_uppercase()),
        2 => id.chars().rev().collect(),
        _ => prefix.clone(),
    }
}

fn current_template(id: &TenantId) -> String {
    CONFIG.with(|c| template(&c.borrow(), id.as_str()))
}

fn current_rule(name: &str) -> Result<(), &'static str> {
    CONFIG.with(|c| custom_rule(c.borrow().rule, name))
}

/// Three tenancies over a lazy PostgreSQL pool (no server needed: nothing
/// is ever sent): default rules, default rule with the input's template,
/// the input's rule and template.
struct Tenancies {
    _runtime: tokio::runtime::Runtime,
    plain: Tenancy,
    templated: Tenancy,
    custom: Tenancy,
}

fn tenancies() -> &'static Tenancies {
    static TENANCIES: OnceLock<Tenancies> = OnceLock::new();
    TENANCIES.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let build = |kind: u8| {
            runtime.block_on(async {
                let mut options = ConnectOptions::new("postgres://fuzz@127.0.0.1:9/fuzz");
                options.connect_lazy(true);
                let db = Database::connect(options).await.expect("lazy pool");
                let mut builder = Tenancy::builder(db)
                    .citus(false)
                    .install_registry(false)
                    .table("cake", Scope::Tenant)
                    .table("plans", Scope::Shared);
                if kind >= 1 {
                    builder = builder.home_template(current_template);
                }
                if kind >= 2 {
                    builder = builder.validate_names(current_rule);
                }
                builder.build().await.expect("tenancy over a lazy pool")
            })
        };
        let (plain, templated, custom) = (build(0), build(1), build(2));
        Tenancies {
            _runtime: runtime,
            plain,
            templated,
            custom,
        }
    })
}

/// `home` quoted by the rewriter, in every dialect, parses back to `home`.
fn quoting_round_trips(name: &str, home: &str) {
    let dialects: [Box<dyn Dialect>; 3] = [
        Box::new(PostgreSqlDialect {}),
        Box::new(MySqlDialect {}),
        Box::new(SQLiteDialect {}),
    ];
    for (index, dialect) in dialects.iter().enumerate() {
        let rw =
            Rewriter::new(index, &["cake"], &["plans"], "tenant_other", home).expect("registry");
        let sql = rw
            .rewrite("SELECT * FROM plans")
            .unwrap_or_else(|e| panic!("name {name:?} home {home:?}: refused: {e}"));
        let parsed = Parser::parse_sql(&**dialect, &sql)
            .unwrap_or_else(|e| panic!("name {name:?}: {sql:?} does not parse: {e}"));
        let shown = parsed.first().map(ToString::to_string).unwrap_or_default();
        let expected = if index == 1 {
            format!("SELECT * FROM `{home}`.plans")
        } else {
            format!("SELECT * FROM \"{home}\".plans")
        };
        assert_eq!(shown, expected, "name {name:?}: quoting of home {home:?}");
    }
}

fn check_accepted(name: &str, home: &str, what: &str) {
    if let Err(why) = floor(name) {
        panic!("{what}: accepted name {name:?} breaks the floor: {why}");
    }
    if let Some(c) = hostile(name) {
        panic!("{what}: accepted name {name:?} contains {c:?}");
    }
    if let Err(why) = floor(home) {
        panic!("{what}: name {name:?} got home {home:?}, which breaks the floor: {why}");
    }
    if let Some(c) = hostile(home) {
        panic!("{what}: home {home:?} of {name:?} contains {c:?}");
    }
    quoting_round_trips(name, home);
}

/// Mode 0: the default rule, exactly.
fn default_rules(name: &str) {
    let expected = default_rule(name) && floor(name).is_ok();
    let id = TenantId::new(name);
    assert_eq!(
        id.is_ok(),
        expected,
        "TenantId::new({name:?}) = {id:?}, the rule says {expected}"
    );
    if let Err(e) = &id {
        assert!(e.is_invalid_name(), "{name:?}: wrong error {e}");
    }
    assert_eq!(
        TenantId::try_from(name).ok(),
        id.as_ref().ok().cloned(),
        "try_from and new disagree on {name:?}"
    );
    let plain = &tenancies().plain;
    assert_eq!(
        plain.tenant_id(name).ok(),
        id.as_ref().ok().cloned(),
        "Tenancy::tenant_id and TenantId::new disagree on {name:?}"
    );
    let Ok(id) = id else { return };
    assert_eq!(id.as_str(), name);
    assert_eq!(id.to_string(), name);
    let home = plain
        .home_of(name)
        .unwrap_or_else(|e| panic!("home_of({name:?}): {e}"));
    assert_eq!(home, format!("tenant_{name}"));
    check_accepted(name, &home, "default rule");
    let conn = plain
        .tenant(name)
        .unwrap_or_else(|e| panic!("tenant({name:?}): {e}"));
    assert_eq!(conn.tenant(), &id);
    assert_eq!(conn.home(), home);
    let routed = conn
        .routed_sql("SELECT * FROM cake")
        .unwrap_or_else(|e| panic!("{name:?}: {e}"));
    assert_eq!(routed, format!("SELECT * FROM \"{home}\".cake"));
}

/// Modes 1 and 2: a configured rule and home template can narrow the
/// default, never open the floor.
fn configured(name: &str, config: &Config, custom: bool) {
    let tenancy = if custom {
        &tenancies().custom
    } else {
        &tenancies().templated
    };
    let rule_ok = if custom {
        custom_rule(config.rule, name).is_ok()
    } else {
        default_rule(name)
    };
    let home = template(config, name);
    let expected = rule_ok && floor(name).is_ok() && floor(&home).is_ok();
    let what = if custom { "custom rule" } else { "template" };
    let id = tenancy.tenant_id(name);
    assert_eq!(
        id.is_ok(),
        expected,
        "{what} {config:?}: tenant_id({name:?}) = {id:?}, expected {expected} (home {home:?})"
    );
    let got_home = tenancy.home_of(name);
    assert_eq!(
        got_home.as_ref().ok(),
        expected.then_some(&home),
        "{what} {config:?}: home_of({name:?})"
    );
    if expected {
        check_accepted(name, &home, what);
        let conn = tenancy
            .tenant(name)
            .unwrap_or_else(|e| panic!("tenant({name:?}): {e}"));
        assert_eq!(conn.home(), home);
    } else {
        assert!(tenancy.tenant(name).is_err(), "{what}: tenant({name:?})");
    }
}

/// Runs the name checks on one fuzz input.
pub(crate) fn tenant_name(data: &[u8]) {
    let mut bytes = Bytes::new(data);
    let mode = bytes.below(3);
    if mode == 0 {
        if let Ok(name) = std::str::from_utf8(bytes.rest()) {
            default_rules(name);
        }
        return;
    }
    let rule = bytes.u8();
    let template = bytes.u8();
    let len = bytes.below(16);
    let prefix = String::from_utf8_lossy(bytes.take(len)).into_owned();
    let len = bytes.below(8);
    let suffix = String::from_utf8_lossy(bytes.take(len)).into_owned();
    let Ok(name) = std::str::from_utf8(bytes.rest()) else {
        return;
    };
    let config = Config {
        rule,
        template,
        prefix,
        suffix,
    };
    CONFIG.with(|c| *c.borrow_mut() = config.clone());
    configured(name, &config, mode == 2);
    // Whatever the configuration, the default rule still holds for `new`.
    default_rules(name);
}
