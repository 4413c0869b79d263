import { describeTaken, nodeVersionProblem, redisPortClaims, stackPortClaims } from '../../local/preflight';
import { parseSettings } from '../../shared/settings/load';

describe('npm start preflight', () => {
  test('the Node version is checked against the engines range', () => {
    expect(nodeVersionProblem('>=20.19', 'v20.19.0')).toBeNull();
    expect(nodeVersionProblem('>=20.19', 'v22.1.0')).toBeNull();
    expect(nodeVersionProblem('>=20.19', 'v20.18.3')).toBe(
      'Node v20.18.3 does not satisfy "node": ">=20.19" of package.json (engines)',
    );
    expect(nodeVersionProblem('>=20.19', 'v18.20.0')).toMatch(/does not satisfy/);
    expect(nodeVersionProblem('>=20 <23', 'v23.0.0')).toMatch(/does not satisfy/);
  });

  test('every port of the stack is claimed with the setting that moves it', () => {
    const s = parseSettings({ HTTP_PORT: '3100', COORDINATOR_BASE_PORT: '4101', REDIS_BASE_PORT: '7100' });
    const claims = stackPortClaims(s, false);
    expect(claims.map((c) => [c.port, c.setting])).toEqual([
      [3100, 'HTTP_PORT'],
      [3001, 'WS_PORT'],
      [3002, 'LAMBDA_PORT'],
      [4101, 'COORDINATOR_BASE_PORT'],
      [4102, 'COORDINATOR_BASE_PORT'],
      [4103, 'COORDINATOR_BASE_PORT'],
    ]);
    expect(stackPortClaims(s, true).at(-1)).toMatchObject({ port: 5173, setting: 'WEB_PORT' });
    const redis = redisPortClaims(s);
    expect(redis.nodes.map((c) => c.port)).toEqual([7100, 7101, 7102, 7103, 7104, 7105, 7106, 7107, 7108]);
    expect(redis.buses[0]).toMatchObject({ port: 17100, setting: 'REDIS_BASE_PORT' });
    expect(describeTaken([claims[4]!])).toBe(
      "port 4102 (coordinator c2's admin port) is already in use: stop what listens there or set COORDINATOR_BASE_PORT",
    );
  });
});
