import { type HostSpec, nsExec } from './hosts';

/**
 * Network faults made with iptables and tc inside a host's namespace (rules there do
 * not touch the machine's own tables). Each kind of fault has its own chain, so healing
 * one kind never removes another's rules.
 */
const PART_CHAIN = 'QVC_PART';
const LAT_CHAIN = 'QVC_LAT';

function ipt(h: HostSpec, args: string[]): string {
  return nsExec(h.ns, 'iptables', ['-w', ...args]);
}

/**
 * Creates `chain` and hooks it into `hooks` once. The latency chain is an INPUT chain
 * only: in OUTPUT its `! -i lo` would match every packet (no input interface there)
 * and reset the proxy's own connection to the service.
 */
function ensureChain(h: HostSpec, chain: string, hooks: readonly string[] = ['INPUT', 'OUTPUT']): void {
  try {
    ipt(h, ['-N', chain]);
  } catch {
    // exists already
  }
  for (const hook of hooks) {
    try {
      ipt(h, ['-C', hook, '-j', chain]);
    } catch {
      ipt(h, ['-I', hook, '1', '-j', chain]);
    }
  }
}

/**
 * Drops every packet between `h` and each of `others` (both directions, from `h`'s
 * side: packets are silently lost, as on a dead link, so peers see timeouts, not resets).
 */
export function cutFrom(h: HostSpec, others: readonly HostSpec[]): void {
  ensureChain(h, PART_CHAIN);
  for (const o of others) {
    if (o.ip === h.ip) continue;
    ipt(h, ['-A', PART_CHAIN, '-s', o.ip, '-j', 'DROP']);
    ipt(h, ['-A', PART_CHAIN, '-d', o.ip, '-j', 'DROP']);
  }
}

/** Removes every partition rule of `h`. */
export function healPartitions(h: HostSpec): void {
  ensureChain(h, PART_CHAIN);
  ipt(h, ['-F', PART_CHAIN]);
}

/** The rules of both fault chains of `h` (for logs and tests). */
export function faultRules(h: HostSpec): string {
  ensureChain(h, PART_CHAIN);
  ensureChain(h, LAT_CHAIN, ['INPUT']);
  return `${ipt(h, ['-S', PART_CHAIN])}${ipt(h, ['-S', LAT_CHAIN])}${ipt(h, ['-t', 'nat', '-S', 'PREROUTING'])}`;
}

/**
 * Sends new inbound connections to `port` through a proxy listening on `proxyPort` in
 * the same namespace, and resets the connections already open straight to `port`
 * (packets arriving on the link, not the proxy's own loopback connection), so clients
 * reconnect and go through the proxy too.
 */
export function divertInbound(h: HostSpec, port: number, proxyPort: number): void {
  ensureChain(h, LAT_CHAIN, ['INPUT']);
  ipt(h, [
    '-t',
    'nat',
    '-A',
    'PREROUTING',
    '-p',
    'tcp',
    '--dport',
    String(port),
    '-j',
    'REDIRECT',
    '--to-ports',
    String(proxyPort),
  ]);
  ipt(h, [
    '-A',
    LAT_CHAIN,
    '!',
    '-i',
    'lo',
    '-p',
    'tcp',
    '--dport',
    String(port),
    '-j',
    'REJECT',
    '--reject-with',
    'tcp-reset',
  ]);
}

/** Undoes {@link divertInbound}: new connections go straight to the service again. */
export function undivertInbound(h: HostSpec): void {
  ensureChain(h, LAT_CHAIN, ['INPUT']);
  ipt(h, ['-F', LAT_CHAIN]);
  ipt(h, ['-t', 'nat', '-F', 'PREROUTING']);
}

/** Rate-limits what leaves the host (tbf on its link; netem is not in this kernel). */
export function limitRate(h: HostSpec, rate: string): void {
  nsExec(h.ns, 'tc', [
    'qdisc',
    'replace',
    'dev',
    'eth0',
    'root',
    'tbf',
    'rate',
    rate,
    'burst',
    '32kbit',
    'latency',
    '400ms',
  ]);
}

export function unlimitRate(h: HostSpec): void {
  try {
    nsExec(h.ns, 'tc', ['qdisc', 'del', 'dev', 'eth0', 'root']);
  } catch {
    // no qdisc of ours
  }
}
