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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(attrs: &[Attribute]) -> Option<String> {
        match collect(attrs)? {
            Doc::Text(text) => Some(text),
            Doc::Expr(expr) => Some(format!("expr: {expr}")),
        }
    }

    #[test]
    fn joins_lines() {
        let attrs: Vec<Attribute> = vec![
            syn::parse_quote!(#[doc = ""]),
            syn::parse_quote!(#[doc = " Get the weather."]),
            syn::parse_quote!(#[doc = ""]),
            syn::parse_quote!(#[doc = "   - indented item  "]),
            syn::parse_quote!(#[inline]),
            syn::parse_quote!(#[doc = ""]),
        ];
        assert_eq!(text(&attrs).as_deref(), Some("Get the weather.\n\n  - indented item"));
    }

    #[test]
    fn block_comment() {
        let attrs: Vec<Attribute> = vec![syn::parse_quote!(#[doc = "\n First.\n Second.\n"])];
        assert_eq!(text(&attrs).as_deref(), Some("First.\nSecond."));
    }

    #[test]
    fn none_and_empty() {
        assert_eq!(text(&[syn::parse_quote!(#[inline])]), None);
        let empty = collect(&[syn::parse_quote!(#[doc = "  "])]);
        assert!(empty.is_some_and(|doc| doc.is_empty()));
    }

    #[test]
    fn macro_lines_make_an_expression() {
        let attrs: Vec<Attribute> = vec![
            syn::parse_quote!(#[doc = " Intro."]),
            syn::parse_quote!(#[doc = include_str!("tool.md")]),
        ];
        let doc = collect(&attrs);
        assert!(doc.as_ref().is_some_and(|doc| !doc.is_empty()));
        let tokens = doc.map(|doc| doc.to_tokens().to_string()).unwrap_or_default();
        assert!(tokens.starts_with(":: core :: concat !"), "{tokens}");
        assert!(tokens.contains("\"Intro.\""), "{tokens}");
        assert!(tokens.contains("include_str !"), "{tokens}");
    }
}
