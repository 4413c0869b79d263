import { type Socket, connect, createServer } from 'node:net';
import { seededRng } from './random';

/**
 * A delaying, connection-resetting TCP proxy, run inside a host's namespace (this
 * kernel has no netem): every chunk is held `delayMs` plus up to `jitterMs` (order
 * kept), and a share of connections is reset at a random moment of their life.
 *
 * Usage: delay-proxy <listenPort> <targetHost> <targetPort> <delayMs> <jitterMs> <resetShare> <seed>
 * It prints `listening` once it accepts connections.
 */
const targetHost = process.argv[3] ?? '127.0.0.1';
const [listenPort, , targetPort, delayMs, jitterMs, resetShare, seed] = process.argv.slice(2).map(Number);
if (
  [listenPort, targetPort, delayMs, jitterMs, resetShare, seed].some(
    (v) => v === undefined || !Number.isFinite(v),
  )
) {
  process.stderr.write(
    'usage: delay-proxy <listenPort> <targetHost> <targetPort> <delayMs> <jitterMs> <resetShare> <seed>\n',
  );
  process.exit(2);
}
const rand = seededRng(seed!);

/**
 * Forwards `from` to `to`, each chunk held until its due time, strictly in order: one
 * queue and one timer per direction. (A timer per chunk reordered chunks due at the
 * same moment, which corrupted the byte stream — TCP never does that.)
 */
function delayed(from: Socket, to: Socket): void {
  const queue: { at: number; chunk: Buffer | null }[] = [];
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  const drain = (): void => {
    timer = undefined;
    while (queue.length > 0 && queue[0]!.at <= Date.now()) {
      const { chunk } = queue.shift()!;
      if (to.destroyed) return;
      if (chunk === null) to.end();
      else to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(drain, Math.max(1, queue[0]!.at - Date.now()));
  };
  const push = (chunk: Buffer | null, extra: number): void => {
    last = Math.max(last, Date.now() + extra);
    queue.push({ at: last, chunk });
    if (timer === undefined) timer = setTimeout(drain, Math.max(1, queue[0]!.at - Date.now()));
  };
  from.on('data', (chunk: Buffer) => push(chunk, delayMs! + rand() * jitterMs!));
  from.on('end', () => push(null, 0));
}

const server = createServer((client) => {
  const upstream = connect({ host: targetHost, port: targetPort! });
  const kill = (): void => {
    client.resetAndDestroy();
    upstream.resetAndDestroy();
  };
  client.on('error', kill);
  upstream.on('error', kill);
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  delayed(client, upstream);
  delayed(upstream, client);
  if (rand() < resetShare!) setTimeout(kill, 200 + rand() * 5000);
});
server.listen(listenPort, '0.0.0.0', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
