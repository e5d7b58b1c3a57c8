//! What the fuzz targets (the `fuzz/` crate) drive: the console's parsers of outside input.
//! Not public API: no stability guarantees.

pub use super::env_file::{EnvEntry, EnvLineError, EnvLineProblem, entries as env_entries};
pub use super::keys::{Control, Keys};
pub use super::lines::UserLines;
