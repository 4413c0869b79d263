/**
 * The chaos run's HTML report: one self-contained file (inline CSS and SVG, no script,
 * no external URL): a timeline of the faults against acknowledged-vote throughput and
 * submit latency, then the checker's verdict per invariant with its violations, and
 * availability per fault. Pure: data in, HTML out.
 */
import type { CheckReport, FaultWindow } from './checker/types';
import type { FinalState } from './final-state';
import type { Op } from './history';
import { type SeriesPoint, submitSeries } from './report-series';

export interface ReportInput {
  history: readonly Op[];
  report: CheckReport;
  /** The nemesis's ops (the report's windows come from the checker; these are listed). */
  faults?: readonly Op[];
  title: string;
  seed: number;
  /** The final state: adds votes finalized per second (audit `finalizedAt`) to the timeline. */
  final?: FinalState;
  /** Label/value lines about the run (duration, faults asked for, command…). */
  params?: [string, string][];
}

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const W = 960;
const H = 180;
const PAD = { l: 50, r: 10, t: 10, b: 22 };
/** One color per fault class, so a timeline reads at a glance. */
const KIND_COLORS: Record<string, string> = {
  partition: '#f4a261',
  kill: '#e76f51',
  pause: '#9d4edd',
  clock: '#2a9d8f',
  latency: '#457b9d',
  close: '#8ab17d',
};
const COLORS = ['#e9c46a', '#ef476f', '#06d6a0', '#118ab2'];

function colorOf(name: string): string {
  const kind = name.split(' ')[0] ?? name;
  const known = KIND_COLORS[kind];
  if (known) return known;
  let h = 0;
  for (const c of kind) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return COLORS[h % COLORS.length]!;
}

/** Shaded fault windows (a line for a fault with no duration) behind a chart. */
function faultBands(windows: readonly FaultWindow[], x: (t: number) => number): string {
  return windows
    .map((w) => {
      const c = colorOf(w.name);
      const title = `<title>${esc(w.name)} ${(w.start / 1000).toFixed(1)}–${(w.end / 1000).toFixed(1)} s</title>`;
      if (w.end <= w.start)
        return `<line x1="${x(w.start)}" x2="${x(w.start)}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="${c}" stroke-width="2">${title}</line>`;
      return `<rect x="${x(w.start)}" y="${PAD.t}" width="${Math.max(1, x(w.end) - x(w.start))}" height="${H - PAD.t - PAD.b}" fill="${c}" opacity="0.25">${title}</rect>`;
    })
    .join('');
}

/** Faults as bars in lanes (greedy: a fault takes the first lane free at its start), named when they fit. */
function faultStrip(windows: readonly FaultWindow[], end: number): string {
  const x = (t: number): number => PAD.l + (t / Math.max(1, end)) * (W - PAD.l - PAD.r);
  const laneEnds: number[] = [];
  const bars = windows.map((w) => {
    let lane = laneEnds.findIndex((e) => e < x(w.start));
    if (lane < 0) lane = laneEnds.push(0) - 1;
    const x0 = x(w.start);
    const width = Math.max(2, x(w.end) - x0);
    const label = `${w.name} ${(w.start / 1000).toFixed(1)}–${(w.end / 1000).toFixed(1)} s`;
    // A name too long for its bar is written after it, and the lane stays taken until it ends.
    const textW = w.name.length * 6.2;
    laneEnds[lane] = x0 + Math.max(width, textW + 4);
    return { lane, x0, width, w, label };
  });
  const laneH = 16;
  const h = Math.max(1, laneEnds.length) * laneH + 4;
  return (
    `<svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" xmlns="http://www.w3.org/2000/svg" role="img">` +
    bars
      .map(
        (b) =>
          `<g><title>${esc(b.label)}</title><rect x="${b.x0}" y="${2 + b.lane * laneH}" width="${b.width}" height="${laneH - 3}" fill="${colorOf(b.w.name)}" opacity="0.6"/>` +
          `<text x="${b.x0 + 2}" y="${2 + b.lane * laneH + 10}" font-size="10">${esc(b.w.name)}</text></g>`,
      )
      .join('') +
    '</svg>'
  );
}

function chart(
  points: readonly SeriesPoint[],
  end: number,
  windows: readonly FaultWindow[],
  lines: { label: string; color: string; y: (p: SeriesPoint) => number | null }[],
  unit: string,
): string {
  const x = (t: number): number => PAD.l + (t / Math.max(1, end)) * (W - PAD.l - PAD.r);
  const top = Math.max(1, ...points.flatMap((p) => lines.map((l) => l.y(p) ?? 0)));
  const y = (v: number): number => H - PAD.b - (v / top) * (H - PAD.t - PAD.b);
  const paths = lines
    .map((l) => {
      let d = '';
      let pen = false;
      for (const p of points) {
        const v = l.y(p);
        if (v === null) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(v).toFixed(1)} `;
        pen = true;
      }
      return `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.5"><title>${esc(l.label)}</title></path>`;
    })
    .join('');
  const ticks = Array.from({ length: 6 }, (_, i) => (end * i) / 5)
    .map(
      (t, i) =>
        `<text x="${x(t)}" y="${H - 6}" font-size="10" text-anchor="${i === 5 ? 'end' : 'middle'}">${(t / 1000).toFixed(0)} s</text>`,
    )
    .join('');
  const legend = lines
    .map(
      (l, i) =>
        `<text x="${PAD.l + 8 + i * 160}" y="${PAD.t + 12}" font-size="11" fill="${l.color}">${esc(l.label)}</text>`,
    )
    .join('');
  return (
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg" role="img">` +
    faultBands(windows, x) +
    `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}" stroke="#999"/>` +
    `<text x="4" y="${PAD.t + 10}" font-size="10">${top.toFixed(0)} ${esc(unit)}</text>` +
    `<text x="4" y="${H - PAD.b}" font-size="10">0</text>` +
    paths +
    ticks +
    legend +
    '</svg>'
  );
}

