//! Parsing `#[derive(TenantScoped)]` input.

use proc_macro2::Span;
use syn::{Attribute, Data, DeriveInput, Expr, Ident, LitStr, Meta, Token, meta::ParseNestedMeta};

/// The helper attribute marking shared entities.
pub(crate) const SHARED: &str = "shared";
/// SeaORM's attribute.
pub(crate) const SEA_ORM: &str = "sea_orm";
/// The key naming the table.
pub(crate) const TABLE_NAME: &str = "table_name";
/// The key pinning a schema, which routing must own for tenant tables.
pub(crate) const SCHEMA_NAME: &str = "schema_name";
/// The marker `#[sea_orm::model]` leaves on the model it rewrote.
pub(crate) const MODEL_EX_MARKER: &str = "model_ex";

/// What the derive read from its input.
pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) input: &'a DeriveInput,
    /// `Some` unless the input is a struct.
    pub(crate) not_struct: Option<Span>,
    pub(crate) table_names: Vec<LitStr>,
    pub(crate) schema_name: Option<Span>,
    pub(crate) shared: Vec<&'a Attribute>,
}

impl<'a> Input<'a> {
    pub(crate) fn parse(input: &'a DeriveInput, errors: &mut Vec<syn::Error>) -> Self {
        let not_struct = match &input.data {
            Data::Struct(_) => None,
            Data::Enum(e) => Some(e.enum_token.span),
            Data::Union(u) => Some(u.union_token.span),
        };
        let mut parsed = Input {
            ident: &input.ident,
            input,
            not_struct,
            table_names: Vec::new(),
            schema_name: None,
            shared: Vec::new(),
        };
        for attr in &input.attrs {
            if attr.path().is_ident(SHARED) {
                parsed.shared.push(attr);
            } else if attr.path().is_ident(SEA_ORM) {
                let result = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident(TABLE_NAME) {
                        parsed.table_names.push(meta.value()?.parse()?);
                    } else {
                        if meta.path.is_ident(SCHEMA_NAME) {
                            parsed.schema_name = Some(meta.path.require_ident()?.span());
                        }
                        skip(&meta)?;
                    }
                    Ok(())
                });
                if let Err(e) = result {
                    errors.push(e);
                }
            }
        }
        parsed
    }

    /// Whether this is the `ModelEx` twin `#[sea_orm::model]` generates from
    /// a model (it inherits the model's derives and attributes).
    pub(crate) fn is_model_ex_twin(&self) -> bool {
        self.ident == "ModelEx"
            && !self.input.attrs.iter().any(|a| {
                a.path().is_ident(SEA_ORM)
                    && matches!(&a.meta, Meta::List(l) if l.tokens.to_string() == MODEL_EX_MARKER)
            })
    }
}

/// Consumes a `sea_orm` key we do not read: `key`, `key = expr`, `key(...)`.
fn skip(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _group: proc_macro2::Group = meta.input.parse()?;
    }
    Ok(())
}
