import { BlockList, isIP } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadSettings } from '../../shared/settings/load';

/**
 * The address a request comes from, for per-address limits. The direct peer
 * (`requestContext.http.sourceIp`: API Gateway's view of the TCP connection, or the
 * local web server's proxy) is the client unless it is a trusted proxy
 * (`TRUSTED_PROXIES`, comma-separated addresses or CIDR blocks); only then does
 * X-Forwarded-For count, read from the right and skipping further trusted proxies.
 * A client talking to the API directly can put anything in X-Forwarded-For: it is
 * ignored, so it can neither spoof another address nor spread over many buckets.
 */
export interface TrustedProxies {
  has(address: string): boolean;
}

function canonical(address: string): string {
  const a = address.trim();
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
  return a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/** Parses `TRUSTED_PROXIES` ("127.0.0.2, 10.0.0.0/8, ::1"); a bad entry is a start-up error. */
export function parseTrustedProxies(text: string | undefined): TrustedProxies {
  const list = new BlockList();
  let any = false;
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [addr = '', bits] = entry.split('/');
    const family = isIP(addr);
    if (family === 0) throw new Error(`TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR block`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(addr, type);
    else {
      const prefix = Number(bits);
      if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`TRUSTED_PROXIES: "${entry}" has a bad prefix length`);
      }
      list.addSubnet(addr, prefix, type);
    }
    any = true;
  }
  return {
    has(address) {
      if (!any) return false;
      const a = canonical(address);
      const family = isIP(a);
      return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

const fromEnv = parseTrustedProxies(loadSettings().TRUSTED_PROXIES);

/**
 * The client's address for a request: the one accessor every per-address limit uses
 * (votes, reads, login). See the module comment for when X-Forwarded-For is believed.
 */
export function clientAddress(event: APIGatewayProxyEventV2, trusted: TrustedProxies = fromEnv): string {
  const peer = canonical(event.requestContext?.http?.sourceIp ?? '') || 'unknown';
  if (!trusted.has(peer)) return peer;
  let xff: string | undefined;
  for (const [k, v] of Object.entries(event.headers ?? {})) {
    if (k.toLowerCase() === 'x-forwarded-for' && typeof v === 'string') xff = v;
  }
  if (!xff) return peer;
  const hops = xff.split(',').map(canonical);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    // Anything that is not an address ends the chain: the last trusted hop answers for it.
    if (isIP(hop) === 0) break;
    client = hop;
    if (!trusted.has(hop)) break;
  }
  return client;
}
