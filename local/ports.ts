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
 * Finds `count` consecutive free ports (and, with `busOffset`, their cluster-bus
 * twins) in a random high range, so parallel test runs never collide with each other
 * or with the dev stack's defaults.
 */
export async function findFreePortRange(count: number, busOffset = 0): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 25000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) {
      ok = (await portFree(base + i)) && (busOffset === 0 || (await portFree(base + i + busOffset)));
    }
    if (ok) return base;
  }
  throw new Error('No free port range found');
}

/** A single free port chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Waits until a TCP port accepts connections (or the timeout passes). */
export async function waitForPortBusy(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await portFree(port))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Nothing listens on port ${port} after ${timeoutMs} ms`);
}
