"""The driver of benches/load.sh: starts the replicas, runs each load client in turn as a
child process, reads its own report, takes its CPU time from the kernel (wait4), and prints
the table. Every address is loopback."""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

MESSAGE = "hello from the load bench"
BODY = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": MESSAGE}},
    },
    separators=(",", ":"),
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(mode):
    port = free_port()
    proc = subprocess.Popen(
        [os.environ["LOAD_SERVER"], "--bind", f"127.0.0.1:{port}", "--mode", mode],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"load bench: mcpfleet-server ({mode}) did not become healthy")


def run(argv):
    """Runs a client; returns its stdout, stderr, exit code and the CPU seconds it used (user +
    system). Both streams go to files: a client that writes much to one while the other is
    read would otherwise stall on a full pipe."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (out.read().decode(), err.read().decode(errors="replace"), proc.returncode,
                usage.ru_utime + usage.ru_stime)


def mcpfleet(url, conc, seconds, stateless):
    argv = [os.environ["LOAD_MCPFLEET"], "--config", "/dev/null", "--url", url, "bench", "echo",
            f"message={MESSAGE}", "-c", str(conc), "-d", f"{seconds}s", "--json"]
    if stateless:
        argv.append("--stateless")
    out, err, code, cpu = run(argv)
    if code not in (0, 1):
        sys.exit(f"load bench: mcpfleet bench failed ({code}): {err}")
    report = json.loads(out)
    return {
        "calls": report["calls"],
        "failures": report["failures"],
        "per_sec": report["calls_per_sec"],
        "p50": report["latency"]["p50_ms"],
        "p99": report["latency"]["p99_ms"],
        "cpu": cpu,
    }


def oha(url, conc, seconds):
    argv = [os.environ["LOAD_OHA"], "-c", str(conc), "-z", f"{seconds}s", "--no-tui",
            "--output-format", "json", "-m", "POST",
            "-H", "Content-Type: application/json",
            "-H", "Accept: application/json, text/event-stream",
            "-H", "MCP-Protocol-Version: 2025-11-25", "-d", BODY, url]
    out, err, code, cpu = run(argv)
    if code != 0:
        sys.exit(f"load bench: oha failed ({code}): {err}")
    report = json.loads(out)
    statuses = report.get("statusCodeDistribution", {})
    ok = statuses.get("200", 0)
    return {
        "calls": sum(statuses.values()),
        "failures": sum(n for s, n in statuses.items() if s != "200"),
        "per_sec": ok / report["summary"]["total"],
        "p50": report["latencyPercentiles"]["p50"] * 1000,
        "p99": report["latencyPercentiles"]["p99"] * 1000,
        "cpu": cpu,
    }


def inspector(url, conc, seconds):
    argv = [os.environ["LOAD_NODE"], os.environ["LOAD_INSPECTOR"], "--cli", url,
            "--method", "tools/call", "--tool-name", "echo",
            "--tool-args-json", json.dumps({"message": MESSAGE}),
            "--load", "--load-concurrency", str(conc), "--load-duration", str(seconds),
            "--format", "json"]
    out, err, code, cpu = run(argv)
    if code != 0:
        sys.exit(f"load bench: MCP Inspector failed ({code}): {err or out}")
    result = json.loads(out)["result"]
    return {
        "calls": result["requests"],
        "failures": result["toolErrors"] + result["errors"],
        "per_sec": result["throughput"],
        "p50": result["latencyMs"]["p50"],
        "p99": result["latencyMs"]["p99"],
        "cpu": cpu,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--conc", type=int, default=32)
    args = parser.parse_args()

    stateless, stateless_url = start_server("stateless")
    session, session_url = start_server("session")
    rows = []
    try:
        rows.append(("oha", "stateless", oha(stateless_url, args.conc, args.duration)))
        rows.append(("mcpfleet bench", "stateless",
                     mcpfleet(stateless_url, args.conc, args.duration, True)))
        rows.append(("MCP Inspector --load", "stateless",
                     inspector(stateless_url, args.conc, args.duration)))
        rows.append(("mcpfleet bench", "session",
                     mcpfleet(session_url, args.conc, args.duration, False)))
    finally:
        for proc in (stateless, session):
            proc.terminate()
            proc.wait()

    base = rows[0][2]["per_sec"]
    print(f"echo on loopback, c={args.conc}, {args.duration} s each, one run\n")
    print("| client | mode | calls/s | vs oha | p50 ms | p99 ms | failed | client CPU µs/call |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, mode, r in rows:
        per_call = r["cpu"] / max(r["calls"], 1) * 1e6
        print(f"| {name} | {mode} | {r['per_sec']:.0f} | {r['per_sec'] / base:.2f}x | "
              f"{r['p50']:.2f} | {r['p99']:.2f} | {r['failures']} | {per_call:.1f} |")
    ours = rows[1][2]["per_sec"]
    session_rate = rows[3][2]["per_sec"]
    print(f"\nsession mode reaches {session_rate / ours:.2f}x of stateless")
    sys.exit(0 if ours >= 0.9 * base else 1)


if __name__ == "__main__":
    main()
