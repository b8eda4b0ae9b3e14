//! Tenant-name validation: whatever a name or a custom rule says, an
//! accepted name and its home stay safe identifiers.
#![no_main]

#[allow(dead_code)]
#[path = "../src/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::tenant_name(data));
