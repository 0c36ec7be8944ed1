//! Backends that discover a fleet and act on it; each implements `fleet::Source`.

pub mod local;
pub mod static_source;
