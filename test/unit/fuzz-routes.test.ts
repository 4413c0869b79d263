import { UNFUZZED_OPERATIONS, fuzzRoutes, maxBodyBytes } from '../helpers/fuzz-routes';
import { OpenApiContract } from '../helpers/openapi';

describe('the HTTP fuzzer fuzzes what docs/openapi.yaml documents', () => {
  const contract = new OpenApiContract();
  const routes = fuzzRoutes(contract);

  test('every documented operation is fuzzed or left out by name', () => {
    const fuzzed = new Set(routes.map((r) => r.name));
    for (const op of contract.operations) {
      expect({
        op: op.operationId,
        accounted: fuzzed.has(op.operationId) !== UNFUZZED_OPERATIONS.has(op.operationId),
      }).toEqual({
        op: op.operationId,
        accounted: true,
      });
    }
    for (const name of UNFUZZED_OPERATIONS) {
      expect(contract.operations.some((op) => op.operationId === name)).toBe(true);
    }
  });

  test('method, path, handler, roles and mutation come from the document and serverless.yml', () => {
    const byName = Object.fromEntries(routes.map((r) => [r.name, r]));
    expect(byName['submitVote']).toEqual({
      name: 'submitVote',
      method: 'POST',
      path: '/elections/{id}/votes',
      module: 'votes-submit',
      auth: 'voter',
      mutates: true,
      maxBodyBytes: 64 * 1024,
    });
    expect(byName['getHealth']).toMatchObject({ auth: 'none', mutates: false, module: 'health' });
    expect(byName['createToken']).toMatchObject({ auth: 'none', mutates: false, module: 'auth-token' });
    expect(byName['getCluster']).toMatchObject({ auth: 'admin', mutates: false });
    expect(byName['listElections']).toMatchObject({ auth: 'any', mutates: false });
    expect(byName['resetElection']).toMatchObject({ auth: 'admin', mutates: true });
    // A roll import is the one operation with a larger body limit (x-max-body-bytes).
    expect(byName['importRoll']).toMatchObject({ auth: 'admin', maxBodyBytes: 5 * 1024 * 1024 });
    expect(routes.filter((r) => r.maxBodyBytes !== 64 * 1024).map((r) => r.name)).toEqual(['importRoll']);
  });

  test('a body limit must be an integer of at least 64 KiB', () => {
    expect(maxBodyBytes({}, 'op')).toBe(64 * 1024);
    expect(maxBodyBytes({ 'x-max-body-bytes': 1_000_000 }, 'op')).toBe(1_000_000);
    for (const bad of ['5MiB', 1.5, 1024, -1, null]) {
      expect(() => maxBodyBytes({ 'x-max-body-bytes': bad }, 'op')).toThrow(
        'op: x-max-body-bytes must be an integer of at least 65536',
      );
    }
  });
});
