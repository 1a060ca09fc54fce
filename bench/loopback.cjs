// Preloaded into the peer gateway (node -r bench/loopback.cjs): its server listens on every
// interface by default; this keeps any listen() without a host on 127.0.0.1.
'use strict';
const net = require('node:net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const a0 = args[0];
  if (typeof a0 === 'number' || (typeof a0 === 'string' && /^\d+$/.test(a0))) {
    if (typeof args[1] !== 'string') {
      // listen(port[, host][, backlog][, cb]): put the host where it is missing
      if (args[1] === undefined || args[1] === null) args[1] = '127.0.0.1';
      else args.splice(1, 0, '127.0.0.1');
    }
  } else if (a0 && typeof a0 === 'object' && !(a0 instanceof net.Server) && a0.port !== undefined && !a0.host) {
    args[0] = { ...a0, host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
