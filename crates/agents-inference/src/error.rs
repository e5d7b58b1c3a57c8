//! What can go wrong when a model client is built.

use agents_core::llm::LlmError;

use crate::inference::ModelStringError;

/// A model client could not be built: a missing credential, a bad URL or header value, or an
/// HTTP client that could not be set up. Fix the configuration; retrying won't help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A credential was neither given nor found in the environment.
    #[error(
        "{what} is missing: set {} in the environment, or pass it to `{setter}` \
         (see docs/src/troubleshooting.md#credentials)",
        .variables.join(" or ")
    )]
    MissingCredential {
        /// What is missing, e.g. "the OpenAI API key".
        what: &'static str,
        /// The environment variables that are read for it, in order.
        variables: &'static [&'static str],
        /// The builder method that sets it.
        setter: &'static str,
    },
    /// The base URL is not an absolute `http` or `https` URL.
    #[error("invalid base URL `{url}`: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value cannot be sent as an HTTP header.
    #[error("invalid value for the HTTP header `{name}`: {reason}")]
    InvalidHeader {
        /// The header's name.
        name: &'static str,
        /// What is wrong with the value.
        reason: String,
    },
    /// An access token could not be minted from the API key and secret.
    #[error("cannot create an access token: {reason}")]
    Token {
        /// Why.
        reason: String,
    },
    /// The model string does not fit its grammar (empty, with whitespace, or an empty
    /// provider or model).
    #[error(transparent)]
    InvalidModel(#[from] ModelStringError),
    /// The HTTP client could not be set up (TLS configuration, certificates).
    #[error("cannot set up the HTTP client: {reason}")]
    HttpClient {
        /// Why.
        reason: String,
    },
}

impl From<ConfigError> for LlmError {
    fn from(error: ConfigError) -> Self {
        LlmError::configuration(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_credential_names_the_variables_and_the_setter() {
        let error = ConfigError::MissingCredential {
            what: "the LiveKit API key",
            variables: &["LIVEKIT_INFERENCE_API_KEY", "LIVEKIT_API_KEY"],
            setter: "inference::LlmBuilder::api_key",
        };
        assert_eq!(
            error.to_string(),
            "the LiveKit API key is missing: set LIVEKIT_INFERENCE_API_KEY or LIVEKIT_API_KEY \
             in the environment, or pass it to `inference::LlmBuilder::api_key` (see \
             docs/src/troubleshooting.md#credentials)"
        );
    }
}
