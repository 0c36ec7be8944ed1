//! Backends that discover a fleet and act on it; each implements `fleet::Source`.

pub mod aws;
pub mod local;
pub mod metrics_text;
pub mod static_source;
