// Preloaded (`node --require`) by network.mjs: the atproto services call
// `listen(port)` without a host, which binds every interface. Tests must only
// ever listen on loopback, so a listen without a host gets 127.0.0.1.
'use strict'
const net = require('node:net')

const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const [first] = args
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const rest = args.slice(1)
    if (typeof rest[0] !== 'string') {
      return listen.call(this, Number(first), '127.0.0.1', ...rest)
    }
  } else if (first && typeof first === 'object' && !Array.isArray(first) && first.path === undefined) {
    if (first.host === undefined || first.host === '::' || first.host === '0.0.0.0') {
      return listen.call(this, { ...first, host: '127.0.0.1' }, ...args.slice(1))
    }
  } else if (first === undefined || typeof first === 'function') {
    return listen.call(this, 0, '127.0.0.1', ...args)
  }
  return listen.apply(this, args)
}
