"""A stand-in for the `aws` CLI and the session-manager-plugin, for the tests of `mcpfleet
exec` and `forward` and the console's `e` and `f` keys. It records every argument list it is
run with (one JSON line each in $STANDIN_DIR/calls.jsonl) and plays the part ECS Exec and
Session Manager play:

- `aws ecs execute-command … --command CMD`: `exit N` exits N; with $STANDIN_DENY set it fails
  the way the CLI does when IAM is short; otherwise it says a line, reads one from stdin,
  echoes it and exits 0 — a shell a person types into.
- `aws ssm start-session --target T …`: starts the plugin (`session-manager-plugin forward`)
  and waits for it, as the CLI does. The plugin forwards 127.0.0.1:localPortNumber to the
  loopback port $STANDIN_DIR/targets.json names for T — the task's replica —, writes its
  pid to session-N.pid and a line per connection to connections-N. With $STANDIN_FIRST_SESSION_SECS the first session ends after that
  long, as a session cut by the network would.

Everything listens on and connects to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DIR = Path(os.environ["STANDIN_DIR"])


def record(kind: str, argv: list[str]) -> None:
    with open(DIR / "calls.jsonl", "a") as calls:
        calls.write(json.dumps({"program": kind, "argv": argv}) + "\n")


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def execute_command(argv: list[str]) -> int:
    command = option(argv, "--command") or ""
    if os.environ.get("STANDIN_DENY"):
        print(
            "An error occurred (AccessDeniedException) when calling the ExecuteCommand "
            "operation: User is not authorized to perform ecs:ExecuteCommand",
            file=sys.stderr,
        )
        return 254
    if command.startswith("exit "):
        print(f"stand-in ran {command!r} in {option(argv, '--container')}")
        return int(command.split()[1])
    print(f"stand-in shell in {option(argv, '--container')}: type a line", flush=True)
    line = sys.stdin.readline().strip()
    print(f"stand-in shell read {line!r}; bye", flush=True)
    time.sleep(0.3)
    return 0


def start_session(argv: list[str]) -> int:
    target = option(argv, "--target")
    ports = json.loads((DIR / "targets.json").read_text())
    if target not in ports:
        print(f"An error occurred (TargetNotConnected): {target} is not connected.", file=sys.stderr)
        return 254
    parameters = json.loads(option(argv, "--parameters") or "{}")
    local = parameters["localPortNumber"][0]
    session = sum(1 for _ in (DIR / "sessions").glob("*")) + 1 if (DIR / "sessions").is_dir() else 1
    (DIR / "sessions").mkdir(exist_ok=True)
    (DIR / "sessions" / str(session)).write_text(target)
    plugin = subprocess.run(
        ["session-manager-plugin", "forward", str(ports[target]), local, str(session)]
    )
    return plugin.returncode


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def forward(remote: int, local: int, session: int) -> int:
    async def connected(reader, writer):
        with open(DIR / f"connections-{session}", "a") as connections:
            connections.write("accepted\n")
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", remote)
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(connected, "127.0.0.1", local, reuse_address=True)
    (DIR / f"session-{session}.pid").write_text(str(os.getpid()))
    print(f"Port {local} opened for sessionId stand-in-{session}.", flush=True)
    print("Waiting for connections...", flush=True)
    first = os.environ.get("STANDIN_FIRST_SESSION_SECS")
    async with server:
        if session == 1 and first:
            await asyncio.sleep(float(first))
            return 0
        await server.serve_forever()
    return 0


def main() -> int:
    kind, argv = sys.argv[1], sys.argv[2:]
    record(kind, argv)
    if kind == "plugin":
        if argv[:1] == ["forward"]:
            return asyncio.run(forward(int(argv[1]), int(argv[2]), int(argv[3])))
        print("The Session Manager plugin was installed successfully.")
        return 0
    if argv[:2] == ["ecs", "execute-command"]:
        return execute_command(argv)
    if argv[:2] == ["ssm", "start-session"]:
        return start_session(argv)
    print(f"stand-in aws: unexpected arguments {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
