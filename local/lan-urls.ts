import { isIP } from 'node:net';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

/**
 * The web app's addresses as other devices reach them, for `npm start` to print when
 * `WEB_HOST` binds more than loopback (phones in a room joining a live poll). A
 * wildcard bind (`0.0.0.0`, `::`) is reachable at every address of this machine: the
 * IPv4 ones of its network interfaces are listed (loopback last, so the first URL is
 * one a phone can open). A specific address is reachable at that address only.
 */
export function webUrls(
  host: string,
  port: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const url = (address: string): string => `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
  if (host !== '0.0.0.0' && host !== '::') return [url(host)];
  const v4 = Object.values(interfaces)
    .flat()
    .filter((i): i is NetworkInterfaceInfo => i !== undefined && i.family === 'IPv4');
  const lan = v4.filter((i) => !i.internal).map((i) => i.address);
  return [...new Set([...lan, '127.0.0.1'])].map(url);
}

/** True when `host` is a loopback address: nothing outside this machine can reach it. */
export function loopbackOnly(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
