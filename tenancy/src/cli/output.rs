//! What the command line prints: error chains with secrets masked, the
//! report of a run over every tenant, drift.

use std::{process::ExitCode, time::Instant};

use crate::{
    migrate::{MigrationOutcome, MigrationReport},
    tenant::{MigrationState, TenantStatus},
};

/// The password of the database URL, in every form an error may quote it.
#[derive(Debug, Default)]
pub(super) struct Secrets {
    /// `(secret, replacement)`, longest first.
    masks: Vec<(String, String)>,
}

impl Secrets {
    /// The secrets of `url`: the URL itself, and its password raw and
    /// percent-decoded.
    pub(super) fn new(url: Option<&str>) -> Self {
        let Some(url) = url else {
            return Secrets::default();
        };
        let Some(password) = password(url) else {
            return Secrets::default();
        };
        let mut masks = Vec::new();
        if !password.is_empty() {
            let masked = url.replacen(&format!(":{password}@"), ":***@", 1);
            masks.push((url.to_owned(), masked));
            let decoded = percent_decode(password);
            if decoded != password && !decoded.is_empty() {
                masks.push((decoded, "***".to_owned()));
            }
            masks.push((password.to_owned(), "***".to_owned()));
        }
        masks.sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
        Secrets { masks }
    }

    /// `text` with every secret replaced.
    pub(super) fn mask(&self, text: &str) -> String {
        self.masks
            .iter()
            .fold(text.to_owned(), |text, (secret, mask)| {
                text.replace(secret, mask)
            })
    }
}

/// The password in `scheme://user:password@host/...`, if any.
fn password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    // As URL parsers read it: the authority ends at the first `/`, `?` or
    // `#`, its userinfo at the last `@` in it.
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password)
}

/// `%XX` sequences decoded; anything else (and invalid UTF-8) kept.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// `err` and every cause under it on one line, `: `-separated; a cause
/// already quoted by the message above it is not repeated.
pub(super) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How a tenant stands: `current`, `behind` (pending versions), `ahead`
/// (versions the migrator does not know) or `diverged` (both).
pub(super) fn drift(state: &MigrationState) -> &'static str {
    match (state.pending.is_empty(), state.unknown.is_empty()) {
        (true, true) => "current",
        (false, true) => "behind",
        (true, false) => "ahead",
        (false, false) => "diverged",
    }
}

/// `2 suspended tenants skipped: a, b`, or `None` when there are none.
pub(super) fn skipped_line(status: TenantStatus, names: &[&str]) -> Option<String> {
    let plural = match names.len() {
        0 => return None,
        1 => "",
        _ => "s",
    };
    Some(format!(
        "{} {} tenant{plural} skipped: {}",
        names.len(),
        status.as_str(),
        names.join(", ")
    ))
}

/// Prints one line per tenant (a failure with its whole cause) and the
/// totals; failure when any tenant did not succeed.
pub(super) fn print_report(
    report: &MigrationReport,
    started: Instant,
    secrets: &Secrets,
) -> ExitCode {
    for t in &report.tenants {
        match &t.outcome {
            MigrationOutcome::Ok { changed } => {
                println!("ok      {}  {}", t.tenant, changed.join(", "))
            }
            MigrationOutcome::Failed {
                error,
                last_applied,
            } => println!(
                "FAILED  {}  {} (last applied: {})",
                t.tenant,
                secrets.mask(&chain(error)),
                last_applied.as_deref().unwrap_or("none")
            ),
            MigrationOutcome::Skipped => println!("skipped {}", t.tenant),
        }
    }
    let ok = report
        .tenants
        .iter()
        .filter(|t| matches!(t.outcome, MigrationOutcome::Ok { .. }))
        .count();
    let failed = report.failed().count();
    let skipped = report.tenants.len() - ok - failed;
    let pace = match report.concurrency {
        0 => String::new(),
        n => format!(", {n} at a time"),
    };
    println!(
        "tenants: {ok} ok, {failed} failed, {skipped} skipped in {:.2?}{pace}",
        started.elapsed()
    );
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_raw_and_decoded() {
        let url = "postgres://app:p%40ss%2Fw0rd@db.example:5432/app?sslmode=require";
        let secrets = Secrets::new(Some(url));
        let text = format!("cannot connect to {url}: password p@ss/w0rd or p%40ss%2Fw0rd");
        let masked = secrets.mask(&text);
        assert!(!masked.contains("w0rd"), "{masked}");
        assert!(masked.contains("postgres://app:***@db.example:5432/app"));
    }

    #[test]
    fn urls_without_a_password_mask_nothing() {
        for url in [
            "sqlite://./a.db?mode=rwc",
            "postgres://postgres@127.0.0.1/x",
            "mysql://root:@127.0.0.1/x",
            "postgres://h/x?email=a@b:c",
        ] {
            let secrets = Secrets::new(Some(url));
            assert_eq!(secrets.mask("postgres root a b"), "postgres root a b");
        }
    }

    #[test]
    fn chains_skip_repeated_causes() {
        let inner = std::io::Error::other("disk full");
        let err = crate::error::Error::Migration {
            tenant: "acme".to_owned(),
            source: Box::new(crate::error::Error::Db(sea_orm::DbErr::Custom(format!(
                "write failed: {inner}"
            )))),
        };
        assert_eq!(
            chain(&err),
            "migration of tenant acme failed: Custom Error: write failed: disk full"
        );
    }
}
