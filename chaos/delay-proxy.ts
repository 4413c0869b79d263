import { type Socket, connect, createServer } from 'node:net';
import { mulberry32 } from './rng';

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
const rand = mulberry32(seed!);

/** Forwards `from` to `to`, each chunk no earlier than the previous one. */
function delayed(from: Socket, to: Socket): void {
  let last = 0;
  from.on('data', (chunk) => {
    const at = Math.max(last, Date.now() + delayMs! + rand() * jitterMs!);
    last = at;
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, at - Date.now());
  });
  from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - Date.now())));
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
