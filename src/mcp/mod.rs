//! The client side of MCP: one rmcp client per endpoint, probes, calls with validation,
//! progress and cancellation.
