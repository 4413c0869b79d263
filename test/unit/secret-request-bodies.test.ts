import fc from 'fast-check';
import type { z } from 'zod';
import { ApiError } from '../../shared/errors';
import {
  parseCommitmentRequest,
  parseComplaintRequest,
  parseDecryptionShare,
  parseRevealRequest,
  parseSecretVoteRequest,
  parseSharesRequest,
  parseSpoilRequest,
  parseVoterKeyRequest,
} from '../../shared/secret/request-bodies';
import { secretRequestSchemas } from '../../shared/secret/request-schemas';

/**
 * The secret-ballot request bodies go through their schemas (the ones checked against
 * docs/openapi.yaml) before a handler reads them: a bad body is a 400 naming the first
 * wrong field and the path inside it (a problem inside a ballot: `malformed_ballot`);
 * a fuzz of bodies near the valid ones finds no input that is neither accepted as the
 * schema's shape nor refused with a 400 envelope.
 */

const hex = (n: number, c = 'a') => c.repeat(n);
const h32 = hex(64);
const proof = { c: [h32, h32], v: [h32, h32] };
const ballot = {
  tracker: h32,
  publicKey: h32,
  signature: hex(128),
  selections: [
    { alpha: h32, beta: h32, proof },
    { alpha: h32, beta: h32, proof },
  ],
  total: { proof },
};

/** One valid body per route, with its parser and schema. */
const routes: Record<
  string,
  { parse: (b: unknown) => unknown; schema: z.ZodType; valid: Record<string, unknown> }
> = {
  commitments: {
    parse: parseCommitmentRequest,
    schema: secretRequestSchemas.CommitmentRequest,
    valid: { coefficients: [h32, h32], proofs: [{ c: h32, v: h32 }], transportKey: h32 },
  },
  shares: {
    parse: parseSharesRequest,
    schema: secretRequestSchemas.SharesRequest,
    valid: { shares: [{ to: 2, nonce: hex(24), ciphertext: hex(96) }] },
  },
  complaints: {
    parse: parseComplaintRequest,
    schema: secretRequestSchemas.ComplaintRequest,
    valid: { against: 1 },
  },
  reveals: {
    parse: parseRevealRequest,
    schema: secretRequestSchemas.RevealRequest,
    valid: { to: 2, share: h32 },
  },
  voterKey: {
    parse: parseVoterKeyRequest,
    schema: secretRequestSchemas.VoterKeyRequest,
    valid: { publicKey: h32 },
  },
  votes: {
    parse: parseSecretVoteRequest,
    schema: secretRequestSchemas.SecretVoteRequest,
    valid: { ballot },
  },
  spoiled: {
    parse: parseSpoilRequest,
    schema: secretRequestSchemas.SpoilRequest,
    valid: { ballot, opening: { plaintexts: [1, 0], nonces: [h32, h32] } },
  },
  decryptionShares: {
    parse: parseDecryptionShare,
    schema: secretRequestSchemas.DecryptionShare,
    valid: { shareKey: h32, values: [{ share: h32, proof: { c: h32, v: h32 } }] },
  },
};

function refusal(parse: (b: unknown) => unknown, body: unknown): unknown {
  try {
    parse(body);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.status, code: err.code, message: err.message, details: err.details };
  }
  throw new Error('expected a 400');
}
const bad = (message: string, details?: unknown) => ({
  status: 400,
  code: 'invalid_request',
  message,
  details,
});
const malformed = (message: string) => ({
  status: 400,
  code: 'malformed_ballot',
  message: `The ballot is malformed: ${message}`,
  details: undefined,
});

