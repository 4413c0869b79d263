import { z } from 'zod';

/**
 * The JSON shapes of the voter-roll and credential request bodies, as
 * docs/openapi.yaml documents them (test/unit/request-body-schemas.test.ts holds the
 * two together). The roll import is then checked line by line by roll-input.ts, which
 * reports every bad line with its number, something a schema's first issue cannot do.
 */
export const rollVoterSchema = z.object({
  name: z.string().max(200).optional(),
  email: z.string().optional(),
  externalId: z.string().max(200).optional(),
  username: z.string().optional(),
  weight: z.number().int().min(1).max(1000).optional(),
  group: z.string().max(200).optional(),
});

/** `POST /elections/{id}/roll`: `{voters}` or `{csv}`. */
export const rollImportSchema = z.union([
  z.object({ voters: z.array(rollVoterSchema) }),
  z.object({ csv: z.string() }),
]);

/** `POST /auth/credential`. */
export const credentialRequestSchema = z.object({ credential: z.string() });

/** Named as in docs/openapi.yaml's components. */
export const rollRequestSchemas = {
  RollImport: rollImportSchema,
  RollVoterFields: rollVoterSchema,
  CredentialRequest: credentialRequestSchema,
};
