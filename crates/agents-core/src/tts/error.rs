//! What can go wrong with speech synthesis.

/// A failed text-to-speech request or stream: an [`ApiError`](crate::ApiError), the error of
/// every remote model (Python's `APIError` family). Match on
/// [`kind`](crate::ApiError::kind) for what went wrong.
pub type TtsError = crate::ApiError;
