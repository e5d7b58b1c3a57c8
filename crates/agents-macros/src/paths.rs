//! How generated code names `agents-core`: the single authority for crate paths.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};

/// The path generated code uses for `agents-core`, and the same path as a string (for
/// `#[serde(crate = "...")]`).
#[derive(Clone)]
pub(crate) struct Root {
    pub(crate) path: TokenStream,
    pub(crate) string: String,
}

impl Root {
    /// Resolves the path: an explicit `crate = "..."` override, else the dependency named
    /// `agents-core` in the calling crate's manifest (renamed or not).
    pub(crate) fn resolve(override_path: Option<&syn::Path>, span: Span) -> syn::Result<Self> {
        let path = match override_path {
            Some(path) => path.to_token_stream(),
            None => match crate_name("agents-core") {
                Ok(FoundCrate::Itself) => quote!(::agents_core),
                Ok(FoundCrate::Name(name)) => {
                    let ident = syn::Ident::new(&name, Span::call_site());
                    quote!(::#ident)
                }
                Err(error) => {
                    return Err(syn::Error::new(
                        span,
                        format!(
                            "function tools need the `agents-core` crate: add it to \
                             `[dependencies]` in Cargo.toml, or name its path with \
                             `crate = \"path::to::agents_core\"` ({error})"
                        ),
                    ));
                }
            },
        };
        let string = path.to_string().replace(' ', "");
        Ok(Self { path, string })
    }
}
