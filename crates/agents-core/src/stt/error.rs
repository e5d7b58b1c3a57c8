//! What can go wrong with speech recognition.

/// A failed speech-to-text request or stream: an [`ApiError`](crate::ApiError), the error of
/// every remote model (Python's `APIError` family). Match on
/// [`kind`](crate::ApiError::kind) for what went wrong.
pub type SttError = crate::ApiError;
