import { createServer } from 'node:net';

/** True when nothing listens on 127.0.0.1:port. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * Ports we hand out lie below Linux's ephemeral range (32768-60999): an outgoing
 * connection of any process may take an ephemeral port as its local port, so a port
 * picked there and released (a coordinator killed and restarted) can be stolen.
 */
const LOW = 10000;
const HIGH = 32767;

/**
 * Finds `count` consecutive free ports (and, with `busOffset`, their cluster-bus
 * twins) in a random range below the ephemeral ports, so parallel test runs never
 * collide with each other or with the dev stack's defaults.
 */
export async function findFreePortRange(count: number, busOffset = 0): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const top = HIGH - busOffset - count;
    const base = LOW + Math.floor(Math.random() * (top - LOW));
    let ok = true;
    for (let i = 0; i < count && ok; i++) {
      ok = (await portFree(base + i)) && (busOffset === 0 || (await portFree(base + i + busOffset)));
    }
    if (ok) return base;
  }
  throw new Error('No free port range found');
}

/** A single free port (below the ephemeral range, see above). */
export function freePort(): Promise<number> {
  return findFreePortRange(1);
}

/** Waits until a TCP port of `host` accepts connections (or the timeout passes). */
export async function waitForPortBusy(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await portFree(port, host))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Nothing listens on port ${port} after ${timeoutMs} ms`);
}
