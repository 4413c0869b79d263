import { z } from 'zod';
import { approvalVoteRequestSchema, voteRequestSchema } from '../votes/vote-request';

/**
 * The request bodies of the secret-ballot routes, written once as schemas:
 * test/unit/request-body-schemas.test.ts holds docs/openapi.yaml to them, and every
 * handler parses its body with them first (request-bodies.ts) before it reads anything
 * else. What the shape cannot say (a canonical point, an index within n, k coefficients)
 * is checked after, with the codes docs/api.md gives.
 */
const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const index = z.number().int().min(1);
const challengeResponse = z.object({ c: hex32, v: hex32 });

export const commitmentRequestSchema = z.strictObject({
  coefficients: z.array(hex32),
  proofs: z.array(challengeResponse),
  transportKey: hex32,
});

export const sharesRequestSchema = z.strictObject({
  shares: z.array(
    z.strictObject({
      to: index,
      nonce: z.string().regex(/^[0-9a-f]{24}$/),
      ciphertext: z.string().regex(/^[0-9a-f]{96}$/),
    }),
  ),
});

export const complaintRequestSchema = z.strictObject({ against: index });

export const revealRequestSchema = z.strictObject({ to: index, share: hex32 });

export const voterKeyRequestSchema = z.strictObject({ publicKey: hex32 });

const disjunctiveProof = z.object({
  c: z.array(hex32),
  v: z.array(hex32),
  a: z.array(hex32).optional(),
  b: z.array(hex32).optional(),
});

/** A qv/v1 ballot (BALLOTS.md §4). */
export const secretBallotSchema = z.object({
  tracker: hex32,
  publicKey: hex32,
  signature: z.string().regex(/^[0-9a-f]{128}$/),
  selections: z.array(z.object({ alpha: hex32, beta: hex32, proof: disjunctiveProof })),
  total: z.object({ proof: disjunctiveProof }),
});

export const secretVoteRequestSchema = z.strictObject({ ballot: secretBallotSchema });

/** `POST /elections/{id}/votes`: an open ballot `{optionId}` or `{optionIds}`, or a secret one `{ballot}`. */
export const castRequestSchema = z.union([
  voteRequestSchema,
  approvalVoteRequestSchema,
  secretVoteRequestSchema,
]);

export const spoilRequestSchema = z.strictObject({
  ballot: secretBallotSchema,
  opening: z.strictObject({ plaintexts: z.array(z.number().int()), nonces: z.array(hex32) }),
});

export const decryptionShareSchema = z.strictObject({
  trustee: z.number().int().optional(),
  shareKey: hex32,
  values: z.array(z.object({ share: hex32, proof: challengeResponse })),
});

/** Every body above by its name in docs/openapi.yaml. */
export const secretRequestSchemas = {
  CommitmentRequest: commitmentRequestSchema,
  SharesRequest: sharesRequestSchema,
  ComplaintRequest: complaintRequestSchema,
  RevealRequest: revealRequestSchema,
  VoterKeyRequest: voterKeyRequestSchema,
  SecretVoteRequest: secretVoteRequestSchema,
  CastRequest: castRequestSchema,
  SpoilRequest: spoilRequestSchema,
  DecryptionShare: decryptionShareSchema,
} as const;
