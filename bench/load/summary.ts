/** The summary table a load run prints on stdout. */
import type { LoadOptions } from './options';
import type { LatencyStats, LoadSummary } from './report-html';
import { latencyStats } from './stats';
import type { Vote } from './submitters';

/** Milliseconds as seconds with one decimal (`1.5s`). */
export const fmtS = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
/** Right-aligned in `n` columns. */
export const pad = (s: string | number, n: number): string => String(s).padStart(n);

/** The summary table printed at the end. */
export function formatSummary(s: LoadSummary, o: Pick<LoadOptions, 'rate' | 'duration' | 'url'>): string {
  const errTotal = Object.values(s.errors).reduce((a, n) => a + n, 0);
  const retryTotal = Object.values(s.retries).reduce((a, n) => a + n, 0);
  const rows: [string, number][] = [
    ['planned', s.planned],
    ['sent', s.sent],
    ['accepted (202)', s.accepted],
    ['finalized (counted)', s.finalized],
    ['rejected (by coordinators)', s.rejected],
    ['pending after the wait', s.pending],
    ['errors', errTotal],
    ...Object.entries(s.errors)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]): [string, number] => [`  ${k}`, n]),
    ['retries', retryTotal],
    ...Object.entries(s.retries)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]): [string, number] => [`  ${k}`, n]),
  ];
  const w = Math.max(28, ...rows.map((r) => r[0].length + 2));
  const lat = (name: string, l: LatencyStats): string =>
    `  ${name.padEnd(22)}${pad(l.n, 8)}${[l.p50, l.p95, l.p99, l.max].map((v) => pad(Math.round(v), 8)).join('')}`;
  const sendRate = s.sendSeconds > 0 ? s.sent / s.sendSeconds : 0;
  const lines = [
    '',
    `Load run: election ${s.electionId}, ${s.voters} voters at ${o.rate}/s for up to ${o.duration} s, via ${s.via}${s.interrupted ? ' (interrupted)' : ''}`,
    '',
    `  ${'votes'.padEnd(w)}${pad('count', 8)}`,
    ...rows.map(([k, n]) => `  ${k.padEnd(w)}${pad(n, 8)}`),
    '',
    `  ${'latency (ms)'.padEnd(22)}${['n', 'p50', 'p95', 'p99', 'max'].map((h) => pad(h, 8)).join('')}`,
    lat('submit', s.submitLatency),
    lat('submit -> finalized', s.finalizeLatency),
    '',
    `  sent ${s.sent} in ${s.sendSeconds.toFixed(1)} s (${sendRate.toFixed(1)}/s); ` +
      (s.pending === 0
        ? `every accepted vote decided ${s.totalSeconds.toFixed(1)} s after the first send`
        : `${s.pending} accepted vote(s) still pending ${s.totalSeconds.toFixed(1)} s after the first send`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The run's figures from its votes (`sent`: every vote that was sent, in order). */
export function summarize(a: {
  o: Pick<LoadOptions, 'via' | 'voters' | 'rate'>;
  electionId: string;
  planned: number;
  sent: Vote[];
  errors: Record<string, number>;
  retries: Record<string, number>;
  t0: number;
  lastSentAt: number;
  sendEnd: number;
  endAt: number;
  interrupted: boolean;
}): LoadSummary {
  const acceptedVotes = a.sent.filter((v) => v.result === '202');
  const decidedVotes = acceptedVotes.filter((v) => v.decidedAt !== undefined);
  const lastDecided = decidedVotes.reduce((m, v) => Math.max(m, v.decidedAt!), 0);
  const pending = acceptedVotes.length - decidedVotes.length;
  return {
    electionId: a.electionId,
    via: a.o.via,
    voters: a.o.voters,
    planned: a.planned,
    sent: a.sent.length,
    accepted: acceptedVotes.length,
    finalized: decidedVotes.filter((v) => v.outcome === 'counted').length,
    rejected: decidedVotes.filter((v) => v.outcome === 'rejected').length,
    pending,
    errors: a.errors,
    retries: a.retries,
    submitLatency: latencyStats(acceptedVotes.map((v) => v.answeredAt - v.sentAt)),
    finalizeLatency: latencyStats(decidedVotes.map((v) => Math.max(0, v.decidedAt! - v.sentAt))),
    // The sending window: first to last send, plus the one interval the last send opens.
    sendSeconds: a.sent.length > 0 ? (a.lastSentAt - a.t0) / 1000 + 1 / a.o.rate : 0,
    totalSeconds: ((pending === 0 && lastDecided ? Math.max(lastDecided, a.sendEnd) : a.endAt) - a.t0) / 1000,
    interrupted: a.interrupted,
  };
}
