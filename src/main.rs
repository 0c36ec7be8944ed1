//! `mcpfleet`: terminal operations console for MCP servers on Amazon ECS.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mcpfleet::sources::local::child;
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
    Serve(Box<ServerConfig>),
    /// Runs a configured command of the local fleet and ties its life to the console's.
    #[command(name = "__child", hide = true)]
    Child(child::ChildArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Child(args)) = cli.command {
        return child::run(args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    let config = match cli.command {
        Some(Command::Serve(config)) => {
            child::arm_parent_death();
            *config
        }
        Some(Command::Child(_)) => unreachable!("handled above"),
        None => {
            let mut config = ServerConfig::loopback();
            config.bind = ([127, 0, 0, 1], 8080).into();
            config
        }
    };
    let _logs = mcpfleet_server::logging::init();
    match runtime.block_on(mcpfleet_server::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcpfleet: {error}");
            ExitCode::FAILURE
        }
    }
}
