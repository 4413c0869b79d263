import type { NetworkInterfaceInfo } from 'node:os';
import { loopbackOnly, webUrls } from '../../local/lan-urls';

/** What `npm start` prints as the web app's address for WEB_HOST (local/lan-urls.ts). */
describe('web app URLs for WEB_HOST', () => {
  const nic = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) =>
    ({ address, family, internal, netmask: '', mac: '', cidr: null }) as NetworkInterfaceInfo;
  const interfaces = {
    lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
    wlan0: [nic('192.168.1.23', 'IPv4', false), nic('fe80::1', 'IPv6', false)],
    eth0: [nic('10.0.0.5', 'IPv4', false)],
  };

  test('a specific address is the one URL', () => {
    expect(webUrls('192.168.1.23', 5173, interfaces)).toEqual(['http://192.168.1.23:5173']);
    expect(webUrls('fd00::7', 5173, interfaces)).toEqual(['http://[fd00::7]:5173']);
  });

  test('a wildcard lists every IPv4 LAN address first, loopback last', () => {
    const all = ['http://192.168.1.23:8080', 'http://10.0.0.5:8080', 'http://127.0.0.1:8080'];
    expect(webUrls('0.0.0.0', 8080, interfaces)).toEqual(all);
    expect(webUrls('::', 8080, interfaces)).toEqual(all);
    expect(webUrls('0.0.0.0', 8080, { lo: interfaces.lo })).toEqual(['http://127.0.0.1:8080']);
  });

  test('loopback addresses are told apart from LAN ones', () => {
    for (const h of ['127.0.0.1', '127.0.0.3', '::1', 'localhost'])
      expect([h, loopbackOnly(h)]).toEqual([h, true]);
    for (const h of ['0.0.0.0', '192.168.1.23', '::']) expect([h, loopbackOnly(h)]).toEqual([h, false]);
  });
});
