// Preload (node --import) that keeps every server this process opens on one loopback address.
// The Portkey gateway passes no host to its HTTP server, which then listens on every interface.
import net from 'node:net';

const host = process.env.INTEROP_LISTEN_HOST || '127.0.0.1';
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function (...args) {
  const callback = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
  let options;
  if (args[0] !== null && typeof args[0] === 'object') {
    options = { ...args[0], host };
  } else {
    const [port, , backlog] = args;
    options = { port: port === undefined ? 0 : Number(port), host };
    if (typeof backlog === 'number') options.backlog = backlog;
  }
  delete options.path;
  return callback ? listen.call(this, options, callback) : listen.call(this, options);
};
