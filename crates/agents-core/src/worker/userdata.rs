//! `Userdata`: the typed map a process's setup function fills (Python's `proc.userdata`).

use std::any::{Any, type_name};
use std::collections::HashMap;
use std::fmt;

use super::error::UserdataError;

/// A map from names to values of any type (Python's `proc.userdata` dict), filled by the
/// setup function and read by jobs.
///
/// Values are stored with their type; [`get`](Self::get) returns a value only as the type it
/// was inserted with.
///
/// ```
/// use agents_core::worker::Userdata;
///
/// let mut userdata = Userdata::default();
/// userdata.insert("greeting", String::from("Hello!"));
/// assert_eq!(userdata.get::<String>("greeting").map(String::as_str), Some("Hello!"));
/// assert!(userdata.get::<u32>("greeting").is_none()); // another type
/// assert!(userdata.try_get::<String>("vad").is_err()); // missing: the error says what to do
/// ```
#[derive(Default)]
pub struct Userdata {
    entries: HashMap<String, Entry>,
}

struct Entry {
    value: Box<dyn Any + Send + Sync>,
    type_name: &'static str,
}

impl Userdata {
    /// Stores `value` under `key`, replacing any value there (Python's
    /// `proc.userdata[key] = value`).
    pub fn insert<T: Any + Send + Sync>(&mut self, key: impl Into<String>, value: T) {
        let entry = Entry { value: Box::new(value), type_name: type_name::<T>() };
        self.entries.insert(key.into(), entry);
    }

    /// The value under `key`, if there is one and it is a `T`.
    pub fn get<T: Any>(&self, key: &str) -> Option<&T> {
        self.entries.get(key).and_then(|entry| entry.value.downcast_ref())
    }

    /// The value under `key`, mutably, if there is one and it is a `T`.
    pub fn get_mut<T: Any>(&mut self, key: &str) -> Option<&mut T> {
        self.entries.get_mut(key).and_then(|entry| entry.value.downcast_mut())
    }

    /// The value under `key` (Python's `proc.userdata[key]`); the error says whether it is
    /// missing or of another type, for `?` in an entrypoint.
    pub fn try_get<T: Any>(&self, key: &str) -> Result<&T, UserdataError> {
        let entry =
            self.entries.get(key).ok_or_else(|| UserdataError::Missing { key: key.to_owned() })?;
        entry.value.downcast_ref().ok_or_else(|| UserdataError::WrongType {
            key: key.to_owned(),
            expected: type_name::<T>(),
            actual: entry.type_name,
        })
    }

    /// Removes the value under `key` and returns it, if it is a `T` (a value of another type
    /// stays).
    pub fn remove<T: Any>(&mut self, key: &str) -> Option<T> {
        if !self.entries.get(key)?.value.is::<T>() {
            return None;
        }
        let entry = self.entries.remove(key)?;
        entry.value.downcast().ok().map(|value| *value)
    }

    /// Whether there is a value under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The keys, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Debug for Userdata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut entries: Vec<_> = self.entries.iter().collect();
        entries.sort_by_key(|(key, _)| *key);
        f.debug_map()
            .entries(entries.into_iter().map(|(key, entry)| (key, entry.type_name)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn typed_access() {
        let mut userdata = Userdata::default();
        userdata.insert("count", 3_u32);
        assert_eq!(userdata.get::<u32>("count"), Some(&3));
        assert_eq!(userdata.get::<i64>("count"), None);
        *userdata.get_mut::<u32>("count").unwrap() += 1;
        assert_eq!(userdata.try_get::<u32>("count").unwrap(), &4);
        assert_eq!(userdata.remove::<i64>("count"), None);
        assert!(userdata.contains_key("count"));
        assert_eq!(userdata.remove::<u32>("count"), Some(4));
        assert!(userdata.is_empty());
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let mut userdata = Userdata::default();
        userdata.insert("vad", 1_u8);
        let wrong = userdata.try_get::<String>("vad").unwrap_err().to_string();
        assert!(wrong.contains("`u8`") && wrong.contains("`alloc::string::String`"), "{wrong}");
        let missing = userdata.try_get::<u8>("stt").unwrap_err().to_string();
        assert!(missing.contains("setup_fnc") && missing.contains("\"stt\""), "{missing}");
        assert_eq!(format!("{userdata:?}"), r#"{"vad": "u8"}"#);
    }
}
