/**
 * CLUSTER NODES, parsed once: `GET /cluster`, `npm run status`, the local Redis Cluster
 * launcher and the tests that find a slot's master all read the same lines
 * (`<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...`).
 */
export interface ClusterNode {
  id: string;
  /** The announced ip; '' means "the address you reached me on". */
  host: string;
  port: number;
  /** `host:port` as announced (before the `@cport`). */
  address: string;
  flags: string[];
  role: 'master' | 'replica';
  /** Flagged `fail` or `fail?` by the node that answered. */
  failing: boolean;
  /** Flagged `noaddr`: the cluster knows the node but not where it is. */
  noaddr: boolean;
  /** Served slot ranges, inclusive (`[slot, slot]` for a single slot). */
  slotRanges: [number, number][];
  /** Slots served. */
  slots: number;
  /** Slot fields as listed, including `[slot->-id]` migration entries. */
  slotFields: string[];
}

/** Every node line of a CLUSTER NODES reply (lines too short to be one are skipped). */
export function parseClusterNodeLines(text: string): ClusterNode[] {
  const out: ClusterNode[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length < 8) continue;
    const [id = '', addr = '', flagText = ''] = parts;
    const address = addr.split('@')[0] ?? addr;
    const i = address.lastIndexOf(':');
    const flags = flagText.split(',');
    const slotFields = parts.slice(8);
    const slotRanges: [number, number][] = [];
    for (const r of slotFields) {
      if (r.startsWith('[')) continue;
      const [a = 0, b] = r.split('-').map(Number);
      slotRanges.push([a, b ?? a]);
    }
    out.push({
      id,
      host: address.slice(0, i),
      port: Number(address.slice(i + 1)),
      address,
      flags,
      role: flags.includes('master') ? 'master' : 'replica',
      failing: /fail/.test(flagText),
      noaddr: flags.includes('noaddr'),
      slotRanges,
      slots: slotRanges.reduce((n, [a, b]) => n + b - a + 1, 0),
      slotFields,
    });
  }
  return out;
}

/**
 * The nodes a client can reach: announced with an address and a valid port, an empty ip
 * replaced by `seedHost` (the address the reply came from); sorted by port.
 */
export function reachableNodes(nodes: ClusterNode[], seedHost: string): ClusterNode[] {
  return nodes
    .filter((n) => !n.noaddr && Number.isInteger(n.port) && n.port > 0)
    .map((n) => (n.host ? n : { ...n, host: seedHost }))
    .sort((a, b) => a.port - b.port);
}

/** The live master serving `slot`, if the reply names one. */
export function masterOfSlot(nodes: ClusterNode[], slot: number): ClusterNode | undefined {
  return nodes.find(
    (n) => n.role === 'master' && !n.failing && n.slotRanges.some(([lo, hi]) => slot >= lo && slot <= hi),
  );
}
