/**
 * The load generator's HTML report: one self-contained file (inline CSS and SVG, no
 * script, no external URL) with the run's parameters, its summary, and charts of
 * throughput and latency over time. Pure: data in, HTML out.
 */

/** Percentiles of one latency figure, in milliseconds (all 0 when `n` is 0). */
export interface LatencyStats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** What a run measured; printed as the summary table and shown in the report. */
export interface LoadSummary {
  electionId: string;
  via: 'http' | 'invoke';
  /** Voters asked for, and first attempts planned within the duration. */
  voters: number;
  planned: number;
  /** First attempts made. */
  sent: number;
  /** Answered 202. */
  accepted: number;
  /** Accepted votes the audit log holds as counted / as rejected by the coordinators. */
  finalized: number;
  rejected: number;
  /** Accepted votes with no decision when the wait ended. */
  pending: number;
  /** Votes whose final answer was not a 202, by "<status> <code>" (e.g. "409 already_voted"). */
  errors: Record<string, number>;
  /** Retried answers (503s, timeouts, network errors), by kind. */
  retries: Record<string, number>;
  /** First attempt to the final answer (retries included). */
  submitLatency: LatencyStats;
  /** First attempt to the vote's decision in the audit log. */
  finalizeLatency: LatencyStats;
  /** The sending window: first to last send plus one interval of the schedule. */
  sendSeconds: number;
  /** From the first send until every accepted vote was decided (or the wait gave up). */
  totalSeconds: number;
  /** True when the run was cut short by Ctrl-C. */
  interrupted: boolean;
}

/** One time bucket of the throughput chart: events per second. */
export interface ThroughputPoint {
  /** Bucket start, seconds since the first send. */
  t: number;
  submitted: number;
  accepted: number;
  finalized: number;
}

/** One time bucket of the latency chart (by send time); null where no vote fell in it. */
export interface LatencyPoint {
  t: number;
  submitP50: number | null;
  submitP99: number | null;
  finalizeP50: number | null;
  finalizeP99: number | null;
}

