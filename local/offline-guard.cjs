// Preloaded into serverless-offline (NODE_OPTIONS=--require, see local/stack.ts): the
// local emulator has two ways in which one client request ends the whole process, and
// with it every HTTP route and WebSocket of the stack. On AWS neither can happen (API
// Gateway speaks WebSocket, and a failed async invocation fails alone), so this keeps
// the AWS behaviour locally; every such failure is still logged for the developer.
'use strict';

const log = (what, err) => {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`offline-guard: ${what} (the emulator keeps running): ${text}\n`);
};

// 1. An asynchronous invoke (InvocationType "Event") is run without being awaited, so a
//    handler that rejects becomes an unhandled rejection, which ends Node.
process.on('unhandledRejection', (reason) => log('an asynchronous invocation failed', reason));

// 2. serverless-offline attaches no 'error' listener to a client's WebSocket, so one
//    malformed frame (a reserved opcode, an unmasked frame, a 2^63-byte length) is an
//    uncaught 'error' event. The socket is closed by `ws` itself (1002/1009) either way.
try {
  const { WebSocket } = require(require.resolve('ws', { paths: [process.cwd()] }));
  const emit = WebSocket.prototype.emit;
  WebSocket.prototype.emit = function guardedEmit(event, ...args) {
    if (event === 'error' && this.listenerCount('error') === 0) {
      log('a WebSocket client sent a malformed frame', args[0]);
      return false;
    }
    return emit.call(this, event, ...args);
  };
} catch (err) {
  log('could not guard WebSocket errors', err);
}
