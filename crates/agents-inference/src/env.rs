//! Reading configuration from the environment.

/// The value of the environment variable `name`; unset, empty and non-UTF-8 values count as
/// missing (as `os.environ.get(name) or …` does in the Python framework).
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}
