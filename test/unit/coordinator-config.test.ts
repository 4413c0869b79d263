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
