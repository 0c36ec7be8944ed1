//! What the call view's copy keys put on the clipboard: the result (ctrl-y), the same call as
//! an `mcpfleet call` command (ctrl-k) and as a `curl` POST to the task (ctrl-u). Words are
//! quoted for a POSIX shell, so the copied text pastes and runs as it is.

use serde_json::{Value, json};

use super::field::pretty;
use crate::{
    fleet::SourceKind,
    mcp::{CallOutcome, Target},
};

/// The first protocol without `initialize`: every request stands alone.
const STATELESS_PROTOCOL: &str = "2026-07-28";

/// What ctrl-y copies: the text blocks, else the structured result as pretty JSON, else the
/// whole content as JSON; the error for a call that failed.
pub fn copy_text(outcome: &CallOutcome) -> String {
    match &outcome.result {
        Ok(result) => {
            let text = result.text();
            match &result.structured_content {
                Some(value) if text.trim().is_empty() => pretty(value),
                _ if text.is_empty() => {
                    pretty(&serde_json::to_value(&result.content).unwrap_or_default())
                }
                _ => text,
            }
        }
        Err(error) => error.to_string(),
    }
}

/// A word as a POSIX shell reads it back: bare when that is safe, else in single quotes.
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn has_arguments(arguments: &Value) -> bool {
    arguments.as_object().is_some_and(|o| !o.is_empty())
}

/// `mcpfleet call SERVICE TOOL --args '{…}' [--task T]`, with the source when it is not the
/// default one.
pub fn cli_command(
    source: SourceKind,
    service: &str,
    tool: &str,
    arguments: &Value,
    target: &Target,
) -> String {
    let mut words = vec!["mcpfleet".to_string()];
    match source {
        SourceKind::Local => {}
        SourceKind::Aws => words.push("--source aws".into()),
        SourceKind::Static => words.push("--source static".into()),
    }
    words.extend(["call", service, tool].map(shell_quote));
    if has_arguments(arguments) {
        words.push("--args".into());
        words.push(shell_quote(&arguments.to_string()));
    }
    if let Target::Task(task) = target {
        words.push("--task".into());
        words.push(shell_quote(task));
    }
    words.join(" ")
}

/// A `tools/call` POST to `url` the way a stateless client sends it. Servers older than
/// 2026-07-28 may keep sessions; the copied text then says what to send first.
pub fn curl_command(url: &str, tool: &str, arguments: &Value, protocol: &str) -> String {
    let stateless = protocol >= STATELESS_PROTOCOL;
    let mut params = json!({"name": tool});
    if has_arguments(arguments) {
        params["arguments"] = arguments.clone();
    }
    if stateless {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": protocol,
            "io.modelcontextprotocol/clientCapabilities": {},
        });
    }
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#);
    let mut headers = vec![
        "Content-Type: application/json".to_string(),
        "Accept: application/json, text/event-stream".to_string(),
    ];
    if !protocol.is_empty() {
        headers.push(format!("MCP-Protocol-Version: {protocol}"));
    }
    if stateless {
        headers.push("Mcp-Method: tools/call".into());
        headers.push(format!("Mcp-Name: {tool}"));
    }
    let mut parts = vec![format!("curl -sS -X POST {}", shell_quote(url))];
    parts.extend(headers.iter().map(|h| format!("-H {}", shell_quote(h))));
    parts.push(format!("--data-raw {}", shell_quote(&body)));
    let command = parts.join(" \\\n  ");
    if stateless {
        return command;
    }
    let version = if protocol.is_empty() {
        "unknown"
    } else {
        protocol
    };
    format!(
        "# protocol {version}: a server in session mode needs initialize first (POST initialize,\n\
         # then notifications/initialized) and the Mcp-Session-Id header it returned:\n\
         #   -H 'Mcp-Session-Id: <id>'\n{command}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(shell_quote("echo"), "echo");
        assert_eq!(shell_quote("mcpfleet-server"), "mcpfleet-server");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's $HOME"), r"'it'\''s $HOME'");
        assert_eq!(shell_quote(r#"{"a":1}"#), r#"'{"a":1}'"#);
    }

    #[test]
    fn cli_command_names_args_and_task() {
        let args = json!({"message": "it's me"});
        assert_eq!(
            cli_command(SourceKind::Local, "svc", "echo", &args, &Target::AnyReady),
            r#"mcpfleet call svc echo --args '{"message":"it'\''s me"}'"#
        );
        assert_eq!(
            cli_command(
                SourceKind::Aws,
                "my svc",
                "whoami",
                &json!({}),
                &Target::Task("0f2ab1c9".into())
            ),
            "mcpfleet --source aws call 'my svc' whoami --task 0f2ab1c9"
        );
    }

    #[test]
    fn curl_for_a_stateless_server() {
        let command = curl_command(
            "http://127.0.0.1:41010/mcp",
            "echo",
            &json!({"message": "o'k"}),
            "2026-07-28",
        );
        assert_eq!(
            command,
            "curl -sS -X POST http://127.0.0.1:41010/mcp \\\n  \
             -H 'Content-Type: application/json' \\\n  \
             -H 'Accept: application/json, text/event-stream' \\\n  \
             -H 'MCP-Protocol-Version: 2026-07-28' \\\n  \
             -H 'Mcp-Method: tools/call' \\\n  \
             -H 'Mcp-Name: echo' \\\n  \
             --data-raw '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":\
             {\"_meta\":{\"io.modelcontextprotocol/clientCapabilities\":{},\
             \"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"},\
             \"arguments\":{\"message\":\"o'\\''k\"},\"name\":\"echo\"}}'"
        );
    }

    #[test]
    fn curl_for_an_older_server_says_to_initialize() {
        let command = curl_command("http://h/mcp", "whoami", &json!({}), "2025-11-25");
        assert!(command.starts_with("# protocol 2025-11-25: a server in session mode"));
        assert!(command.contains("-H 'MCP-Protocol-Version: 2025-11-25'"));
        assert!(!command.contains("Mcp-Method"));
        assert!(command.ends_with(
            r#"--data-raw '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}'"#
        ));
    }
}