/** The report as one HTML document. */
export function renderReport(o: ReportInput): string {
  const { report } = o;
  const end = o.history.reduce((t, op) => Math.max(t, op.time), 0);
  const { bucketMs, points } = submitSeries(o.history, undefined, o.final);
  const perS = 1000 / bucketMs;
  const throughput = chart(
    points,
    end,
    report.windows,
    [
      { label: 'acknowledged /s', color: '#1d3557', y: (p) => p.ok * perS },
      ...(o.final
        ? [{ label: 'finalized /s', color: '#2a9d8f', y: (p: SeriesPoint) => p.finalized * perS }]
        : []),
      { label: 'failed /s', color: '#d62828', y: (p) => p.failed * perS },
      { label: 'unknown /s', color: '#f77f00', y: (p) => p.unknown * perS },
    ],
    '/s',
  );
  const latency = chart(
    points,
    end,
    report.windows,
    [
      { label: 'submit p50 (ms)', color: '#1d3557', y: (p) => p.p50 },
      { label: 'submit max (ms)', color: '#e76f51', y: (p) => p.max },
    ],
    'ms',
  );
  const verdicts = report.invariants
    .map(
      (inv) =>
        `<tr class="${inv.valid ? 'ok' : 'bad'}"><td>${inv.valid ? 'holds' : 'BROKEN'}</td><td><b>${esc(inv.name)}</b><br><small>${esc(inv.description)}</small></td><td>${inv.violations.length}</td></tr>`,
    )
    .join('');
  const violations = report.invariants
    .filter((i) => !i.valid)
    .map(
      (inv) =>
        `<h3>${esc(inv.name)}</h3><ul>${inv.violations
          .slice(0, 100)
          .map(
            (v) =>
              `<li>${esc(v.message)}${v.faultWindow ? ` <span class="fw">[fault: ${esc(v.faultWindow)}]</span>` : ''}${v.ops ? ` <small>ops ${v.ops.join(', ')}</small>` : ''}</li>`,
          )
          .join(
            '',
          )}${inv.violations.length > 100 ? `<li>… and ${inv.violations.length - 100} more</li>` : ''}</ul>`,
    )
    .join('');
  const a = report.availability;
  const windows = a.windows
    .map(
      (w) =>
        `<tr><td><span class="sw" style="background:${colorOf(w.window)}"></span>${esc(w.window)}</td><td>${w.ops}</td><td>${(w.failedShare * 100).toFixed(1)}%</td><td>${(w.intakeStopMs / 1000).toFixed(1)} s</td><td>${(w.finalizationStopMs / 1000).toFixed(1)} s</td></tr>`,
    )
    .join('');
  const c = report.counts;
  const params: [string, string][] = [
    ['seed', String(o.seed)],
    ['run time', `${(end / 1000).toFixed(1)} s`],
    ['faults', String(c.faults)],
    ...(o.params ?? []),
  ];
  const faultList = (o.faults ?? o.history.filter((op) => op.process === 'nemesis'))
    .map(
      (f) =>
        `<li>${(f.time / 1000).toFixed(1)} s <b>${esc(f.f)}</b> ${esc(JSON.stringify(f.value ?? ''))}</li>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
tr.ok td:first-child{color:#2a7d2a;font-weight:bold}tr.bad td:first-child{color:#b00;font-weight:bold}
.verdict{font-size:20px;font-weight:bold}.pass{color:#2a7d2a}.fail{color:#b00}
.fw{color:#8a5a00}.sw{display:inline-block;width:10px;height:10px;margin-right:6px;opacity:.6}
</style></head><body>
<h1>${esc(o.title)}</h1>
<p class="verdict ${report.valid ? 'pass' : 'fail'}">${report.valid ? 'Every invariant holds' : 'Invariants broken'}</p>
<table>${params.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<table><tr><th>submits</th><th>acknowledged</th><th>acknowledged-lost</th><th>double-counted</th><th>counted after close</th><th>status regressions</th><th>leader conflicts</th></tr>
<tr><td>${c.submits}</td><td>${c.acknowledged}</td><td>${c.acknowledgedLost}</td><td>${c.doubleCounted}</td><td>${c.countedAfterClose}</td><td>${c.statusRegressions}</td><td>${c.leaderConflicts}</td></tr></table>
<h2>Timeline</h2>
<p>Top: each fault injected (one bar per fault, from its start to its heal), shaded behind the charts below. Buckets of ${(bucketMs / 1000).toFixed(2)} s.</p>
${faultStrip(report.windows, end)}
${throughput}
${latency}
<h2>Verdicts</h2>
<table><tr><th></th><th>invariant</th><th>violations</th></tr>${verdicts}</table>
${violations}
<h2>Availability</h2>
<p>${a.ops} client operations: ${a.ok} ok, ${a.refused} refused correctly, ${a.failed} failed, ${a.unknown} unknown (${(a.failedShare * 100).toFixed(1)}% failed or unknown).</p>
<table><tr><th>fault</th><th>ops</th><th>failed</th><th>intake stopped</th><th>finalization stopped</th></tr>${windows}</table>
<h2>Faults injected</h2><ul>${faultList}</ul>
</body></html>
`;
}
