import { useEffect, useState } from 'react';
import type { Session } from '../api';
import { ErrorBox } from '../common';
import { type SecretAuditReport, verifySecretElection } from '../secret-verify';

/**
 * The auditor's view of a secret election: its qv/v1 record verified in this browser,
 * failures listed by check name and entry, the ballots with their tracking codes.
 */
export function SecretAudit({
  session,
  electionId,
  tracker,
}: {
  session: Session;
  electionId: string;
  tracker: string;
}) {
  const [report, setReport] = useState<SecretAuditReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    verifySecretElection(session, electionId).then(
      (r) => live && setReport(r),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [session, electionId]);
  if (error) return <ErrorBox error={error} />;
  if (!report) return <p className="muted">Verifying the election record…</p>;
  const { record: rec, failures } = report;
  const counted = rec.ballots.filter((b) => b.state === 'counted').length;
  const spoiled = rec.ballots.filter((b) => b.state === 'spoiled').length;
  const wanted = tracker.trim().toLowerCase();
  const found = wanted ? rec.ballots.find((b) => b.tracker === wanted) : undefined;
  return (
    <>
      <div
        className={`panel verdict ${failures.length ? 'bad' : 'good'}`}
        role="status"
        data-testid="verdict"
      >
        {failures.length
          ? `Verification FAILED: ${failures.length} problem(s).`
          : `Verified (secret ballot, ${report.ms} ms): ceremony, ${rec.ballots.length} ballots (proofs and signatures), the encrypted tally${rec.decryption ? ', every decryption share and the published totals' : ''}.`}
      </div>
      {failures.length > 0 && (
        <ul className="problems" data-testid="failures">
          {failures.map((f) => (
            <li key={`${f.check}:${f.ballot}:${f.trustee}:${f.option}:${f.message}`}>
              <strong>{f.check}</strong>
              {f.ballot !== undefined ? ` ballot ${f.ballot}` : ''}
              {f.trustee !== undefined ? ` trustee ${f.trustee}` : ''}
              {f.option !== undefined ? ` option ${f.option}` : ''}: {f.message}
            </li>
          ))}
        </ul>
      )}
      <div className="panel">
        <h3>Record</h3>
        <p>
          {counted} counted, {spoiled} spoiled (challenged), {rec.ballots.length - counted - spoiled}{' '}
          rejected; ceremony {rec.ceremony.qualified?.length ?? 0} qualified trustee(s);{' '}
          {rec.decryption ? 'decrypted.' : 'not decrypted yet.'}
        </p>
        {report.totals && (
          <table>
            <thead>
              <tr>
                <th scope="col">Option</th>
                <th scope="col">Decrypted</th>
                <th scope="col">Published</th>
              </tr>
            </thead>
            <tbody>
              {report.totals.map((t) => (
                <tr key={t.option} className={t.record !== t.published ? 'mismatch' : ''}>
                  <td>{t.label}</td>
                  <td data-testid={`recount-${t.option}`}>{t.record}</td>
                  <td>{t.published ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {wanted && (
          <p role="status" data-testid="receipt-result" className={found ? 'ok' : 'error'}>
            {found
              ? `Found: tracking code ${wanted.slice(0, 16)}… is in the record, ${found.state}.`
              : 'Not found in this record (a ballot still pending is not in it yet).'}
          </p>
        )}
      </div>
    </>
  );
}