export interface LoadReportData {
  title: string;
  generatedAt: string;
  /** Parameters of the run, as label and value. */
  params: [string, string][];
  summary: LoadSummary;
  /** Width of a bucket, in seconds. */
  bucketSeconds: number;
  throughput: ThroughputPoint[];
  /** Running totals (counts, not rates) at each bucket's end. */
  cumulative: ThroughputPoint[];
  latency: LatencyPoint[];
  /** Requests in flight, sampled by the progress ticker: [seconds, count]. */
  inFlight: [number, number][];
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A round step (1, 2 or 5 times a power of ten) so that `max` spans about `count` steps. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

const fmt = (v: number): string => {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}k`.replace('.0k', 'k');
  if (Number.isInteger(v)) return String(v);
  return String(Math.round(v * 100) / 100);
};

export interface Series {
  name: string;
  color: string;
  /** [x, y]; a null y breaks the line. */
  points: [number, number | null][];
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Draw steps (bars of a histogram-like series) instead of straight segments. */
  step?: boolean;
}

/** A line chart as an inline SVG element: axes, grid, legend and a tooltip per point. */
export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 880;
  const H = o.height ?? 300;
  const m = { l: 64, r: 16, t: 34, b: 46 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  let xMax = 0;
  let yMax = 0;
  for (const s of o.series) {
    for (const [x, y] of s.points) {
      xMax = Math.max(xMax, x);
      if (y !== null) yMax = Math.max(yMax, y);
    }
  }
  const xStep = niceStep(xMax || 1, 8);
  const yStep = niceStep(yMax || 1, 5);
  const xTop = Math.max(xStep, Math.ceil((xMax || 1) / xStep) * xStep);
  const yTop = Math.max(yStep, Math.ceil((yMax || 1) / yStep) * yStep);
  const sx = (x: number): number => m.l + (x / xTop) * pw;
  const sy = (y: number): number => m.t + ph - (y / yTop) * ph;
  const r = (v: number): string => v.toFixed(1);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}" class="chart">`,
    `<text x="${m.l}" y="20" class="ct">${esc(o.title)}</text>`,
  );
  for (let y = 0; y <= yTop + yStep / 1e6; y += yStep) {
    parts.push(
      `<line x1="${m.l}" x2="${m.l + pw}" y1="${r(sy(y))}" y2="${r(sy(y))}" class="grid"/>`,
      `<text x="${m.l - 6}" y="${r(sy(y) + 4)}" text-anchor="end" class="tick">${fmt(y)}</text>`,
    );
  }
  for (let x = 0; x <= xTop + xStep / 1e6; x += xStep) {
    parts.push(
      `<line x1="${r(sx(x))}" x2="${r(sx(x))}" y1="${m.t + ph}" y2="${m.t + ph + 4}" class="axis"/>`,
      `<text x="${r(sx(x))}" y="${m.t + ph + 17}" text-anchor="middle" class="tick">${fmt(x)}</text>`,
    );
  }
  parts.push(
    `<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" class="axis"/>`,
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" class="axis"/>`,
    `<text x="${m.l + pw / 2}" y="${H - 8}" text-anchor="middle" class="label">${esc(o.xLabel)}</text>`,
    `<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" class="label">${esc(o.yLabel)}</text>`,
  );
  const totalPoints = o.series.reduce((n, s) => n + s.points.length, 0);
  const dots = totalPoints <= 600;
  for (const s of o.series) {
    const segments: string[][] = [];
    let cur: string[] = [];
    let prevY: number | null = null;
    for (const [x, y] of s.points) {
      if (y === null) {
        if (cur.length) segments.push(cur);
        cur = [];
        prevY = null;
        continue;
      }
      if (o.step && prevY !== null) cur.push(`${r(sx(x))},${r(sy(prevY))}`);
      cur.push(`${r(sx(x))},${r(sy(y))}`);
      prevY = y;
    }
    if (cur.length) segments.push(cur);
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    for (const seg of segments) {
      if (seg.length === 1) continue;
      parts.push(
        `<polyline points="${seg.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`,
      );
    }
    if (dots) {
      for (const [x, y] of s.points) {
        if (y === null) continue;
        parts.push(
          `<circle cx="${r(sx(x))}" cy="${r(sy(y))}" r="2.5" fill="${s.color}"><title>${esc(s.name)} at ${fmt(x)} s: ${fmt(y)}</title></circle>`,
        );
      }
    }
  }
  let lx = m.l + pw;
  for (const s of [...o.series].reverse()) {
    const w = 26 + s.name.length * 6.6;
    lx -= w + 10;
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    parts.push(
      `<line x1="${r(lx)}" x2="${r(lx + 18)}" y1="16" y2="16" stroke="${s.color}" stroke-width="2.5"${dash}/>`,
      `<text x="${r(lx + 23)}" y="20" class="legend">${esc(s.name)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function table(head: string[], rows: (string | number)[][], numeric = true): string {
  const th = head.map((h, i) => `<th${i > 0 && numeric ? ' class="n"' : ''}>${esc(h)}</th>`).join('');
  const tr = rows
    .map(
      (row) =>
        `<tr>${row.map((c, i) => `<td${i > 0 && numeric ? ' class="n"' : ''}>${esc(String(c))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

const ms = (v: number): string => (Number.isFinite(v) ? String(Math.round(v)) : '–');

/** The whole report as one HTML document. */
export function renderReport(d: LoadReportData): string {
  const s = d.summary;
  const b = d.bucketSeconds;
  const per = b === 1 ? 'per second' : `per second (${b} s buckets)`;
  const throughput = lineChart({
    title: `Throughput — votes ${per}`,
    xLabel: 'seconds since the first send',
    yLabel: 'votes / s',
    step: false,
    series: [
      { name: 'submitted', color: '#6b7280', points: d.throughput.map((p) => [p.t, p.submitted]) },
      { name: 'accepted', color: '#2563eb', points: d.throughput.map((p) => [p.t, p.accepted]) },
      { name: 'finalized', color: '#16a34a', points: d.throughput.map((p) => [p.t, p.finalized]) },
    ],
  });
  const cumulative = lineChart({
    title: 'Votes so far — submitted, accepted, finalized',
    xLabel: 'seconds since the first send',
    yLabel: 'votes',
    series: [
      { name: 'submitted', color: '#6b7280', points: d.cumulative.map((p) => [p.t, p.submitted]) },
      { name: 'accepted', color: '#2563eb', points: d.cumulative.map((p) => [p.t, p.accepted]) },
      { name: 'finalized', color: '#16a34a', points: d.cumulative.map((p) => [p.t, p.finalized]) },
    ],
  });
  const latency = lineChart({
    title: 'Latency over time — by send time',
    xLabel: 'seconds since the first send',
    yLabel: 'milliseconds',
    series: [
      { name: 'submit p50', color: '#2563eb', points: d.latency.map((p) => [p.t, p.submitP50]) },
      {
        name: 'submit p99',
        color: '#2563eb',
        dashed: true,
        points: d.latency.map((p) => [p.t, p.submitP99]),
      },
      { name: 'to finalized p50', color: '#16a34a', points: d.latency.map((p) => [p.t, p.finalizeP50]) },
      {
        name: 'to finalized p99',
        color: '#16a34a',
        dashed: true,
        points: d.latency.map((p) => [p.t, p.finalizeP99]),
      },
    ],
  });
  const inflight = lineChart({
    title: 'Submissions in flight (retries included)',
    xLabel: 'seconds since the first send',
    yLabel: 'in flight',
    height: 220,
    series: [{ name: 'in flight', color: '#9333ea', points: d.inFlight }],
  });
  const counts: (string | number)[][] = [
    ['planned (within the duration)', s.planned],
    ['sent', s.sent],
    ['accepted (202)', s.accepted],
    ['finalized (counted)', s.finalized],
    ['rejected by the coordinators', s.rejected],
    ['pending when the wait ended', s.pending],
    ['errors', Object.values(s.errors).reduce((a, n) => a + n, 0)],
    ...Object.entries(s.errors)
      .sort((a, b2) => b2[1] - a[1])
      .map(([code, n]): (string | number)[] => [`  ${code}`, n]),
    ['retries', Object.values(s.retries).reduce((a, n) => a + n, 0)],
    ...Object.entries(s.retries).map(([k, n]): (string | number)[] => [`  ${k}`, n]),
  ];
  const lat = table(
    ['latency (ms)', 'n', 'p50', 'p95', 'p99', 'max'],
    [
      [
        'submit',
        s.submitLatency.n,
        ...[s.submitLatency.p50, s.submitLatency.p95, s.submitLatency.p99, s.submitLatency.max].map(ms),
      ],
      [
        'submit → finalized',
        s.finalizeLatency.n,
        ...[s.finalizeLatency.p50, s.finalizeLatency.p95, s.finalizeLatency.p99, s.finalizeLatency.max].map(
          ms,
        ),
      ],
    ],
  );
  const verdict =
    s.pending > 0
      ? `<p class="bad">${s.pending} accepted vote(s) were still pending when the wait ended.</p>`
      : s.accepted > 0 && s.finalized + s.rejected === s.accepted
        ? '<p class="good">Every accepted vote was decided.</p>'
        : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(d.title)}</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; margin: 24px auto; max-width: 920px; padding: 0 16px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 16px; margin: 28px 0 8px; }
  .sub { color: #6b7280; margin: 0 0 16px; }
  table { border-collapse: collapse; margin: 8px 0; }
  th, td { padding: 3px 12px 3px 0; text-align: left; border-bottom: 1px solid #e5e7eb; white-space: pre; }
  th { font-weight: 600; }
  .n { text-align: right; font-variant-numeric: tabular-nums; }
  .grid2 { display: flex; gap: 40px; flex-wrap: wrap; }
  .chart { display: block; max-width: 100%; height: auto; margin: 8px 0 16px; }
  .chart .ct { font-size: 14px; font-weight: 600; fill: #111827; }
  .chart .tick, .chart .legend { font-size: 11px; fill: #374151; }
  .chart .label { font-size: 12px; fill: #374151; }
  .chart .grid { stroke: #e5e7eb; stroke-width: 1; }
  .chart .axis { stroke: #9ca3af; stroke-width: 1; }
  .good { color: #166534; } .bad { color: #b91c1c; font-weight: 600; }
  .note { color: #6b7280; font-size: 12px; }
</style>
</head>
<body>
<h1>${esc(d.title)}</h1>
<p class="sub">Generated ${esc(d.generatedAt)} — election <code>${esc(s.electionId)}</code>, via ${esc(s.via)}${s.interrupted ? ' — <b>interrupted</b>' : ''}</p>
${verdict}
<div class="grid2">
<div>
<h2>Votes</h2>
${table(['', 'count'], counts)}
</div>
<div>
<h2>Run</h2>
${table(['parameter', 'value'], d.params, false)}
</div>
</div>
<h2>Latency</h2>
${lat}
<p class="note">Submit latency runs from a vote's first attempt to its final answer (retries of 503s and
network errors included). Submit → finalized runs from the first attempt to the vote's entry in the
audit log (its finalization time on the finalizing coordinator's synchronized clock, from the admin's view of the log).</p>
<h2>Throughput</h2>
${throughput}
${cumulative}
<h2>Latency over time</h2>
${latency}
${d.inFlight.length > 1 ? inflight : ''}
<p class="note">Sent ${s.sent} votes in ${s.sendSeconds.toFixed(1)} s; the run ended ${s.totalSeconds.toFixed(1)} s after the first send.</p>
</body>
</html>
`;
}
