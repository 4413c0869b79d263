import { badRequest } from '../errors';

/**
 * The secret-ballot part of an election (docs/architecture.md "Secret ballots"): who
 * the trustees are, the threshold, how many options a ballot selects, and the key
 * ceremony's public outcome. Open elections have none of it, so their records and
 * JSON stay exactly as before.
 */

/** Where the key ceremony stands: commitments → shares (all committed) → done | failed. */
export type CeremonyState = 'commitments' | 'shares' | 'done' | 'failed';

/** A trustee of a secret election: index 1..n (its share is f(index)) and user id. */
export interface ElectionTrustee {
  index: number;
  id: string;
}

/** The fields a secret election adds to the election object. */
export interface SecretElectionFields {
  ballot: 'secret';
  trustees: ElectionTrustee[];
  threshold: number;
  minSelections: number;
  maxSelections: number;
  ceremony: CeremonyState;
  /** `K` (hex) once the ceremony is done, else null. */
  jointKey: string | null;
  /** `electionHash` (hex, BALLOTS.md §2) once the ceremony is done, else null. */
  electionHash: string | null;
}

/** What POST /elections accepts for a secret election, validated. */
export type NewSecretConfig = Pick<
  SecretElectionFields,
  'trustees' | 'threshold' | 'minSelections' | 'maxSelections'
>;

/** The body fields this module reads (the POST /elections schema allows them). */
export const SECRET_FIELDS = ['ballot', 'trustees', 'threshold', 'minSelections', 'maxSelections'] as const;

const userId = /^[A-Za-z0-9_.:-]{1,128}$/;
const MAX_TRUSTEES = 32;

function intIn(v: unknown, field: string, lo: number, hi: number, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw badRequest(`${field} must be an integer from ${lo} to ${hi}`, { field });
  }
  return v;
}

/**
 * Validates the secret-ballot fields of a POST /elections body against its `options`
 * count. Null for an open election (`ballot` absent or "open"), whose body must not
 * carry any of them (they would be silently ignored otherwise).
 */
export function parseSecretConfig(b: Record<string, unknown>, optionCount: number): NewSecretConfig | null {
  const ballot = b['ballot'];
  if (ballot !== undefined && ballot !== 'open' && ballot !== 'secret') {
    throw badRequest('ballot must be "open" or "secret"', { field: 'ballot' });
  }
  if (ballot !== 'secret') {
    const stray = SECRET_FIELDS.filter((f) => f !== 'ballot' && b[f] !== undefined);
    if (stray.length) {
      throw badRequest(`${stray.join(', ')} apply to secret ballots only`, { fields: [...stray] });
    }
    return null;
  }
  const t = b['trustees'];
  if (
    !Array.isArray(t) ||
    t.length < 1 ||
    t.length > MAX_TRUSTEES ||
    t.some((s) => typeof s !== 'string' || !userId.test(s))
  ) {
    throw badRequest(`trustees must be an array of 1 to ${MAX_TRUSTEES} user ids`, { field: 'trustees' });
  }
  if (new Set(t).size !== t.length) throw badRequest('trustees must be distinct', { field: 'trustees' });
  const threshold = intIn(b['threshold'], 'threshold', 1, t.length);
  const minSelections = intIn(b['minSelections'], 'minSelections', 0, optionCount, 1);
  const maxSelections = intIn(
    b['maxSelections'],
    'maxSelections',
    Math.max(1, minSelections),
    optionCount,
    Math.max(1, minSelections),
  );
  return {
    trustees: (t as string[]).map((id, i) => ({ index: i + 1, id })),
    threshold,
    minSelections,
    maxSelections,
  };
}

/** The meta hash fields of a new secret election. */
export function secretMetaFields(c: NewSecretConfig): Record<string, string> {
  return {
    ballot: 'secret',
    trustees: JSON.stringify(c.trustees),
    threshold: String(c.threshold),
    minSelections: String(c.minSelections),
    maxSelections: String(c.maxSelections),
    ceremony: 'commitments',
  };
}

/** The secret fields of a stored meta hash; empty for an open election. */
export function secretFieldsOf(h: Record<string, string>): Partial<SecretElectionFields> {
  if (h['ballot'] !== 'secret') return {};
  return {
    ballot: 'secret',
    trustees: JSON.parse(h['trustees'] ?? '[]'),
    threshold: Number(h['threshold']),
    minSelections: Number(h['minSelections']),
    maxSelections: Number(h['maxSelections']),
    ceremony: (h['ceremony'] ?? 'commitments') as CeremonyState,
    jointKey: h['jointKey'] || null,
    electionHash: h['electionHash'] || null,
  };
}
