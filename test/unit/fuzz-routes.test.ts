import { UNFUZZED_OPERATIONS, fuzzRoutes } from '../helpers/fuzz-routes';
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
    });
    expect(byName['getHealth']).toMatchObject({ auth: 'none', mutates: false, module: 'health' });
    expect(byName['createToken']).toMatchObject({ auth: 'none', mutates: false, module: 'auth-token' });
    expect(byName['getCluster']).toMatchObject({ auth: 'admin', mutates: false });
    expect(byName['listElections']).toMatchObject({ auth: 'any', mutates: false });
    expect(byName['resetElection']).toMatchObject({ auth: 'admin', mutates: true });
  });
});
