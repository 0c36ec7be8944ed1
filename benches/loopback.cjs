// Preloaded with `node -r ./loopback.cjs` so that a server which listens on all
// interfaces is held to the loopback address instead. Unix-socket paths and
// handles are passed through unchanged.
"use strict";
const net = require("node:net");

const LOOPBACK = "127.0.0.1";
const original = net.Server.prototype.listen;

function isPort(value) {
  return typeof value === "number" || (typeof value === "string" && /^\d+$/.test(value));
}

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first === undefined || typeof first === "function") {
    args = [0, LOOPBACK, ...args];
  } else if (isPort(first)) {
    const rest = args.slice(1);
    if (typeof rest[0] === "string" || rest[0] === null) rest.shift();
    args = [Number(first), LOOPBACK, ...rest];
  } else if (first !== null && typeof first === "object" && first.path === undefined &&
             first.fd === undefined && first._handle === undefined && first.handle === undefined) {
    args[0] = { ...first, host: LOOPBACK };
  }
  return original.apply(this, args);
};
