//! One error collector for the three macros: every mistake is reported, each on its own token.

use std::fmt::Display;

use proc_macro2::{Span, TokenStream};

/// The errors found so far, combined into one `syn::Error` (reported together).
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Records `error`.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(existing) => existing.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Records an error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// The value of `result`, or `None` after recording its error.
    pub(crate) fn ok<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// Records every error of `other`.
    pub(crate) fn append(&mut self, other: Self) {
        if let Some(error) = other.combined {
            self.push(error);
        }
    }

    /// Whether no error was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// The errors as `compile_error!` invocations (nothing when there are none).
    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.combined.as_ref().map(syn::Error::to_compile_error).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_error() {
        let mut errors = Errors::default();
        assert!(errors.is_empty());
        assert!(errors.to_compile_errors().is_empty());
        errors.at(Span::call_site(), "first");
        assert_eq!(errors.ok::<u8>(Err(syn::Error::new(Span::call_site(), "second"))), None);
        assert_eq!(errors.ok::<u8>(Ok(7)), Some(7));
        let mut more = Errors::default();
        more.at(Span::call_site(), "third");
        errors.append(more);
        let text = errors.to_compile_errors().to_string();
        assert_eq!(text.matches("compile_error").count(), 3, "{text}");
        for message in ["first", "second", "third"] {
            assert!(text.contains(message), "{text}");
        }
    }
}
