//! Doc comments as descriptions.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Expr, Lit, Meta};

/// A description assembled from doc comments.
pub(crate) enum Doc {
    /// All lines were literals: the joined text.
    Text(String),
    /// Some line is a macro (`#[doc = include_str!(..)]`): a `concat!` expression.
    Expr(TokenStream),
}

impl Doc {
    /// Whether the description is known to be empty.
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Self::Text(text) if text.is_empty())
    }

    pub(crate) fn to_tokens(&self) -> TokenStream {
        match self {
            Self::Text(text) => quote!(#text),
            Self::Expr(expr) => expr.clone(),
        }
    }
}

/// Whether `attr` is a doc comment (`/// ...` or `#[doc = ...]`).
pub(crate) fn is_doc(attr: &Attribute) -> bool {
    attr.path().is_ident("doc")
}

/// The text of the doc comments among `attrs`: one leading space stripped from each line
/// (so markdown indentation survives), lines joined with `\n`, blank lines trimmed at both
/// ends. `None` when there are no doc comments.
pub(crate) fn collect(attrs: &[Attribute]) -> Option<Doc> {
    let mut lines: Vec<Result<String, Expr>> = Vec::new();
    for attr in attrs.iter().filter(|attr| is_doc(attr)) {
        let Meta::NameValue(name_value) = &attr.meta else { continue };
        match &name_value.value {
            Expr::Lit(syn::ExprLit { lit: Lit::Str(text), .. }) => {
                for line in text.value().split('\n') {
                    let line = line.strip_prefix(' ').unwrap_or(line);
                    lines.push(Ok(line.trim_end().to_owned()));
                }
            }
            other => lines.push(Err(other.clone())),
        }
    }
    if lines.is_empty() {
        return None;
    }
    if lines.iter().all(Result::is_ok) {
        let text: Vec<String> = lines.into_iter().flatten().collect();
        let joined = text.join("\n");
        return Some(Doc::Text(joined.trim_matches('\n').trim().to_owned()));
    }
    let mut parts = Vec::with_capacity(lines.len() * 2);
    for (index, line) in lines.into_iter().enumerate() {
        if index > 0 {
            parts.push(quote!("\n"));
        }
        parts.push(match line {
            Ok(text) => quote!(#text),
            Err(expr) => quote!(#expr),
        });
    }
    Some(Doc::Expr(quote!(::core::concat!(#(#parts),*))))
}
