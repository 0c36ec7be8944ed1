// Preloaded (`node -r`) before @modelcontextprotocol/server-everything, which listens on every
// interface and has no option for the host: every TCP listen binds 127.0.0.1 instead, so the
// tests never expose it beyond this machine. Once a server listens, one line on stderr says
// where — `loopback: listening on 127.0.0.1:PORT` — so a test can start it with PORT=0 and read
// the port the system chose, with no race for a free port. Unix sockets are left alone.
"use strict";
const net = require("node:net");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  const port = typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first));
  if (port) {
    // listen(port[, host][, backlog][, callback]): replace the host or put one in.
    if (typeof args[1] === "string") args[1] = "127.0.0.1";
    else args.splice(1, 0, "127.0.0.1");
  } else if (first === undefined || typeof first === "function") {
    args.unshift(0, "127.0.0.1");
  } else if (typeof first === "object" && first !== null && first.path === undefined) {
    args[0] = { ...first, host: "127.0.0.1" };
  }
  this.once("listening", () => {
    const address = this.address();
    if (address && typeof address === "object") {
      process.stderr.write(`loopback: listening on ${address.address}:${address.port}\n`);
    }
  });
  return listen.apply(this, args);
};
