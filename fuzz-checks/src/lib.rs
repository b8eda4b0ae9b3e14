//! Property checks shared by the fuzz targets (`fuzz/fuzz_targets/`) and
//! the corpus replay test (`fuzz-replay/`).
//!
//! Each entry point takes the raw fuzz input and panics when a property
//! fails, with the input spelled out in the message.
//!
//! - [`tenant_name`]: an accepted tenant name, and its home, pass the
//!   documented floor whatever the configured rule or home template; the
//!   default rule is exactly `^[a-z][a-z0-9_]{0,47}$` minus reserved names;
//!   a home quoted by the rewriter parses back to itself in every dialect.
//! - [`rewrite`]: the rewriter never panics, and on success its output is
//!   the input with table qualifiers inserted, nothing else: checked on the
//!   text, on sqlparser's AST of both, and reference by reference.

mod bytes;
mod names;
mod oracle;
mod sqlgen;

/// Runs the tenant-name property checks on one fuzz input.
pub fn tenant_name(data: &[u8]) {
    names::tenant_name(data);
}

/// Runs the rewriter property checks on one fuzz input.
pub fn rewrite(data: &[u8]) {
    let case = sqlgen::Case::from_bytes(data);
    oracle::check_case(&case);
}
