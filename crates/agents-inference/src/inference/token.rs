//! LiveKit Inference access tokens: HS256 JWTs with the inference grant, minted per request.

use std::fmt;
use std::time::Duration;

use livekit_api::access_token::{AccessToken, InferenceGrants};

/// How long a token is valid, as in the Python framework.
pub(crate) const TOKEN_TTL: Duration = Duration::from_secs(600);

/// The identity (`sub`) of the tokens.
pub(crate) const IDENTITY: &str = "agent";

/// Mints tokens from an API key and secret.
#[derive(Clone)]
pub(crate) struct TokenMinter {
    api_key: String,
    api_secret: String,
}

impl TokenMinter {
    pub(crate) fn new(api_key: String, api_secret: String) -> Self {
        Self { api_key, api_secret }
    }

    /// A fresh token: `sub` "agent", `iss` the API key, `inference.perform`, valid 600 s.
    pub(crate) fn mint(&self) -> Result<String, String> {
        AccessToken::with_api_key(&self.api_key, &self.api_secret)
            .with_identity(IDENTITY)
            .with_inference_grants(InferenceGrants::default().with_perform())
            .with_ttl(TOKEN_TTL)
            .to_jwt()
            .map_err(|error| error.to_string())
    }
}

impl fmt::Debug for TokenMinter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenMinter").field("api_key", &"<redacted>").finish_non_exhaustive()
    }
}
