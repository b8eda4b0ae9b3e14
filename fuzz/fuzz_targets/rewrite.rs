//! The statement rewriter: never panics, and what it returns is the input
//! with table references qualified, checked against sqlparser.
#![no_main]

#[allow(dead_code)]
#[path = "../src/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::rewrite(data));
