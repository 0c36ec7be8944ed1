//! The `:` command line, k9s style: a small pure interpreter from a typed line to an
//! `Action`, and completion of command names and service names.

use crate::{
    config::SourceChoice,
    fleet::{Command, RevisionChange},
};

use super::action::{Action, Scope, ViewKind};

/// (name, aliases, what it does); the order is the completion order.
pub const COMMANDS: &[(&str, &[&str], &str)] = &[
    ("svc", &["services", "service"], "services"),
    ("tasks", &["task"], "tasks of a service: tasks [SERVICE]"),
    (
        "rollout",
        &["deployments", "deploy-status"],
        "deployments and events: rollout [SERVICE]",
    ),
    ("logs", &["log"], "logs: logs [SERVICE] [TASK]"),
    ("tools", &["tool"], "tools of a service: tools [SERVICE]"),
    (
        "resources",
        &["resource", "res"],
        "resources and templates of a service: resources [SERVICE]",
    ),
    (
        "prompts",
        &["prompt"],
        "prompts of a service: prompts [SERVICE]",
    ),
    (
        "skills",
        &["skill"],
        "skills of a service, verified by digest: skills [SERVICE]",
    ),
    (
        "drift",
        &[],
        "what differs between replicas' tools, schemas, server: drift [SERVICE]",
    ),
    ("history", &["hist"], "past calls"),
    (
        "incidents",
        &["inc"],
        "failed calls the reproducer saved; r sends one again",
    ),
    (
        "check",
        &["smoke"],
        "a file's smoke checks on every replica: check FILE [SERVICE]",
    ),
    ("stats", &["api"], "API calls and errors per operation"),
    (
        "ctx",
        &["context", "source"],
        "switch source: ctx local|static|aws",
    ),
    (
        "login",
        &["signin", "sign-in"],
        "sign in to a service's OAuth server: login [SERVICE]",
    ),
    (
        "logout",
        &["signout", "sign-out"],
        "sign out (revoke the grant): logout SERVICE|URL",
    ),
    ("auth", &["signins", "sign-ins"], "stored OAuth sign-ins"),
    ("scale", &[], "scale SERVICE N"),
    (
        "deploy",
        &[],
        "new deployment, env changed: deploy [SERVICE] [NAME=VALUE…]",
    ),
    ("rollback", &[], "roll back: rollback SERVICE"),
    ("help", &["?"], "keys and commands"),
    ("quit", &["q", "q!", "exit"], "quit"),
];

const DANGEROUS: &[&str] = &["scale", "deploy", "rollback"];

fn canonical(word: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|(name, aliases, _)| *name == word || aliases.contains(&word))
        .map(|(name, _, _)| *name)
}

