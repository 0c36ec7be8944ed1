//! Standalone server binary for the container image. `healthcheck` is the container health
//! check, so the image needs no curl.

use std::{process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use mcpfleet_server::ServerConfig;

// Every request allocates dozens of small buffers across the runtime's threads; glibc's
// allocator spends more time on that than any single part of a tool call does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mcpfleet-server",
    version,
    about = "MCP ops toolbox server for Amazon ECS"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: ServerConfig,
}

#[derive(Subcommand)]
enum Command {
    /// Exit 0 when this host's server answers GET /healthz with 200 within 2 s, else 1.
    Healthcheck {
        /// URL to probe; defaults to http://127.0.0.1:<port of --bind>/healthz.
        #[arg(long)]
        url: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    match cli.command {
        Some(Command::Healthcheck { url }) => {
            let url = url
                .unwrap_or_else(|| format!("http://127.0.0.1:{}/healthz", cli.config.bind.port()));
            runtime.block_on(healthcheck(&url))
        }
        None => {
            let _logs = mcpfleet_server::logging::init();
            match runtime.block_on(mcpfleet_server::serve(cli.config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("mcpfleet-server: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn healthcheck(url: &str) -> ExitCode {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build();
    let response = match client {
        Ok(client) => client.get(url).send().await,
        Err(error) => Err(error),
    };
    match response {
        Ok(response) if response.status().is_success() => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!("unhealthy: {url} answered {}", response.status());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("unhealthy: {url}: {error}");
            ExitCode::FAILURE
        }
    }
}
