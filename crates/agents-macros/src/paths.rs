//! How generated code names the core crate (package `voice-agents-core`, library
//! `agents_core`): the single authority for crate paths.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};

/// The package generated code needs (its library is [`CORE_LIB`]).
const CORE_PACKAGE: &str = "voice-agents-core";

/// The library name of [`CORE_PACKAGE`] (`[lib] name` in its Cargo.toml): what a crate that
/// depends on the package under its own name writes in code.
const CORE_LIB: &str = "agents_core";

/// The name generated code writes after `::` for the dependency proc-macro-crate found.
/// proc-macro-crate gives a dependency under its own name as the package name with `-`
/// replaced by `_` (`voice_agents_core`), which is not the library name. (A dependency renamed
/// to exactly `voice_agents_core` is therefore taken as `agents_core` too: such a crate
/// names the path with `crate = "voice_agents_core"`.)
fn extern_name(found: &FoundCrate) -> &str {
    match found {
        // Inside agents-core, `extern crate self as agents_core;` makes the path work too.
        FoundCrate::Itself => CORE_LIB,
        FoundCrate::Name(name) if *name == CORE_PACKAGE.replace('-', "_") => CORE_LIB,
        FoundCrate::Name(name) => name,
    }
}

/// The path generated code uses for `agents-core`, and the same path as a string (for
/// `#[serde(crate = "...")]`).
#[derive(Clone)]
pub(crate) struct Root {
    pub(crate) path: TokenStream,
    pub(crate) string: String,
}

impl Root {
    /// Resolves the path: an explicit `crate = "..."` override, else the dependency on the
    /// `voice-agents-core` package in the calling crate's manifest: under its own name, the
    /// library name `::agents_core` (not the package name); renamed, the name it was given.
    pub(crate) fn resolve(override_path: Option<&syn::Path>, span: Span) -> syn::Result<Self> {
        let path = match override_path {
            Some(path) => path.to_token_stream(),
            None => match crate_name(CORE_PACKAGE) {
                Ok(found) => {
                    let ident = syn::Ident::new(extern_name(&found), Span::call_site());
                    quote!(::#ident)
                }
                Err(error) => {
                    return Err(syn::Error::new(
                        span,
                        format!(
                            "function tools need the `{CORE_PACKAGE}` crate: add \
                             `{CORE_PACKAGE} = \"0.1\"` to `[dependencies]` in Cargo.toml, or \
                             name its path with `crate = \"path::to::agents_core\"` ({error})"
                        ),
                    ));
                }
            },
        };
        let string = path.to_string().replace(' ', "");
        Ok(Self { path, string })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_under_its_own_name_is_named_by_its_library() {
        let found = FoundCrate::Name("voice_agents_core".to_owned());
        assert_eq!(extern_name(&found), "agents_core");
    }

    #[test]
    fn a_renamed_dependency_keeps_its_rename() {
        assert_eq!(extern_name(&FoundCrate::Name("lk".to_owned())), "lk");
        assert_eq!(extern_name(&FoundCrate::Name("agents_core".to_owned())), "agents_core");
    }

    #[test]
    fn the_crate_itself_is_agents_core() {
        assert_eq!(extern_name(&FoundCrate::Itself), "agents_core");
    }
}
