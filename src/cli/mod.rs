//! The non-interactive commands (`ls`, `tools`, `drift`, `doctor`, `call`, `repro`, `bench`,
//! `check`, `streams`, `history`, `resources`, `read`, `prompts`, `prompt`, `complete`, `logs`,
//! `completions`, `deploy`, `rollback`, `rollout wait`), their clap
//! definitions and documented exit codes. Human output is aligned tables; `--json` output is
//! the stable, documented form.

pub mod app;
pub mod bench;
pub mod browse;
pub mod call;
pub mod check;
pub mod deploy;
mod dispatch;
pub mod doctor;
pub mod drift;
pub mod elicit;
pub mod exit;
mod fan_out;
pub mod follow;
mod global;
pub mod history;
pub mod login;
pub mod logs;
pub mod ls;
mod outcome;
mod probed;
pub mod reach;
pub mod replay;
pub mod repro;
pub mod rollout;
pub mod skills;
pub mod source;
pub mod streams;
pub mod table;
pub mod tools;
pub mod tui;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use global::{AwsArgs, GlobalArgs, OAuthArgs, ProtocolEra};

use crate::sources::local::child;

#[derive(Parser)]
#[command(
    name = "mcpfleet",
    version,
    about = "Operations console for MCP servers on Amazon ECS",
    long_about = "Operations console for MCP servers on Amazon ECS. Without a subcommand it \
                  watches the fleet; with no configuration that is an embedded local fleet of \
                  three mcpfleet-server replicas."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Open the console on this service's tasks (over several clusters, `CLUSTER/SERVICE`);
    /// on AWS it is read first.
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// List services and tasks with health and in-flight calls.
    Ls {
        /// Print the fleet snapshot as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the tools of a service (one of its ready tasks, or --task).
    Tools {
        /// Service name (not needed with --url, which may come before or after `tools`).
        service: Option<String>,
        /// Task id or prefix.
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Compare what the replicas of each service (or of SERVICE) present — tools, schemas,
    /// descriptions, annotations, server name and version, protocol, capabilities — and say
    /// what differs between them. Exits 10 when any service drifts.
    Drift {
        /// Only this service.
        service: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Watch each ready replica's SSE streams for a while: streams open and re-opened, the
    /// keep-alive seen, and a warning (exit 14) where a stream is silent for longer than the
    /// idle timeout of the load balancer or Service Connect in front.
    Streams {
        /// Only this service.
        service: Option<String>,
        /// How long to watch, e.g. 20s or 2m: longer than the servers' keep-alive.
        #[arg(long = "for", value_name = "DURATION", default_value = "20s",
              value_parser = humantime::parse_duration)]
        watch_for: std::time::Duration,
        /// The idle timeout in front of the replicas, e.g. 60s (default: the config file's
        /// `[streams]`, else 300s, Service Connect's for HTTP).
        #[arg(long, value_name = "DURATION", value_parser = nonzero_duration)]
        idle_timeout: Option<std::time::Duration>,
        #[arg(long)]
        json: bool,
    },
    /// Call a tool: `mcpfleet call SERVICE TOOL key=value …` or `--args '{…}'`.
    Call {
        /// SERVICE TOOL, then arguments as KEY=VALUE (with --url: TOOL, then arguments).
        /// Values are JSON when they parse, else strings; a string property always gets text.
        #[arg(required = true, value_name = "SERVICE TOOL [KEY=VALUE]")]
        words: Vec<String>,
        /// Arguments as one JSON object (pairs are merged over it).
        #[arg(long = "args", value_name = "JSON")]
        args_json: Option<String>,
        /// Call this task (id or prefix) instead of any ready one.
        #[arg(long, conflicts_with = "all_tasks")]
        task: Option<String>,
        /// Call every ready task once and show each outcome.
        #[arg(long)]
        all_tasks: bool,
        /// Seconds without a result or progress before giving up (default 60).
        #[arg(long)]
        timeout: Option<f64>,
        /// How to answer a server that asks for input mid-call — a form, a page to open, a
        /// model's reply (sampling, which a person writes: nothing here calls a model).
        /// Default: ask on a terminal, decline with --json or without one.
        #[arg(long, value_enum)]
        on_elicit: Option<elicit::OnElicit>,
        /// Send the arguments without checking them against the tool's inputSchema (to see
        /// how the server itself answers bad input).
        #[arg(long)]
        no_check: bool,
        /// Ask the server for log lines of this level and above with the call; they are
        /// printed on stderr after the result (and kept in --json's `logs`).
        #[arg(long, value_name = "LEVEL",
              value_parser = clap::builder::PossibleValuesParser::new(crate::mcp::LOG_LEVELS))]
        log_level: Option<String>,
        /// Write the result to this file instead of printing it.
        #[arg(long, value_name = "FILE", conflicts_with = "all_tasks")]
        output: Option<PathBuf>,
        /// `json`: the whole outcome as --json prints it; `raw`: the decoded bytes of the
        /// result's one image, audio or blob block.
        #[arg(long, value_enum, default_value = "json", requires = "output")]
        output_format: browse::OutputFormat,
        /// Answer the server's questions from this JSON file: a form's answer as one object
        /// (`{"name": "Ada"}`), or `{"form": {…}, "sampling": {"reply": "TEXT"}}` with either
        /// part or both. An answer that does not fit the form is not sent (exit 2); a question
        /// the file has no answer for is declined.
        #[arg(long, value_name = "FILE", conflicts_with = "on_elicit")]
        elicit_json: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The same call many times, a few at once, to find the flaky replica: per replica the
    /// calls, failures by kind, failure rate with its 95 % confidence interval and latency
    /// quantiles; the replica that stands out is named, and the first failure of each kind
    /// is saved as an incident file (see `replay`). Exit 1 when a call failed.
    Repro {
        /// SERVICE TOOL, then arguments as KEY=VALUE (with --url: TOOL, then arguments).
        #[arg(required = true, value_name = "SERVICE TOOL [KEY=VALUE]")]
        words: Vec<String>,
        /// Arguments as one JSON object (pairs are merged over it).
        #[arg(long = "args", value_name = "JSON")]
        args_json: Option<String>,
        /// How many calls.
        #[arg(short = 'n', long = "calls", default_value_t = 200)]
        calls: usize,
        /// How many calls at once.
        #[arg(short = 'c', long, default_value_t = 8)]
        concurrency: usize,
        /// Every call to this task (id or prefix).
        #[arg(long, conflicts_with = "spread")]
        task: Option<String>,
        /// Each call pinned to the next ready task in turn, so every replica gets its share.
        #[arg(long)]
        spread: bool,
        /// Send a tool its server does not annotate readOnlyHint or idempotentHint.
        #[arg(long)]
        force: bool,
        /// Seconds without a result or progress before a call counts as a timeout (default 60).
        #[arg(long)]
        timeout: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// A load run: many workers call one tool at once for a while (or a number of calls), at
    /// full speed or a set rate; calls per second, latency quantiles and a latency histogram,
    /// overall and per replica. Workers open their MCP session (or, with --stateless, learn
    /// the protocol once per endpoint) before the measured window; request ids are unique.
    /// Exit 1 when a call failed.
    Bench {
        /// SERVICE TOOL, then arguments as KEY=VALUE (with --url: TOOL, then arguments).
        #[arg(required = true, value_name = "SERVICE TOOL [KEY=VALUE]")]
        words: Vec<String>,
        /// Arguments as one JSON object (pairs are merged over it).
        #[arg(long = "args", value_name = "JSON")]
        args_json: Option<String>,
        /// Workers, each with one call in flight.
        #[arg(short = 'c', long, default_value_t = 32)]
        concurrency: usize,
        /// How long to measure, e.g. 30s or 2m (default 10s unless --calls is given).
        #[arg(short = 'd', long, value_parser = humantime::parse_duration)]
        duration: Option<std::time::Duration>,
        /// Stop after this many calls.
        #[arg(short = 'n', long = "calls")]
        calls: Option<u64>,
        /// Calls per second over all workers (default: as fast as answers come).
        #[arg(long, value_parser = positive)]
        rate: Option<f64>,
        /// Every call to this task (id or prefix); default: every ready task its share.
        #[arg(long)]
        task: Option<String>,
        /// Hold no session: every request stands alone (2025-11-25 servers that issue no
        /// session, or 2026-07-28).
        #[arg(long)]
        stateless: bool,
        /// Send a tool its server does not annotate readOnlyHint or idempotentHint.
        #[arg(long)]
        force: bool,
        /// Seconds one call may take before it counts as a timeout (default 60).
        #[arg(long)]
        timeout: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// An incident file's call sent again (to any ready task, or --task), and what changed:
    /// outcome, replica, HTTP status, result, latency.
    Replay {
        /// An incident file written by `repro`.
        file: PathBuf,
        /// Send it to this task (id or prefix) instead of any ready one.
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Smoke checks, a post-deploy gate: each call of a TOML check file on every ready replica
    /// of SERVICE, its answer held to the file's expectations (outcome, JSON pointer equals or
    /// matches, latency budget). Exit 10 when a check fails on a replica, which is named.
    Check {
        /// The check file: `[[check]]` tables with `name`, `tool`, `args`, `outcome`,
        /// `latency_ms` and `[[check.expect]]` (`pointer` with `equals` or `matches`).
        file: PathBuf,
        /// Service name (not needed with --url).
        service: Option<String>,
        /// Also write a JUnit XML report here (`-` for stdout): a testsuite per check, a
        /// testcase per replica.
        #[arg(long, value_name = "PATH")]
        junit: Option<PathBuf>,
        /// Call tools annotated destructiveHint: true (on every replica).
        #[arg(long)]
        force: bool,
        /// Seconds without a result or progress before a call counts as timed out (default
        /// 60).
        #[arg(long)]
        timeout: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// The calls made from the console and by `call`, newest first, kept across restarts in
    /// the history file (~/.local/state/mcpfleet/history.jsonl, the last 2,000 calls at most).
    History {
        /// Only calls where this regular expression matches the service, tool, arguments
        /// (as JSON), summary or serving task id.
        #[arg(long, value_name = "RE")]
        grep: Option<String>,
        /// Only calls of this service.
        #[arg(long)]
        service: Option<String>,
        /// At most this many calls (the newest).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Print the calls as JSON, each with its wire record.
        #[arg(long)]
        json: bool,
    },
    /// List a service's resources and resource templates.
    Resources {
        /// Service name (not needed with --url).
        service: Option<String>,
        /// Task id or prefix.
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Read a resource: `mcpfleet read SERVICE URI` (with --url: URI).
    Read {
        #[arg(required = true, value_name = "SERVICE URI")]
        words: Vec<String>,
        /// Task id or prefix.
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
        /// Write the contents to this file instead of printing them.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// `json`: the whole result; `raw`: the decoded bytes of its one blob or text.
        #[arg(long, value_enum, default_value = "json", requires = "output")]
        output_format: browse::OutputFormat,
        /// Subscribe to the resource and print it again each time the server says it was
        /// updated (a `# updated …` line on stderr before each; with --json one result per
        /// line), until Ctrl-C or --count updates.
        #[arg(long, short, conflicts_with = "output")]
        follow: bool,
        /// With --follow: stop after this many updates.
        #[arg(long, value_name = "N", requires = "follow")]
        count: Option<u64>,
    },
    /// List a service's prompts.
    Prompts {
        /// Service name (not needed with --url).
        service: Option<String>,
        /// Task id or prefix.
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Get a prompt: `mcpfleet prompt SERVICE NAME key=value …` (with --url: NAME …).
    Prompt {
        #[arg(required = true, value_name = "SERVICE NAME [KEY=VALUE]")]
        words: Vec<String>,
        /// Task id or prefix.
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Ask the server which values an argument may take (`completion/complete`):
    /// `mcpfleet complete SERVICE --prompt NAME ARG [VALUE]` or
    /// `--resource-template URI_TEMPLATE ARG [VALUE]` (with --url: no SERVICE). Prints the
    /// values one per line in the server's order (a note on stderr when it has more); --json
    /// prints the server's `completion` object: `{"values": [...], "total": N, "hasMore": B}`.
    Complete {
        #[arg(required = true, value_name = "SERVICE ARG [VALUE]")]
        words: Vec<String>,
        /// Complete an argument of this prompt.
        #[arg(long, value_name = "NAME", conflicts_with = "resource_template")]
        prompt: Option<String>,
        /// Complete a variable of this resource template (its URI template).
        #[arg(long, value_name = "URI_TEMPLATE", required_unless_present = "prompt")]
        resource_template: Option<String>,
        /// Another argument's value, KEY=VALUE (repeatable), which the server may narrow by.
        #[arg(long = "context", value_name = "KEY=VALUE")]
        context: Vec<String>,
        /// Task id or prefix.
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A tool's App UI (MCP Apps): `mcpfleet app SERVICE TOOL` (with --url: TOOL) reads the
    /// tool's `ui://` resource and prints its URI, MIME type, size, content security policy
    /// and permissions; `--open` writes the HTML to a private file and opens it in the browser.
    App {
        #[arg(required = true, value_name = "SERVICE TOOL")]
        words: Vec<String>,
        /// Write the UI's HTML to a private temp file and open it with $BROWSER.
        #[arg(long)]
        open: bool,
        /// Task id or prefix.
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a service's skills (the io.modelcontextprotocol/skills extension), or show one
    /// skill's manifest: `mcpfleet skills SERVICE [NAME|URI]` (with --url: no SERVICE).
    /// `--verify` reads every file of the manifest and checks its size and sha256 digest,
    /// one line per file; exit 9 when any does not match.
    Skills {
        #[arg(value_name = "SERVICE [NAME|URI]")]
        words: Vec<String>,
        /// Read every file of the skill and check it against the manifest.
        #[arg(long)]
        verify: bool,
        /// Task id or prefix.
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Check the connection to a service's task (--task, else a ready one, else any running
    /// one) or to --url step by step: DNS, TCP, TLS (https), HTTP to the MCP path, /healthz,
    /// the MCP handshake, tools/list; each with its latency and, for the step that failed,
    /// what to check. Exit 10 when a step failed.
    Doctor {
        /// Service name (not needed with --url).
        service: Option<String>,
        /// Task id or prefix.
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run a command in a task's container through ECS Exec (AWS source): `mcpfleet exec
    /// SERVICE -- CMD…`, or a shell without CMD. Needs the aws CLI v2, the
    /// session-manager-plugin and enableExecuteCommand; exits with the command's exit code,
    /// 15 when a prerequisite is missing.
    Exec {
        service: String,
        /// Task id or prefix (default: a ready task).
        #[arg(long)]
        task: Option<String>,
        /// Container name (default: the one serving MCP).
        #[arg(long)]
        container: Option<String>,
        /// The command to run, after `--` (default: /bin/sh).
        #[arg(last = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Forward a local port to a task's MCP port through Session Manager (AWS source), and
    /// print the local MCP URL; the session is started again when it ends, until Ctrl-C.
    Forward {
        service: String,
        /// Task id or prefix (default: a ready task).
        #[arg(long)]
        task: Option<String>,
        /// Local port (default: a free one).
        #[arg(long)]
        local_port: Option<u16>,
    },
    /// Show the tasks' log lines.
    Logs {
        service: Option<String>,
        /// Only this task (id or prefix).
        #[arg(long)]
        task: Option<String>,
        /// Keep streaming until interrupted.
        #[arg(long, short)]
        follow: bool,
        /// Only lines matching this regular expression.
        #[arg(long)]
        grep: Option<String>,
    },
    /// Sign in to an OAuth-protected service (or --url) through the browser.
    Login {
        service: Option<String>,
        /// Forget the stored credentials first and sign in afresh.
        #[arg(long)]
        relogin: bool,
        #[arg(long)]
        json: bool,
    },
    /// Sign out: revoke the grant where the authorization server offers it, and forget it.
    Logout {
        service: Option<String>,
        /// Every stored sign-in.
        #[arg(long, conflicts_with = "service")]
        all: bool,
    },
    /// Stored sign-ins.
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
    /// Deploy SERVICE: a new revision with another image (--image, ECS) or environment
    /// (--env), or a new deployment of the current revision (--force). Says which deployment
    /// started; with --wait follows it like `rollout wait`: exit 0 once the new revision is
    /// deployed, 13 when it fails (and rolls back), 6 at the timeout. On the local fleet a
    /// console must be running: the command acts on its fleet.
    Deploy {
        service: String,
        /// The service container's new image (ECS: a new task definition revision).
        #[arg(long, value_name = "URI")]
        image: Option<String>,
        /// A new deployment of the current revision.
        #[arg(long, conflicts_with = "image")]
        force: bool,
        /// Set an environment variable in the new revision (repeatable).
        #[arg(long = "env", value_name = "NAME=VALUE", value_parser = deploy::name_value)]
        env: Vec<(String, String)>,
        /// Follow the rollout until it ends.
        #[arg(long)]
        wait: bool,
        /// With --wait: how long to wait, e.g. 10m.
        #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = nonzero_duration)]
        timeout: std::time::Duration,
        /// Print what started (with --wait: the outcome) as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Roll SERVICE back to the revision of its last completed deployment; with --wait follow
    /// the rollout like `rollout wait`.
    Rollback {
        service: String,
        /// Follow the rollout until it ends.
        #[arg(long)]
        wait: bool,
        /// With --wait: how long to wait, e.g. 10m.
        #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = nonzero_duration)]
        timeout: std::time::Duration,
        /// Print what started (with --wait: the outcome) as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// A service's rollout.
    Rollout {
        #[command(subcommand)]
        command: RolloutCommand,
    },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Run one MCP server replica in this process (what the local fleet runs).
    Serve(Box<mcpfleet_server::ServerConfig>),
    /// Runs a configured command of the local fleet and ties its life to the console's.
    #[command(name = "__child", hide = true)]
    Child(child::ChildArgs),
}

#[derive(Subcommand)]
pub enum RolloutCommand {
    /// Wait until the service's rollout ends: a line per change with each revision's calls/s,
    /// error rate and p99; exit 0 once the new revision is deployed and no old task runs, 13
    /// when the deployment fails (circuit breaker, deployment alarm) with why and the revision
    /// rolled back to, 6 at the timeout.
    Wait {
        service: String,
        /// How long to wait, e.g. 10m.
        #[arg(long, value_name = "DURATION", default_value = "10m",
              value_parser = humantime::parse_duration)]
        timeout: std::time::Duration,
        /// Print the outcome as JSON on stdout (the lines go to stderr).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum AuthCommand {
    /// Which servers have credentials, from which issuer, with which scopes, until when.
    Status {
        #[arg(long)]
        json: bool,
    },
}

/// A failure of a command: what to print and which exit code to leave with.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

pub use dispatch::run;

/// A duration above zero.
fn nonzero_duration(text: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(text) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        Ok(_) => Err("must be longer than 0s".into()),
        Err(error) => Err(format!("{text:?}: {error}")),
    }
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}