/// Interprets a command line. `current` is the scope of the view it was typed in, used when
/// a command leaves the service out.
pub fn parse(line: &str, current: &Scope, read_only: bool) -> Result<Action, String> {
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else {
        return Err("empty command".into());
    };
    let name = canonical(first).ok_or_else(|| format!("unknown command `{first}` (try :help)"))?;
    if read_only && DANGEROUS.contains(&name) {
        return Err(format!("`{name}` is disabled by --read-only"));
    }
    let args: Vec<&str> = words.collect();
    let service = |i: usize| -> Result<String, String> {
        args.get(i)
            .map(|s| s.to_string())
            .or_else(|| current.service.clone())
            .ok_or_else(|| format!("{name} needs a service: :{name} SERVICE"))
    };
    let scoped = |kind| -> Result<Action, String> {
        let scope = match (args.first(), args.get(1)) {
            (Some(service), Some(task)) => Scope::task(*service, *task),
            (Some(service), None) => Scope::service(*service),
            (None, _) => current.clone(),
        };
        Ok(Action::Open(kind, scope))
    };
    match name {
        "svc" => Ok(Action::Open(ViewKind::Services, Scope::fleet())),
        "tasks" => scoped(ViewKind::Tasks),
        "rollout" => scoped(ViewKind::Rollout),
        "logs" => scoped(ViewKind::Logs),
        "tools" => scoped(ViewKind::Tools),
        "resources" => scoped(ViewKind::Resources),
        "prompts" => scoped(ViewKind::Prompts),
        "skills" => scoped(ViewKind::Skills),
        "drift" => scoped(ViewKind::Drift),
        "history" => Ok(Action::Open(ViewKind::History, Scope::fleet())),
        "incidents" => Ok(Action::Open(ViewKind::Incidents, Scope::fleet())),
        "stats" => Ok(Action::Open(ViewKind::Stats, Scope::fleet())),
        "check" => match args.first() {
            Some(file) => Ok(Action::StartCheck {
                service: args
                    .get(1)
                    .map(|s| s.to_string())
                    .or_else(|| current.service.clone())
                    .ok_or("check needs a service: :check FILE SERVICE")?,
                file: file.into(),
            }),
            None => Err("check needs a file: :check FILE [SERVICE]".into()),
        },
        "login" => Ok(Action::SignIn(service(0)?)),
        "logout" => Ok(Action::SignOut(service(0)?)),
        "auth" => Ok(Action::Open(ViewKind::Auth, Scope::fleet())),
        "help" => Ok(Action::Help),
        "quit" => Ok(Action::Quit),
        "ctx" => match args.first() {
            Some(source) => <SourceChoice as clap::ValueEnum>::from_str(source, true)
                .map(Action::SwitchSource)
                .map_err(|_| format!("no source {source}: :ctx {}", SOURCES.join("|"))),
            None => Err(format!("ctx needs a source: :ctx {}", SOURCES.join("|"))),
        },
        "scale" => {
            let (service, count) = match args.as_slice() {
                [count] => (service(99)?, *count),
                [service, count] => (service.to_string(), *count),
                _ => return Err("usage: :scale SERVICE N".into()),
            };
            let desired = count
                .parse()
                .map_err(|_| format!("`{count}` is not a task count"))?;
            Ok(Action::Confirm(Command::Scale { service, desired }))
        }
        "deploy" => {
            // The service may be left out; the variables are the words with an `=`.
            let named = args.first().filter(|word| !word.contains('='));
            let service = match named {
                Some(name) => name.to_string(),
                None => current
                    .service
                    .clone()
                    .ok_or("deploy needs a service: :deploy SERVICE [NAME=VALUE…]")?,
            };
            let mut change = RevisionChange::default();
            for word in &args[usize::from(named.is_some())..] {
                let Some((key, value)) = word.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                    return Err(format!("`{word}` is not NAME=VALUE"));
                };
                change.env.insert(key.to_string(), value.to_string());
            }
            Ok(Action::Confirm(Command::Deploy { service, change }))
        }
        "rollback" => Ok(Action::Confirm(Command::Rollback {
            service: service(0)?,
        })),
        _ => unreachable!("every canonical name is handled"),
    }
}

/// Commands that take no service, so no service name is completed after them.
const FLEET_WIDE: &[&str] = &[
    "svc",
    "help",
    "quit",
    "history",
    "incidents",
    "stats",
    "ctx",
];
/// What `:ctx` switches to.
const SOURCES: &[&str] = &["local", "static", "aws"];

