/** The HTML report of a load run (--report): votes bucketed over time, rendered by report-html.ts. */
import type { LoadOptions } from './options';
import { type LatencyPoint, type LoadSummary, type ThroughputPoint, renderReport } from './report-html';
import { percentile } from './stats';
import type { Vote } from './submitters';

/** Bucket widths of the report's charts, in seconds. */
const BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800];

export function buildReport(
  o: LoadOptions,
  summary: LoadSummary,
  votes: Vote[],
  inFlight: [number, number][],
  t0: number,
): string {
  let end = t0 + 1;
  for (const v of votes) end = Math.max(end, v.answeredAt, v.decidedAt ?? 0);
  const spanS = (end - t0) / 1000;
  // About 15 to 30 buckets: fine enough to show a shape, coarse enough not to be noise.
  const bucketS = BUCKETS.find((b) => b >= spanS / 30) ?? Math.ceil(spanS / 30);
  const n = Math.max(1, Math.ceil(spanS / bucketS));
  const at = (ms: number): number => Math.min(n - 1, Math.max(0, Math.floor((ms - t0) / 1000 / bucketS)));
  // Points sit mid-bucket. The last bucket is often partial; dividing by its full width
  // understates its rate a little rather than turning a few votes into a spike.
  const tp: ThroughputPoint[] = Array.from({ length: n }, (_, i) => ({
    t: (i + 0.5) * bucketS,
    submitted: 0,
    accepted: 0,
    finalized: 0,
  }));
  const subLat: number[][] = Array.from({ length: n }, () => []);
  const finLat: number[][] = Array.from({ length: n }, () => []);
  for (const v of votes) {
    tp[at(v.sentAt)]!.submitted++;
    if (v.result !== '202') continue;
    tp[at(v.answeredAt)]!.accepted++;
    subLat[at(v.sentAt)]!.push(v.answeredAt - v.sentAt);
    if (v.decidedAt !== undefined) {
      if (v.outcome === 'counted') tp[at(v.decidedAt)]!.finalized++;
      finLat[at(v.sentAt)]!.push(Math.max(0, v.decidedAt - v.sentAt));
    }
  }
  // Running totals at each bucket's end, from 0 at the first send.
  const cumulative: ThroughputPoint[] = [{ t: 0, submitted: 0, accepted: 0, finalized: 0 }];
  tp.forEach((p, i) => {
    const prev = cumulative[cumulative.length - 1]!;
    cumulative.push({
      t: Math.min(spanS, (i + 1) * bucketS),
      submitted: prev.submitted + p.submitted,
      accepted: prev.accepted + p.accepted,
      finalized: prev.finalized + p.finalized,
    });
  });
  for (const p of tp) {
    p.submitted = Math.round((p.submitted / bucketS) * 10) / 10;
    p.accepted = Math.round((p.accepted / bucketS) * 10) / 10;
    p.finalized = Math.round((p.finalized / bucketS) * 10) / 10;
  }
  const q = (xs: number[], p: number): number | null => {
    if (xs.length === 0) return null;
    return percentile(
      [...xs].sort((a, b) => a - b),
      p,
    );
  };
  const lat: LatencyPoint[] = subLat.map((xs, i) => ({
    t: tp[i]!.t,
    submitP50: q(xs, 50),
    submitP99: q(xs, 99),
    finalizeP50: q(finLat[i]!, 50),
    finalizeP99: q(finLat[i]!, 99),
  }));
  // Keep the in-flight series to at most ~1000 points.
  const stride = Math.max(1, Math.ceil(inFlight.length / 1000));
  const flight = inFlight.filter((_, i) => i % stride === 0);
  return renderReport({
    title: `quorumvote load report — ${summary.electionId}`,
    generatedAt: new Date().toISOString(),
    params: [
      ['voters', String(o.voters)],
      ['rate', `${o.rate}/s`],
      ['duration', `${o.duration} s`],
      ['via', o.via === 'http' ? `http ${o.url}` : `invoke ${o.lambdaUrl} ${o.functionName}`],
      ['election', `${summary.electionId}${o.election ? ' (reused)' : ' (created)'}`],
      ['max in flight', String(o.maxInFlight)],
      ['request timeout', `${o.timeoutS} s`],
      ['retry for', `${o.retryForS} s`],
      ['finalize timeout', `${o.finalizeTimeoutS} s`],
      ['node', `${process.version} ${process.platform} ${process.arch}`],
    ],
    summary,
    bucketSeconds: bucketS,
    throughput: tp,
    cumulative,
    latency: lat,
    inFlight: flight,
  });
}
