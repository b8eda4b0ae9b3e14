//! Derive macros for [`tenancy`](https://docs.rs/tenancy).
//!
//! The entry points are thin: [`ast`] parses the input, [`valid`] checks it,
//! [`expand`] writes the code. Errors are collected and reported in one
//! compile, each spanned on the offending tokens.

mod ast;
mod expand;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Marks a SeaORM model as tenant-scoped (or, with `#[shared]`, shared).
///
/// Reads the table from `#[sea_orm(table_name = "...")]` on the same struct,
/// implements `tenancy::TenantScoped`, and registers the table so a
/// `tenancy::Tenancy` routes it without further setup. Works with
/// `DeriveEntityModel` and with `#[sea_orm::model]`.
#[proc_macro_derive(TenantScoped, attributes(shared))]
pub fn derive_tenant_scoped(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