/// Completions for what has been typed so far: command names for the first word, service
/// names (source names after `ctx`) for the second. `fleet_commands`: whether commands that
/// change the fleet are offered (`keys::Offered`).
pub fn complete(line: &str, services: &[String], fleet_commands: bool) -> Vec<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let typing_new_word = line.ends_with(' ') || line.is_empty();
    match (words.as_slice(), typing_new_word) {
        ([], _) | ([_], false) => {
            let prefix = words.first().copied().unwrap_or("");
            COMMANDS
                .iter()
                .map(|(name, _, _)| *name)
                .filter(|name| name.starts_with(prefix))
                .filter(|name| fleet_commands || !DANGEROUS.contains(name))
                .map(str::to_string)
                .collect()
        }
        ([command], true) | ([command, _], false) => {
            let prefix = if typing_new_word { "" } else { words[1] };
            let names: Vec<&str> = match canonical(command) {
                Some("ctx") => SOURCES.to_vec(),
                Some(c) if !FLEET_WIDE.contains(&c) => {
                    services.iter().map(String::as_str).collect()
                }
                _ => Vec::new(),
            };
            names
                .into_iter()
                .filter(|s| s.starts_with(prefix))
                .map(|s| format!("{command} {s}"))
                .collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_open_with_the_scope_given_or_the_current_one() {
        let here = Scope::service("payments");
        assert_eq!(
            parse("svc", &here, false),
            Ok(Action::Open(ViewKind::Services, Scope::fleet()))
        );
        assert_eq!(
            parse("tasks", &here, false),
            Ok(Action::Open(ViewKind::Tasks, here.clone()))
        );
        assert_eq!(
            parse("logs web 0f2a", &here, false),
            Ok(Action::Open(ViewKind::Logs, Scope::task("web", "0f2a")))
        );
        assert_eq!(
            parse("  tool  web ", &here, false),
            Ok(Action::Open(ViewKind::Tools, Scope::service("web")))
        );
        assert_eq!(parse("q", &here, false), Ok(Action::Quit));
        assert_eq!(
            parse("hist", &here, false),
            Ok(Action::Open(ViewKind::History, Scope::fleet()))
        );
        assert_eq!(
            parse("stats", &here, false),
            Ok(Action::Open(ViewKind::Stats, Scope::fleet()))
        );
    }

    #[test]
    fn ctx_names_every_source() {
        let here = Scope::fleet();
        assert_eq!(
            parse("ctx aws", &here, false),
            Ok(Action::SwitchSource(SourceChoice::Aws))
        );
        let error = parse("ctx", &here, false).unwrap_err();
        assert_eq!(error, "ctx needs a source: :ctx local|static|aws");
        let unknown = parse("ctx prod", &here, false).unwrap_err();
        assert_eq!(unknown, "no source prod: :ctx local|static|aws");
        let help = COMMANDS.iter().find(|c| c.0 == "ctx").unwrap().2;
        assert!(
            help.ends_with(&SOURCES.join("|")),
            "the help names every source: {help}"
        );
    }

    #[test]
    fn fleet_commands_go_through_confirmation() {
        let here = Scope::service("web");
        assert_eq!(
            parse("scale 5", &here, false),
            Ok(Action::Confirm(Command::Scale {
                service: "web".into(),
                desired: 5
            }))
        );
        assert_eq!(
            parse("scale api 2", &here, false),
            Ok(Action::Confirm(Command::Scale {
                service: "api".into(),
                desired: 2
            }))
        );
        assert_eq!(
            parse("rollback", &here, false),
            Ok(Action::Confirm(Command::Rollback {
                service: "web".into()
            }))
        );
        assert!(
            parse("scale many", &here, false)
                .unwrap_err()
                .contains("not a task count")
        );
        assert!(
            parse("deploy", &Scope::fleet(), false)
                .unwrap_err()
                .contains("needs a service")
        );
        let deploy = |service: &str, env: &[(&str, &str)]| {
            let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
            Ok(Action::Confirm(Command::Deploy {
                service: service.into(),
                change: RevisionChange {
                    env: env.collect(),
                    args: None,
                    image: None,
                },
            }))
        };
        assert_eq!(parse("deploy", &here, false), deploy("web", &[]));
        let faults = "MCPFLEET_FAULTS=echo:error=1.0";
        let expected = deploy("api", &[("MCPFLEET_FAULTS", "echo:error=1.0")]);
        assert_eq!(
            parse(&format!("deploy api {faults}"), &here, false),
            expected
        );
        let here_too = deploy("web", &[("A", "1"), ("B", "")]);
        assert_eq!(parse("deploy A=1 B=", &here, false), here_too);
        let error = parse("deploy web =1", &here, false).unwrap_err();
        assert_eq!(error, "`=1` is not NAME=VALUE");
    }

    #[test]
    fn read_only_refuses_fleet_commands() {
        let error = parse("scale web 3", &Scope::fleet(), true).unwrap_err();
        assert!(error.contains("--read-only"), "{error}");
        assert!(!complete("sc", &[], false).contains(&"scale".to_string()));
    }

    #[test]
    fn check_takes_a_file_and_the_service_typed_or_in_view() {
        let start = |service: &str| Action::StartCheck {
            service: service.into(),
            file: "smoke.toml".into(),
        };
        let fleet = Scope::fleet();
        assert_eq!(
            parse("check smoke.toml api", &fleet, true),
            Ok(start("api"))
        );
        let in_view = Scope::service("web");
        assert_eq!(parse("smoke smoke.toml", &in_view, false), Ok(start("web")));
        assert_eq!(
            parse("check smoke.toml", &fleet, false),
            Err("check needs a service: :check FILE SERVICE".into())
        );
        assert_eq!(
            parse("check", &in_view, false),
            Err("check needs a file: :check FILE [SERVICE]".into())
        );
    }

    #[test]
    fn unknown_commands_say_so() {
        assert_eq!(
            parse("pods", &Scope::fleet(), false),
            Err("unknown command `pods` (try :help)".into())
        );
        assert!(parse("", &Scope::fleet(), false).is_err());
    }

    #[test]
    fn completion_of_commands_and_services() {
        let services = vec!["mcpfleet-server".to_string(), "metrics".to_string()];
        assert_eq!(complete("ro", &services, true), vec!["rollout", "rollback"]);
        assert_eq!(
            complete("logs ", &services, true),
            vec!["logs mcpfleet-server", "logs metrics"]
        );
        assert_eq!(
            complete("logs mc", &services, true),
            vec!["logs mcpfleet-server"]
        );
        assert_eq!(complete("svc ", &services, true), Vec::<String>::new());
        assert_eq!(complete("stats ", &services, true), Vec::<String>::new());
        assert_eq!(complete("ctx a", &services, true), vec!["ctx aws"]);
        assert_eq!(complete("", &services, true).len(), COMMANDS.len());
    }
}
