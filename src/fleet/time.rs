//! Serde helpers: times as RFC 3339 strings in `--json` output.

use std::time::SystemTime;

use serde::Serializer;

pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

pub fn serialize<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(*time))
}

pub mod option {
    use std::time::SystemTime;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(
        time: &Option<SystemTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.serialize_str(&super::rfc3339(*time)),
            None => serializer.serialize_none(),
        }
    }
}
