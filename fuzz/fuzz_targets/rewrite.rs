//! The statement rewriter: never panics, and what it returns is the input
//! with table references qualified, checked against sqlparser.
#![no_main]

use tenancy_fuzz_checks as checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::rewrite(data));
