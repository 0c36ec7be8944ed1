//! `mcpfleet`: terminal operations console for MCP servers on Amazon ECS.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use mcpfleet::{
    cli::{self, Cli, Command},
    sources::local::child,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Child(args)) = cli.command {
        return child::run(args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    match cli.command {
        Some(Command::Serve(config)) => {
            child::arm_parent_death();
            let _logs = mcpfleet_server::logging::init();
            match runtime.block_on(mcpfleet_server::serve(*config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("mcpfleet: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(command) => cli::exit::code(runtime.block_on(cli::run(cli.global, command))),
        None => match runtime.block_on(cli::tui::run(&cli.global, cli.service.clone())) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("mcpfleet: {}", error.message);
                cli::exit::code(error.code)
            }
        },
    }
}
