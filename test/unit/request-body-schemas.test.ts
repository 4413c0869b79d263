import { z } from 'zod';
import { newUserSchema, tokenRequestSchema } from '../../shared/auth/user-input';
import { electionOptionSchema, newElectionSchema } from '../../shared/elections/new-election';
import { joinRequestSchema } from '../../shared/elections/join-request';
import { voteRequestSchema } from '../../shared/votes/vote-request';
import { secretRequestSchemas } from '../../shared/secret/request-schemas';
import { rollRequestSchemas } from '../../shared/roll/request-schemas';
import { OpenApiContract } from '../helpers/openapi';

/**
 * Each request body is written once, as the zod schema its handler validates with; this
 * test holds docs/openapi.yaml to the same shape: every JSON request body the document
 * names has a schema here, and each schema's JSON Schema (z.toJSONSchema, input side)
 * equals the document's, with `$ref`s resolved and prose (description, examples) left
 * out. Rules JSON Schema cannot say (a title not blank, unique option ids, `closesAt`
 * after `opensAt`) are refinements and appear on neither side.
 */
const schemas: Record<string, z.ZodType> = {
  TokenRequest: tokenRequestSchema,
  NewUser: newUserSchema,
  NewElection: newElectionSchema,
  JoinRequest: joinRequestSchema,
  ElectionOption: electionOptionSchema,
  VoteRequest: voteRequestSchema,
  ...secretRequestSchemas,
  ...rollRequestSchemas,
};

type Json = unknown;
const PROSE = new Set(['description', 'example', 'examples', 'title', '$schema']);

/** Resolves refs, drops prose, reads `oneOf` of disjoint types as `anyOf`, sorts `required`. */
function normalize(value: Json, contract: OpenApiContract, depth = 0): Json {
  if (depth > 30) throw new Error('schema too deep (a $ref loop?)');
  if (Array.isArray(value)) return value.map((v) => normalize(v, contract, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, Json>;
  if (typeof o['$ref'] === 'string') return normalize(contract.at(o['$ref']), contract, depth + 1);
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(o)) {
    if (PROSE.has(k)) continue;
    if (k === 'properties') {
      out[k] = Object.fromEntries(
        Object.entries(v as Record<string, Json>).map(([p, s]) => [p, normalize(s, contract, depth + 1)]),
      );
    } else if (k === 'required') out[k] = [...(v as string[])].sort();
    else out[k === 'oneOf' ? 'anyOf' : k] = normalize(v, contract, depth + 1);
  }
  return out;
}

describe('request bodies: one schema, checked against docs/openapi.yaml', () => {
  const contract = new OpenApiContract();
  const components = (contract.doc['components'] as { schemas: Record<string, Json> }).schemas;

  test('every JSON request body of the document has its schema', () => {
    const named = contract.operations
      .map((op) => op.requestSchema)
      .filter((at): at is string => at !== undefined)
      .map((at) => {
        const ref = (contract.at(at) as { $ref?: string }).$ref ?? at;
        return ref.replace('#/components/schemas/', '');
      });
    expect(named.length).toBeGreaterThanOrEqual(4);
    for (const name of named) expect({ name, known: name in schemas }).toEqual({ name, known: true });
  });

  test.each(Object.keys(schemas))('%s: the schema and the document agree', (name) => {
    const generated = normalize(z.toJSONSchema(schemas[name]!, { io: 'input' }), contract);
    const documented = normalize(components[name], contract);
    expect(generated).toEqual(documented);
  });
});
