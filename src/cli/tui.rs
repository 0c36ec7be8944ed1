//! `mcpfleet` without a subcommand: the terminal console over the configured source, with the
//! console's own log going to a file in the XDG state directory, never to the screen.

use std::path::PathBuf;

use crate::{config::SourceChoice, ui};

use super::{CliError, GlobalArgs, exit, source};

/// `~/.local/state/mcpfleet/mcpfleet.log` (or the platform's equivalent).
pub fn log_path() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "mcpfleet")?;
    let dir = dirs
        .state_dir()
        .unwrap_or_else(|| dirs.data_local_dir())
        .to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("mcpfleet.log"))
}

const SECRET_BEARING_TARGETS: &[&str] = &[
    "aws_sigv4=warn",
    "aws_smithy_runtime=info",
    "aws_smithy_runtime_api=info",
    "aws_smithy_http_client=info",
    "aws_config=info",
    "hyper=info",
    "hyper_util=info",
    "h2=info",
    "reqwest=info",
    "rmcp=info",
];

fn init_file_log(path: &PathBuf) {
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MCPFLEET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Below these levels the SDK and HTTP crates log signed requests and headers — session
    // tokens and bearer tokens among them — so no MCPFLEET_LOG setting reaches them.
    let filter = SECRET_BEARING_TARGETS
        .iter()
        .fold(filter, |filter, directive| {
            filter.add_directive(directive.parse().expect("a valid log directive"))
        });
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}

pub async fn run(global: &GlobalArgs, service: Option<String>) -> Result<(), CliError> {
    let log_file = log_path();
    if let Some(path) = &log_file {
        init_file_log(path);
    }
    let opened = source::open_for_console(global)?;
    let options = ui::UiOptions {
        read_only: global.read_only,
        log_capacity: opened.config.ui.log_buffer_lines,
        log_file: log_file.clone(),
        oauth: opened.config.oauth.clone(),
        era: global.era(),
        roots: opened.config.roots.declared(),
        history_file: super::history::file_path(),
        incidents_dir: super::repro::incidents_dir(),
        idle_timeouts: opened.config.streams.clone(),
        open_service: service,
        aws_cli: {
            let aws = source::aws_settings(&opened.config, global);
            crate::reach::AwsCli {
                profile: aws.profile,
                region: aws.region,
                endpoint_url: aws.endpoint_url,
            }
        },
    };
    // `:ctx` opens another source with the same flags; it never ends the console.
    let open = |choice: SourceChoice| {
        let global = GlobalArgs {
            source: Some(choice),
            url: None,
            ..global.clone()
        };
        source::open_for_console(&global)
            .map(|opened| opened.handle)
            .map_err(|error| format!(":ctx {}: {}", choice.name(), error.message))
    };
    ui::run(opened.handle, options, &open)
        .await
        .map_err(|error| CliError::new(exit::CONNECTION, format!("terminal: {error}")))
}
