//! From a parsed command line to the command that runs it, and from its result to the exit
//! code.

use super::{
    AuthCommand, Cli, CliError, Command, GlobalArgs, RolloutCommand, app, bench, browse, call,
    check, deploy, doctor, drift, elicit, exit, follow, history, login, logs, ls, reach, replay,
    repro, rollout, skills, streams, tools,
};

fn named(service: Option<String>, global: &GlobalArgs, command: &str) -> Result<String, CliError> {
    match (service, &global.url) {
        (Some(service), _) => Ok(service),
        (None, Some(_)) => Ok(String::new()),
        (None, None) => Err(CliError::new(
            exit::USAGE,
            format!("{command} needs SERVICE (or --url URL)"),
        )),
    }
}

/// SERVICE TOOL [KEY=VALUE…] (with --url: TOOL [KEY=VALUE…]), or None having said what is
/// missing.
fn service_tool(
    words: &[String],
    global: &GlobalArgs,
    command: &str,
) -> Option<(String, String, Vec<String>)> {
    match (words, &global.url) {
        ([tool, pairs @ ..], Some(_)) => Some((String::new(), tool.clone(), pairs.to_vec())),
        ([service, tool, pairs @ ..], None) => {
            Some((service.clone(), tool.clone(), pairs.to_vec()))
        }
        _ => {
            eprintln!("mcpfleet: {command} needs SERVICE and TOOL (or --url URL and TOOL)");
            None
        }
    }
}

/// Runs a one-shot command to completion, or until a signal ends it; returns the exit code.
pub async fn run(global: GlobalArgs, command: Command) -> u8 {
    tokio::select! {
        code = run_command(global, command) => code,
        _ = crate::signals::interrupted() => exit::INTERRUPTED,
    }
}

