//! Writing the code for `#[derive(TenantScoped)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::{ast::Input, valid};

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Vec::new();
    let parsed = Input::parse(input, &mut errors);
    let checked = valid::check(&parsed, &mut errors);
    match (
        checked,
        errors.into_iter().reduce(|mut a, b| {
            a.combine(b);
            a
        }),
    ) {
        (Some((table, shared)), None) => expand(&parsed, &table, shared),
        (_, Some(error)) => fallback(input, error),
        (None, None) => fallback(
            input,
            syn::Error::new_spanned(&input.ident, "invalid `#[derive(TenantScoped)]` input"),
        ),
    }
}

fn scope_tokens(shared: bool) -> TokenStream {
    if shared {
        quote!(::tenancy::Scope::Shared)
    } else {
        quote!(::tenancy::Scope::Tenant)
    }
}

fn expand(parsed: &Input<'_>, table: &str, shared: bool) -> TokenStream {
    let ident = parsed.ident;
    let (impl_generics, ty_generics, where_clause) = parsed.input.generics.split_for_impl();
    let scope = scope_tokens(shared);
    // `#[sea_orm::model]` copies the derive onto `ModelEx`: implement the
    // trait there too, but register the table once.
    let register = (!parsed.is_model_ex_twin()).then(|| {
        quote! {
            ::tenancy::__private::inventory::submit! {
                ::tenancy::__private::Registration {
                    table: #table,
                    scope: #scope,
                    module: ::core::module_path!(),
                }
            }
        }
    });
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::tenancy::TenantScoped for #ident #ty_generics #where_clause {
                const TABLE_NAME: &'static str = #table;
                const SCOPE: ::tenancy::Scope = #scope;
            }
            #register
        };
    }
}

/// The errors, plus a stub impl so the user sees them and nothing else.
fn fallback(input: &DeriveInput, error: syn::Error) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let error = error.to_compile_error();
    quote! {
        #error
        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::tenancy::TenantScoped for #ident #ty_generics #where_clause {
                const TABLE_NAME: &'static str = "";
                const SCOPE: ::tenancy::Scope = ::tenancy::Scope::Tenant;
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(src: &str) -> String {
        let input: DeriveInput = syn::parse_str(src).expect("valid rust");
        derive(&input).to_string()
    }

    #[test]
    fn tenant_entity_registers_its_table() {
        let out = expand_str(r#"#[sea_orm(table_name = "posts")] pub struct Model { id: i32 }"#);
        assert!(
            out.contains(r#"const TABLE_NAME : & 'static str = "posts""#),
            "{out}"
        );
        assert!(out.contains(":: tenancy :: Scope :: Tenant"), "{out}");
        assert!(out.contains("inventory :: submit"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn shared_entity_and_other_sea_orm_keys() {
        let out = expand_str(
            r#"#[sea_orm(schema_name = "x", table_name = "plans", model_attrs(derive(Debug)))] #[shared] struct Model;"#,
        );
        assert!(out.contains(":: tenancy :: Scope :: Shared"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn model_ex_twin_is_not_registered_twice() {
        let model =
            expand_str(r#"#[sea_orm(table_name = "posts")] #[sea_orm(model_ex)] struct ModelEx;"#);
        assert!(model.contains("inventory :: submit"), "{model}");
        let twin = expand_str(r#"#[sea_orm(table_name = "posts")] struct ModelEx;"#);
        assert!(!twin.contains("inventory :: submit"), "{twin}");
        assert!(twin.contains("TenantScoped for ModelEx"), "{twin}");
    }

    #[test]
    fn all_errors_reported_at_once() {
        let out = expand_str(r#"#[shared(x)] #[shared] enum Model { A }"#);
        assert!(out.contains("not an enum"), "{out}");
        assert!(out.contains("duplicate"), "{out}");
        assert!(out.contains("takes no arguments"), "{out}");
    }
}
