//! `mcpfleet`: terminal operations console for MCP servers on Amazon ECS.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mcpfleet_server::ServerConfig;

#[derive(Parser)]
#[command(
    name = "mcpfleet",
    version,
    about = "Operations console for MCP servers on Amazon ECS"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run one MCP server replica in this process (what the local fleet runs).
    Serve(ServerConfig),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    let config = match cli.command {
        Some(Command::Serve(config)) => config,
        None => {
            let mut config = ServerConfig::loopback();
            config.bind = ([127, 0, 0, 1], 8080).into();
            config
        }
    };
    mcpfleet_server::logging::init();
    match runtime.block_on(mcpfleet_server::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcpfleet: {error}");
            ExitCode::FAILURE
        }
    }
}