describe('secret request bodies: parsed with their schemas', () => {
  test.each(Object.entries(routes))('%s: a valid body is accepted as it is', (_name, r) => {
    expect(r.parse(r.valid)).toEqual(r.valid);
  });

  test.each<[string, (b: unknown) => unknown, unknown, unknown]>([
    ['not an object', parseComplaintRequest, [], bad('Body must be a JSON object {against}')],
    ['null', parseVoterKeyRequest, null, bad('Body must be a JSON object {publicKey}')],
    [
      'unknown fields',
      parseRevealRequest,
      { to: 1, share: h32, x: 1 },
      bad('Unknown field(s): x', { fields: ['x'] }),
    ],
    [
      'an unknown field inside an item',
      parseSharesRequest,
      { shares: [{ to: 2, nonce: hex(24), ciphertext: hex(96), extra: 1 }] },
      bad('Unknown field(s): shares[0].extra', { fields: ['shares[0].extra'] }),
    ],
    [
      'an item without its ciphertext (the first problem named)',
      parseSharesRequest,
      {
        shares: [
          { to: 2, nonce: hex(24) },
          { to: 3, nonce: hex(22), ciphertext: hex(96) },
        ],
      },
      bad('shares[0].ciphertext must be a string', { field: 'shares' }),
    ],
    [
      'a trustee index that is not an integer',
      parseComplaintRequest,
      { against: 1.5 },
      bad('against must be an integer', { field: 'against' }),
    ],
    [
      'a trustee index of 0',
      parseRevealRequest,
      { to: 0, share: h32 },
      bad('to must be at least 1', { field: 'to' }),
    ],
    [
      'an upper-case share',
      parseRevealRequest,
      { to: 1, share: h32.toUpperCase() },
      bad('share must be 64 lowercase hex characters', { field: 'share' }),
    ],
    [
      'a proof without v',
      parseCommitmentRequest,
      { coefficients: [h32], proofs: [{ c: h32 }], transportKey: h32 },
      bad('proofs[0].v must be a string', { field: 'proofs' }),
    ],
    [
      'a key that is no hex',
      parseVoterKeyRequest,
      { publicKey: 'zz' },
      bad('publicKey must be 64 lowercase hex characters', { field: 'publicKey' }),
    ],
    ['no ballot', parseSecretVoteRequest, {}, bad('ballot is required', { field: 'ballot' })],
    [
      'a ballot that is a number',
      parseSecretVoteRequest,
      { ballot: 5 },
      malformed('ballot must be an object'),
    ],
    [
      'a ballot with a short alpha',
      parseSecretVoteRequest,
      { ballot: { ...ballot, selections: [{ ...ballot.selections[0], alpha: 'ab' }] } },
      malformed('ballot.selections[0].alpha must be 64 lowercase hex characters'),
    ],
    [
      'an open-ballot field',
      parseSecretVoteRequest,
      { ballot, optionId: 'yes' },
      bad('Unknown field(s): optionId', { fields: ['optionId'] }),
    ],
    [
      'a spoil without its opening',
      parseSpoilRequest,
      { ballot },
      bad('opening must be an object', { field: 'opening' }),
    ],
    [
      'an opening with an extra field',
      parseSpoilRequest,
      { ballot, opening: { plaintexts: [1], nonces: [h32], seed: 'x' } },
      bad('Unknown field(s): opening.seed', { fields: ['opening.seed'] }),
    ],
    [
      'a decryption share whose values is a number',
      parseDecryptionShare,
      { shareKey: h32, values: 1 },
      bad('values must be an array', { field: 'values' }),
    ],
  ])('%s: 400 naming it', (_name, parse, body, expected) => {
    expect(refusal(parse, body)).toEqual(expected);
  });

  /** A value JSON can carry, of any shape, for one field or item. */
  const junk = fc.oneof(
    fc.constantFrom(null, true, 0, -1, 1.5, 2 ** 53, '', 'ab', h32, h32.toUpperCase(), hex(63), [], {}),
    fc.string({ maxLength: 8 }),
    fc.array(fc.constantFrom(h32, 1, null), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('c', 'v', 'x', 'share', 'proof'), fc.constantFrom(h32, 1, null, [h32])),
  );
  /** Every path to a value inside `v` (objects and arrays), the root excluded. */
  function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
    if (v === null || typeof v !== 'object') return [];
    const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    return keys.flatMap((k) => [[...at, k], ...paths((v as Record<string, unknown>)[k], [...at, k])]);
  }
  function mutate(body: unknown, path: (string | number)[], value: unknown, drop: boolean): unknown {
    const copy = structuredClone(body) as Record<string | number, unknown>;
    let o = copy;
    for (const p of path.slice(0, -1)) o = o[p] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (drop && !Array.isArray(o)) delete o[last];
    else o[last] = value;
    return copy;
  }

  test.each(Object.entries(routes))(
    '%s: any body one change from valid is accepted in the schema shape or refused with a 400',
    (_name, r) => {
      const all = paths(r.valid);
      fc.assert(
        fc.property(
          fc.constantFrom(...all),
          junk,
          fc.boolean(),
          fc.option(fc.constantFrom('extra', '__proto__', 'constructor'), { nil: undefined }),
          (path, value, drop, extra) => {
            let body = mutate(r.valid, path, value, drop);
            if (extra) body = { ...(body as object), [extra]: 1 };
            let out: unknown;
            try {
              out = r.parse(body);
            } catch (err) {
              expect(err).toBeInstanceOf(ApiError);
              const e = err as ApiError;
              expect(e.status).toBe(400);
              expect(['invalid_request', 'malformed_ballot']).toContain(e.code);
              expect(e.message.length).toBeGreaterThan(5);
              return;
            }
            expect(r.schema.safeParse(out).success).toBe(true);
          },
        ),
        { numRuns: 300 },
      );
    },
  );
});
