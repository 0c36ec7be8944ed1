//! Exit codes of the non-interactive commands; documented in README.md, so scripts can rely
//! on them.

use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// The tool ran and returned `isError: true` (for `--all-tasks`: on at least one task).
pub const TOOL_ERROR: u8 = 1;
/// Bad usage: unknown flag, malformed `--args`, arguments that fail the tool's schema.
pub const USAGE: u8 = 2;
/// Could not reach the endpoint, or the server answered with a protocol error.
pub const CONNECTION: u8 = 3;
/// The configuration file or the source could not be loaded.
pub const CONFIG: u8 = 4;
/// No such service, task or tool, or no task is ready to serve the call.
pub const NOT_FOUND: u8 = 5;
/// The call timed out or was cancelled.
pub const TIMEOUT: u8 = 6;
/// The server wants an OAuth sign-in that this command may not start (no terminal, or
/// `--json`, without `--login` or `$BROWSER`), or the sign-in failed: denied, timed out,
/// unusable metadata, an authorization server that is not who it says, no PKCE.
pub const AUTH: u8 = 7;
/// `--read-only` refused the call before sending it: the tool is annotated destructive
/// (`destructiveHint: true`); `deploy`/`rollback` under `--read-only`, or on the fleet of a
/// console running `--read-only`; or refused `exec`, which runs commands in a task.
pub const READ_ONLY: u8 = 8;
/// `skills NAME`: the skill's manifest breaks the extension's rules, or (`--verify`) a file of
/// it does not match the manifest (size or sha256 digest) or could not be read.
pub const INTEGRITY: u8 = 9;
/// `drift`: the replicas of at least one service present different surfaces (tools, schemas,
/// server, protocol or capabilities).
pub const DRIFT: u8 = 10;
/// `check`: a check failed on at least one replica (the output names the replicas).
pub const CHECK_FAILED: u8 = 11;
/// `doctor`: a step of the connection failed (the step and what to check are printed).
pub const DIAGNOSIS: u8 = 12;
/// `rollout wait`: the deployment waited on failed (circuit breaker, deployment alarm); the
/// reason and the revision rolled back to are printed.
pub const ROLLOUT_FAILED: u8 = 13;
/// `streams`: a replica's SSE stream went (or is going) without a byte for longer than the
/// idle timeout in front of it, which would cut it (the replica and what to change are printed).
pub const STREAM_WARNING: u8 = 14;
/// `deploy`/`rollback`: the source refused the change or failed to make it (the reason is
/// printed): an image on the local fleet, static servers, an ECS API error.
pub const REFUSED: u8 = 15;
/// `exec`, `forward`: something they need is missing — the AWS source, the `aws` CLI or the
/// session-manager-plugin on PATH, ECS Exec on the task (`enableExecuteCommand`), a RUNNING
/// ExecuteCommandAgent in the container (the line printed names which).
pub const PREREQUISITE: u8 = 16;
/// A signal ended the command: 128 + SIGINT, as shells report it.
pub const INTERRUPTED: u8 = 130;

pub fn code(value: u8) -> ExitCode {
    ExitCode::from(value)
}
