//! Tenant-name validation: whatever a name or a custom rule says, an
//! accepted name and its home stay safe identifiers.
#![no_main]

use tenancy_fuzz_checks as checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::tenant_name(data));
