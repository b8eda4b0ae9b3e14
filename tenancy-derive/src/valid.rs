//! Checking the parsed input; every problem becomes one spanned error.

use syn::Meta;

use crate::ast::{Input, SHARED, TABLE_NAME};

/// The table name and whether the entity is shared, or every error found.
pub(crate) fn check(input: &Input<'_>, errors: &mut Vec<syn::Error>) -> Option<(String, bool)> {
    if let Some(span) = input.not_struct {
        errors.push(syn::Error::new(
            span,
            "`#[derive(TenantScoped)]` goes on a SeaORM model struct, not an enum or union",
        ));
    }
    for extra in input.shared.iter().skip(1) {
        errors.push(syn::Error::new_spanned(extra, "duplicate `#[shared]`"));
    }
    for attr in &input.shared {
        if !matches!(attr.meta, Meta::Path(_)) {
            errors.push(syn::Error::new_spanned(
                &attr.meta,
                format!("`#[{SHARED}]` takes no arguments"),
            ));
        }
    }
    for extra in input.table_names.iter().skip(1) {
        errors.push(syn::Error::new_spanned(extra, "duplicate `table_name`"));
    }
    let shared = !input.shared.is_empty();
    if let (Some(span), false) = (input.schema_name, shared) {
        errors.push(syn::Error::new(
            span,
            "a tenant-scoped entity cannot set `schema_name`: tenancy decides where its table lives \
             (mark it `#[shared]` if it is one table for everyone)",
        ));
    }
    let table = match input.table_names.first() {
        Some(lit) if lit.value().is_empty() => {
            errors.push(syn::Error::new_spanned(
                lit,
                "`table_name` must not be empty",
            ));
            None
        }
        Some(lit) => Some(lit.value()),
        None => {
            if input.not_struct.is_none() {
                errors.push(syn::Error::new(
                    input.ident.span(),
                    format!(
                        "`#[derive(TenantScoped)]` needs `#[sea_orm({TABLE_NAME} = \"...\")]` on the struct"
                    ),
                ));
            }
            None
        }
    };
    table.filter(|_| errors.is_empty()).map(|t| (t, shared))
}
