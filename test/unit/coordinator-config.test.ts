import { loadCoordinatorConfig } from '../../coordinator/config';

/** A coordinator's configuration: test-only knobs need QV_TEST_MODE=1; no secret, no start. */
describe('coordinator configuration', () => {
  const base = { NODE_ID: 'c1', COORDINATORS: 'c1,c2,c3', CLUSTER_SECRET: 's'.repeat(32) };

  it('refuses artificial clock errors unless QV_TEST_MODE=1, whatever NODE_ENV says', () => {
    for (const NODE_ENV of [undefined, 'development', 'test', 'production']) {
      const env = { ...base, ...(NODE_ENV ? { NODE_ENV } : {}) };
      expect(() => loadCoordinatorConfig({ ...env, CLOCK_SKEW_MS: '300' })).toThrow(/QV_TEST_MODE=1/);
      expect(() => loadCoordinatorConfig({ ...env, CLOCK_DRIFT_PPM: '50' })).toThrow(/QV_TEST_MODE=1/);
      expect(loadCoordinatorConfig({ ...env, CLOCK_SKEW_MS: '0' })).toMatchObject({
        testMode: false,
        clockSkewMs: 0,
      });
    }
    expect(loadCoordinatorConfig({ ...base, QV_TEST_MODE: '1', CLOCK_SKEW_MS: '300' })).toMatchObject({
      testMode: true,
      clockSkewMs: 300,
    });
  });

  it('needs a cluster secret and sane peer-auth settings', () => {
    const { CLUSTER_SECRET: _, ...noSecret } = base;
    expect(() => loadCoordinatorConfig(noSecret)).toThrow(/No cluster secret/);
    expect(() => loadCoordinatorConfig({ ...base, PEER_AUTH_WINDOW_MS: '0' })).toThrow(/PEER_AUTH_WINDOW_MS/);
    expect(() => loadCoordinatorConfig({ ...base, MAX_TERM_JUMP: '0.5' })).toThrow(/MAX_TERM_JUMP/);
    expect(loadCoordinatorConfig(base)).toMatchObject({
      peerWindowMs: 30000,
      maxTermJump: 1,
      testMode: false,
    });
  });
});

/** Across hosts a coordinator binds one address and tells its peers another. */
describe('coordinator network addresses', () => {
  const base = { NODE_ID: 'c2', COORDINATORS: 'c1,c2,c3', CLUSTER_SECRET: 's'.repeat(32) };

  it('binds and advertises loopback by default, on its position port', () => {
    expect(loadCoordinatorConfig(base)).toMatchObject({
      adminHost: '127.0.0.1',
      adminPort: 4002,
      advertiseUrl: 'http://127.0.0.1:4002',
      peerUrls: {},
    });
  });

  it('advertises what it binds, loopback for a wildcard, and ADVERTISE_URL when given', () => {
    expect(loadCoordinatorConfig({ ...base, ADMIN_HOST: '10.9.0.12' }).advertiseUrl).toBe(
      'http://10.9.0.12:4002',
    );
    expect(loadCoordinatorConfig({ ...base, ADMIN_HOST: '0.0.0.0' }).advertiseUrl).toBe(
      'http://127.0.0.1:4002',
    );
    expect(loadCoordinatorConfig({ ...base, ADMIN_HOST: 'fd00::2' }).advertiseUrl).toBe(
      'http://[fd00::2]:4002',
    );
    expect(
      loadCoordinatorConfig({ ...base, ADMIN_HOST: '0.0.0.0', ADVERTISE_URL: 'http://coord-2.qv:4002/' }),
    ).toMatchObject({ adminHost: '0.0.0.0', advertiseUrl: 'http://coord-2.qv:4002' });
  });

  it('refuses an advertise URL that peers could not use', () => {
    for (const bad of ['coord-2:4002', 'ftp://coord-2:4002', 'http://coord-2:4002/admin', 'http://x:1?a=1']) {
      expect(() => loadCoordinatorConfig({ ...base, ADVERTISE_URL: bad })).toThrow(/ADVERTISE_URL/);
    }
  });

  it('reads fixed peer addresses for members only', () => {
    expect(
      loadCoordinatorConfig({ ...base, PEER_URLS: 'c1=http://10.9.0.11:4001, c3=https://c3.example:4003' })
        .peerUrls,
    ).toEqual({ c1: 'http://10.9.0.11:4001', c3: 'https://c3.example:4003' });
    expect(() => loadCoordinatorConfig({ ...base, PEER_URLS: 'c9=http://10.9.0.19:4001' })).toThrow(
      /PEER_URLS.*c1,c2,c3/,
    );
    expect(() => loadCoordinatorConfig({ ...base, PEER_URLS: 'http://10.9.0.11:4001' })).toThrow(/PEER_URLS/);
    expect(() => loadCoordinatorConfig({ ...base, PEER_URLS: 'c1=10.9.0.11' })).toThrow(/PEER_URLS/);
  });
});
