#!/usr/bin/env python3
"""What a person does with the mcpfleet CLI when a conformance scenario hands over a server:
list its tools and call each one — with the arguments the scenario's context names, else with
arguments made from the tool's input schema (required properties, each its default, first enum
value, or a plain value of its type). Exits with the worst exit code of the calls, counting a
tool's own error (exit 1) as a finished call.

Usage: person.py BIN URL [mcpfleet flags...] [-- call flags...]; MCP_CONFORMANCE_CONTEXT as
the suite sets it.
"""

import json
import os
import subprocess
import sys


def value_for(schema):
    if not isinstance(schema, dict):
        return "test"
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return {
        "number": 1,
        "integer": 1,
        "boolean": True,
        "array": [],
        "object": {},
        "null": None,
    }.get(kind, "test")


def arguments_for(tool):
    schema = tool.get("input_schema") or {}
    properties = schema.get("properties") or {}
    return {name: value_for(properties.get(name)) for name in schema.get("required") or []}


def run(argv):
    print("$ " + " ".join(argv[1:]), file=sys.stderr)
    done = subprocess.run(argv, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    return done


def main():
    binary, url, *rest = sys.argv[1:]
    split = rest.index("--") if "--" in rest else len(rest)
    flags, call_flags = rest[:split], rest[split + 1 :]
    base = [binary, "--url", url, *flags]
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    calls = [(c["name"], c.get("arguments") or {}) for c in context.get("toolCalls") or []]
    worst = 0
    if not calls:
        listed = run(base + ["tools", "--json"])
        if listed.returncode != 0:
            return listed.returncode
        tools = json.loads(listed.stdout).get("tools") or []
        calls = [(tool["name"], arguments_for(tool)) for tool in tools]
    # Arguments the scenario dictates go as they are, even where they break the tool's schema.
    dictated = ["--no-check"] if context.get("toolCalls") else []
    for name, arguments in calls:
        done = run(
            base + ["call", name, "--args", json.dumps(arguments), "--json", *dictated, *call_flags]
        )
        if done.returncode not in (0, 1):
            worst = max(worst, done.returncode)
    return worst


if __name__ == "__main__":
    sys.exit(main())
