import type { Cluster } from 'ioredis';
import type { Ciphertext } from '../ballots/types';
import type { ElectionRecord } from '../elections/store';
import { operatorFieldsOf, readAuditRows } from '../votes/read';
import type { SecretAuditEntry } from './audit-entry';

/**
 * A page of a secret election's log: its entries have their own shape
 * ({@link SecretAuditEntry}), told apart by `ballot: "secret"`.
 */
export interface SecretAuditPage {
  ballot: 'secret';
  entries: SecretAuditEntry[];
  nextCursor: string | null;
  hidden?: boolean;
}

/** A secret entry's stored fields as published: what its hash covers (audit-entry.ts). */
function secretEntryOf(f: Record<string, string>, partition: number): SecretAuditEntry {
  let signature = '';
  try {
    const cast = JSON.parse(f['cast'] ?? '') as { signature?: unknown } | null;
    if (typeof cast?.signature === 'string') signature = cast.signature;
  } catch {
    // An unparsable ballot was rejected as malformed; its entry hashed signature ''.
  }
  return {
    partition,
    seq: Number(f['seq'] ?? 0),
    ballotId: f['ballot'] ?? '',
    tracker: f['receipt'] ?? '',
    publicKey: f['publicKey'] ?? '',
    signature,
    outcome: f['outcome'] === 'rejected' ? 'rejected' : 'counted',
    reason: f['reason'] ?? '',
    tally: JSON.parse(f['tally'] ?? '[]') as Ciphertext[],
    prev: f['prev'] ?? '',
    hash: f['hash'] ?? '',
  };
}

/**
 * One page of a secret election's audit log: the same paging and cursor as
 * `readAuditPage` (shared/votes/read.ts), each entry in the secret shape its hash covers.
 */
export async function readSecretAuditPage(
  redis: Cluster,
  e: ElectionRecord,
  cursor: string | undefined,
  limit: number,
  operator = false,
): Promise<SecretAuditPage> {
  const page = await readAuditRows(redis, e, cursor, limit, (f, p) => ({
    ...secretEntryOf(f, p),
    ...operatorFieldsOf(e, p, f, operator),
  }));
  return { ballot: 'secret', ...page };
}
