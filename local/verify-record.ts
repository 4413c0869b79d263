/**
 * `npm run verify -- <id>` for a secret-ballot election: fetches the qv/v1 record
 * (GET /elections/{id}/record) and the published results, verifies the record from
 * itself alone with the core's verifier (BALLOTS.md §7: commitments, joint key,
 * election hash, every ballot's signature/proofs/tracker/state, the encrypted tally,
 * every decryption share and the totals), and checks that the published results are the
 * record's decrypted totals. Every failure names its entry and check.
 */
import { type ElectionRecord, type RecordFailure, defaultGroup, verifyRecord } from '../shared/ballots';
import { nodeVerifySignature } from '../shared/secret/judge-ballot';

/** The outcome of verifying a secret election. */
export interface SecretVerifyOutcome {
  ok: boolean;
  electionId: string;
  counted: number;
  ballots: number;
  failures: RecordFailure[];
  /** Published totals vs the record's decrypted totals (null while not decrypted). */
  totals: { option: string; record: number; published: number | undefined }[] | null;
}

async function getJson<T>(url: string, token: string): Promise<T> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(30000),
  });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Fetches the record and the results and verifies them. */
export async function verifySecretElection(
  url: string,
  electionId: string,
  token: string,
): Promise<SecretVerifyOutcome> {
  const id = encodeURIComponent(electionId);
  const record = await getJson<ElectionRecord>(`${url}/elections/${id}/record`, token);
  const results = await getJson<{ totals: Record<string, number> }>(`${url}/elections/${id}/results`, token);
  const verdict = verifyRecord(record, { group: defaultGroup, verifySignature: nodeVerifySignature });
  const failures = [...verdict.failures];
  let totals: SecretVerifyOutcome['totals'] = null;
  if (record.decryption) {
    totals = record.manifest.options.map((o, l) => ({
      option: o.id,
      record: record.decryption!.totals[l]!,
      published: results.totals[o.id],
    }));
    for (const t of totals) {
      if (t.published !== t.record) {
        failures.push({
          check: 'published_totals',
          option: record.manifest.options.findIndex((o) => o.id === t.option) + 1,
          message: `option ${t.option}: the record decrypts ${t.record}, the results say ${t.published}`,
        });
      }
    }
  }
  return {
    ok: failures.length === 0,
    electionId,
    counted: record.tally.countedBallots,
    ballots: record.ballots.length,
    failures,
    totals,
  };
}

/** The human report. */
export function renderSecret(v: SecretVerifyOutcome): string {
  const out = [
    `Secret-ballot election ${v.electionId}: record qv/v1, ${v.ballots} ballots, ${v.counted} counted`,
  ];
  if (v.totals)
    for (const t of v.totals)
      out.push(
        `  ${t.option.padEnd(16)} ${String(t.record).padStart(8)} ${String(t.published ?? '-').padStart(8)}`,
      );
  else out.push('Totals: not decrypted yet (fewer than k trustees have posted shares).');
  if (v.ok)
    out.push(
      'VERIFIED: every proof, signature, tally and decryption share in the record checks, and the results are its totals.',
    );
  else {
    out.push(`NOT VERIFIED: ${v.failures.length} problem${v.failures.length === 1 ? '' : 's'}:`);
    for (const f of v.failures) {
      const where = [
        f.trustee === undefined ? '' : `trustee ${f.trustee}`,
        f.tracker === undefined ? '' : `ballot ${f.tracker}`,
        f.ballot === undefined || f.tracker !== undefined ? '' : `ballot #${f.ballot}`,
        f.option === undefined ? '' : `option ${f.option}`,
      ]
        .filter(Boolean)
        .join(', ');
      out.push(`  - ${f.check}${where ? ` (${where})` : ''}: ${f.message}`);
    }
  }
  return out.join('\n');
}
