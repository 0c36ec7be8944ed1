"""Minimal FastMCP server with one `echo` tool, used as a peer by the mcp_echo bench.

Usage: python fastmcp_echo.py PORT   (listens on 127.0.0.1:PORT, Streamable HTTP at /mcp)
"""

import sys

from fastmcp import FastMCP

mcp = FastMCP("fastmcp-echo")


@mcp.tool
def echo(message: str) -> str:
    """Return the message unchanged."""
    return message


if __name__ == "__main__":
    port = int(sys.argv[1])
    mcp.run(
        transport="http",
        host="127.0.0.1",
        port=port,
        path="/mcp",
        show_banner=False,
        log_level="warning",
    )
