//! The checks of the documentation against the workspace.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod anchors;
mod commands;
mod dependencies;
mod features;
mod markdown;
mod workspace;