async fn run_command(global: GlobalArgs, command: Command) -> u8 {
    let result = match command {
        Command::Ls { json } => ls::run(&global, json).await.map(|()| exit::OK),
        Command::Tools {
            service,
            task,
            json,
        } => match named(service, &global, "tools") {
            Ok(service) => tools::run(&global, &service, task.as_deref(), json)
                .await
                .map(|()| exit::OK),
            Err(error) => Err(error),
        },
        Command::Drift { service, json } => drift::run(&global, service.as_deref(), json).await,
        Command::Streams {
            service,
            watch_for,
            idle_timeout,
            json,
        } => {
            let args = streams::StreamsArgs {
                service,
                watch_for,
                idle_timeout,
                json,
            };
            streams::run(&global, args).await
        }
        Command::Call {
            words,
            args_json,
            task,
            all_tasks,
            timeout,
            on_elicit,
            elicit_json,
            no_check,
            log_level,
            output,
            output_format,
            json,
        } => {
            let Some((service, tool, pairs)) = service_tool(&words, &global, "call") else {
                return exit::USAGE;
            };
            let answers = match elicit_json.as_deref().map(elicit::Answers::read) {
                None => None,
                Some(Ok(answers)) => Some(answers),
                Some(Err(message)) => {
                    eprintln!("mcpfleet: {message}");
                    return exit::USAGE;
                }
            };
            let args = call::CallArgs {
                no_check,
                log_level,
                output: browse::Output {
                    file: output,
                    format: output_format,
                },
                elicit: elicit::Policy::from_flags(on_elicit, answers, json),
                service,
                tool,
                args_json,
                pairs,
                task,
                all_tasks,
                timeout,
                json,
            };
            call::run(&global, args).await
        }
        Command::Repro {
            words,
            args_json,
            calls,
            concurrency,
            task,
            spread,
            force,
            timeout,
            json,
        } => {
            let Some((service, tool, pairs)) = service_tool(&words, &global, "repro") else {
                return exit::USAGE;
            };
            let args = repro::ReproArgs {
                service,
                tool,
                args_json,
                pairs,
                calls,
                concurrency,
                task,
                spread,
                force,
                timeout,
                json,
            };
            repro::run(&global, args).await
        }
        Command::Bench {
            words,
            args_json,
            concurrency,
            duration,
            calls,
            rate,
            task,
            stateless,
            force,
            timeout,
            json,
        } => {
            let Some((service, tool, pairs)) = service_tool(&words, &global, "bench") else {
                return exit::USAGE;
            };
            let args = bench::BenchArgs {
                service,
                tool,
                args_json,
                pairs,
                concurrency,
                duration,
                calls,
                rate,
                task,
                stateless,
                force,
                timeout,
                json,
            };
            bench::run(&global, args).await
        }
        Command::Check {
            file,
            service,
            junit,
            force,
            timeout,
            json,
        } => match named(service, &global, "check") {
            Ok(service) => {
                let args = check::CheckArgs {
                    file,
                    service,
                    junit,
                    force,
                    timeout,
                    json,
                };
                check::run(&global, args).await
            }
            Err(error) => Err(error),
        },
        Command::Replay { file, task, json } => replay::replay(&global, &file, task, json).await,
        Command::History {
            grep,
            service,
            limit,
            json,
        } => match grep.as_deref().map(regex::Regex::new).transpose() {
            Ok(grep) => history::run(&history::HistoryArgs {
                grep,
                service,
                limit,
                json,
            }),
            Err(error) => Err(CliError::new(exit::USAGE, format!("--grep: {error}"))),
        },
        Command::Resources {
            service,
            task,
            json,
        } => match named(service, &global, "resources") {
            Ok(service) => browse::resources(&global, &service, task.as_deref(), json).await,
            Err(error) => Err(error),
        },
        Command::Prompts {
            service,
            task,
            json,
        } => match named(service, &global, "prompts") {
            Ok(service) => browse::prompts(&global, &service, task.as_deref(), json).await,
            Err(error) => Err(error),
        },
        Command::Read {
            words,
            task,
            json,
            output,
            output_format,
            follow,
            count,
        } => match (words.as_slice(), &global.url) {
            ([uri], Some(_)) | ([_, uri], None) if follow => {
                let service = if global.url.is_some() { "" } else { &words[0] };
                follow::run(&global, service, uri, task.as_deref(), json, count).await
            }
            ([uri], Some(_)) => {
                let output = browse::Output {
                    file: output,
                    format: output_format,
                };
                browse::read(&global, "", uri, task.as_deref(), json, output).await
            }
            ([service, uri], None) => {
                let output = browse::Output {
                    file: output,
                    format: output_format,
                };
                browse::read(&global, service, uri, task.as_deref(), json, output).await
            }
            _ => Err(CliError::new(
                exit::USAGE,
                "read needs SERVICE and URI (or --url URL and URI)",
            )),
        },
        Command::Prompt { words, task, json } => {
            let split = match (words.as_slice(), &global.url) {
                ([name, pairs @ ..], Some(_)) => {
                    Some((String::new(), name.clone(), pairs.to_vec()))
                }
                ([service, name, pairs @ ..], None) => {
                    Some((service.clone(), name.clone(), pairs.to_vec()))
                }
                _ => None,
            };
            match split {
                Some((service, name, pairs)) => {
                    browse::prompt(&global, &service, &name, &pairs, task.as_deref(), json).await
                }
                None => Err(CliError::new(
                    exit::USAGE,
                    "prompt needs SERVICE and NAME (or --url URL and NAME)",
                )),
            }
        }
        Command::Complete {
            words,
            prompt,
            resource_template,
            context,
            task,
            json,
        } => {
            let reference = match (prompt, resource_template) {
                (Some(name), _) => crate::mcp::Completing::Prompt(name),
                (None, Some(uri)) => crate::mcp::Completing::ResourceTemplate(uri),
                (None, None) => unreachable!("clap requires one"),
            };
            let asked = browse::Completion {
                reference,
                context,
                json,
            };
            browse::complete(&global, &words, task.as_deref(), asked).await
        }
        Command::App {
            words,
            open,
            task,
            json,
        } => {
            let args = app::AppArgs {
                words,
                task,
                open,
                json,
            };
            app::run(&global, args).await
        }
        Command::Skills {
            words,
            verify,
            task,
            json,
        } => {
            let args = skills::SkillsArgs {
                words,
                task,
                verify,
                json,
            };
            skills::run(&global, args).await
        }
        Command::Doctor {
            service,
            task,
            json,
        } => match named(service, &global, "doctor") {
            Ok(service) => doctor::run(&global, &service, task.as_deref(), json).await,
            Err(error) => Err(error),
        },
        Command::Logs {
            service,
            task,
            follow,
            grep,
        } => {
            let grep = match grep.map(|re| regex::Regex::new(&re)) {
                Some(Err(error)) => {
                    eprintln!("mcpfleet: --grep: {error}");
                    return exit::USAGE;
                }
                other => other.map(Result::unwrap),
            };
            let filter = logs::LogFilter {
                service,
                task,
                grep,
            };
            logs::run(&global, filter, follow).await.map(|()| exit::OK)
        }
        Command::Login {
            service,
            relogin,
            json,
        } => login::login(&global, service.as_deref(), relogin, json).await,
        Command::Logout { service, all } => login::logout(&global, service.as_deref(), all).await,
        Command::Auth {
            command: AuthCommand::Status { json },
        } => login::status(json),
        Command::Deploy {
            service,
            image,
            force,
            env,
            wait,
            timeout,
            json,
        } => match deploy::change(image, env, force) {
            Ok(change) => {
                let command = crate::fleet::Command::Deploy { service, change };
                let order = deploy::Order {
                    command,
                    wait,
                    timeout,
                    json,
                };
                deploy::run(&global, order).await
            }
            Err(error) => Err(error),
        },
        Command::Rollback {
            service,
            wait,
            timeout,
            json,
        } => {
            let command = crate::fleet::Command::Rollback { service };
            let order = deploy::Order {
                command,
                wait,
                timeout,
                json,
            };
            deploy::run(&global, order).await
        }
        Command::Rollout {
            command:
                RolloutCommand::Wait {
                    service,
                    timeout,
                    json,
                },
        } => rollout::wait(&global, &service, timeout, json).await,
        Command::Exec {
            service,
            task,
            container,
            command,
        } => {
            reach::exec(
                &global,
                &service,
                task.as_deref(),
                container.as_deref(),
                &command,
            )
            .await
        }
        Command::Forward {
            service,
            task,
            local_port,
        } => reach::forward(&global, &service, task.as_deref(), local_port).await,
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "mcpfleet",
                &mut std::io::stdout(),
            );
            Ok(exit::OK)
        }
        Command::Serve(_) | Command::Child(_) => unreachable!("handled by main"),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("mcpfleet: {}", error.message);
            error.code
        }
    }
}
