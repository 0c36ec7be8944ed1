//! OAuth 2.1 for MCP servers that want it: the token store, signing in through the browser
//! and a loopback redirect, signing out with revocation, and the authorization manager a
//! connection sends its requests through. The protocol machinery is rmcp's `auth` feature;
//! this module holds what the console adds around it. Below the UI and the CLI, beside
//! `mcp`, which uses it; it imports nothing else of the crate.

pub mod browser;
pub mod redirect;
pub mod revoke;
pub mod session;
pub mod signin;
pub mod store;

pub use signin::{ClientSettings, Grant, Prompt, SignIn, SignInError, Signed, sign_in};
pub use store::{Entry, Status, TokenStore};
