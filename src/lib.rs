//! `mcpfleet`, the console: fleet model, sources (local, AWS, static), the MCP client pool, and
//! the command-line interface. The terminal UI lives in `ui/`; nothing outside it touches the
//! terminal.

#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod fleet;
pub mod inert;
pub mod mcp;
pub mod oauth;
pub mod reach;
pub mod signals;
pub mod sigv4;
pub mod sources;
pub mod ui;
