/**
 * A secret election's record verified in the browser, as `npm run verify` does in Node
 * (local/verify-record.ts): every commitment, proof, signature, the tally and each
 * decryption share (verifyRecord of shared/ballots with `defaultGroup`, signatures by
 * noble, strict RFC 8032), then the published results against the record's decrypted
 * totals. Each failure keeps its check's name and its entry.
 */
import { type ElectionRecord, type RecordFailure, defaultGroup, verifyRecord } from '../../shared/ballots';
import { api, type Session } from './api';
import { record } from './secret';

export interface SecretAuditReport {
  record: ElectionRecord;
  failures: RecordFailure[];
  /** Per option: the record's decrypted total and the published one (null before decryption). */
  totals: { option: string; label: string; record: number; published: number | undefined }[] | null;
  ms: number;
}

export async function verifySecretElection(s: Session, electionId: string): Promise<SecretAuditReport> {
  const [rec, results] = await Promise.all([record(s, electionId), api.results(s.token, electionId)]);
  const started = performance.now();
  const verdict = verifyRecord(rec, { group: defaultGroup });
  const failures = [...verdict.failures];
  let totals: SecretAuditReport['totals'] = null;
  if (rec.decryption) {
    totals = rec.manifest.options.map((o, l) => ({
      option: o.id,
      label: o.label,
      record: rec.decryption!.totals[l] ?? 0,
      published: results.totals[o.id],
    }));
    for (const t of totals)
      if (t.record !== t.published)
        failures.push({
          check: 'published_totals',
          message: `option ${t.option}: the record decrypts ${t.record}, the results say ${t.published}`,
        });
  }
  return { record: rec, failures, totals, ms: Math.round(performance.now() - started) };
}
