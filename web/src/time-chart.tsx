import { type KeyboardEvent, type PointerEvent, useId, useRef, useState } from 'react';
import { clockLabel, formatValue, nearestIndex, timeTicks, valueAxis } from './chart-scale';

/** One line of a time chart: its name (legend, tooltip) and a value per sample (null: no value). */
export interface TimeSeries {
  name: string;
  values: (number | null)[];
}

// The drawing's own units; the SVG scales to the width of its panel, text included.
const W = 480;
const H = 180;
const M = { top: 10, right: 12, bottom: 34, left: 48 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

/**
 * A line chart of values over time, for the monitoring page, where people read a value
 * at a moment: a value axis with round ticks and the unit, a time axis with clock
 * labels, and a tooltip with the time and every series' value at the sample under the
 * pointer, or, from the keyboard, at the sample chosen with the arrow keys (Home/End:
 * first/last). The chart is one tab stop with an accessible name; the tooltip is a live
 * region, so a screen reader reads what sighted users see. No chart library: a few
 * dozen samples need none.
 */
export function TimeChart({
  title,
  unit,
  times,
  series,
  testId,
}: {
  title: string;
  unit: string;
  /** The samples' times (epoch ms), oldest first; each series has a value per time. */
  times: number[];
  series: TimeSeries[];
  testId?: string;
}) {
  const [active, setActive] = useState<number | null>(null);
  const plot = useRef<HTMLDivElement>(null);
  const tipId = useId();
  const axis = valueAxis(series.flatMap((s) => s.values));
  const from = times[0] ?? 0;
  const to = times[times.length - 1] ?? from;
  const x = (t: number) => M.left + (to > from ? ((t - from) / (to - from)) * PLOT_W : PLOT_W);
  const y = (v: number) => M.top + PLOT_H - ((v - axis.min) / (axis.max - axis.min)) * PLOT_H;
  const last = times.length - 1;
  const shown = active !== null && active <= last ? active : null;
  const shownAt = shown === null ? 0 : (times[shown] ?? 0);
  const latest = series.map((s) => `${s.name} ${formatValue(s.values[last] ?? null, unit)}`).join(', ');
  const name =
    times.length === 0
      ? `${title}: no samples yet`
      : `${title} from ${clockLabel(from)} to ${clockLabel(to)}; latest: ${latest}`;

  const onPointer = (ev: PointerEvent) => {
    const box = plot.current?.getBoundingClientRect();
    if (!box || times.length === 0) return;
    const px = ((ev.clientX - box.left) / box.width) * W;
    const t = from + ((px - M.left) / PLOT_W) * (to - from);
    setActive(nearestIndex(times, t));
  };
  const onKey = (ev: KeyboardEvent) => {
    if (times.length === 0) return;
    const now = shown ?? last;
    const next =
      ev.key === 'ArrowLeft'
        ? Math.max(0, now - 1)
        : ev.key === 'ArrowRight'
          ? Math.min(last, now + 1)
          : ev.key === 'Home'
            ? 0
            : ev.key === 'End'
              ? last
              : ev.key === 'Escape'
                ? null
                : undefined;
    if (next === undefined) return;
    ev.preventDefault();
    setActive(next);
  };

  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>
        <span className="chart-title">{title}</span>{' '}
        {series.length > 1 && (
          <span className="legend">
            {series.map((s, i) => (
              <span key={s.name} className={`legend-item series-${(i % 5) + 1}`}>
                <Swatch />
                {s.name}
              </span>
            ))}
          </span>
        )}
      </figcaption>
      {/* One tab stop; arrow keys move between samples (a grid of 60 points would be 60 stops). */}
      {/* biome-ignore lint/a11y/useSemanticElements: a fieldset is for form controls; this is a chart the keyboard explores */}
      <div
        ref={plot}
        className="chart-plot"
        role="group"
        aria-label={`${title}: use the left and right arrow keys to read the values at each time`}
        aria-describedby={tipId}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: one tab stop through which the keyboard reads the values
        tabIndex={0}
        onKeyDown={onKey}
        onFocus={() => setActive((a) => a ?? (last >= 0 ? last : null))}
        onBlur={() => setActive(null)}
        onPointerMove={onPointer}
        onPointerLeave={() => setActive(null)}
      >
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={name}>
          <g className="axis axis-y">
            {axis.ticks.map((v) => (
              <g key={v}>
                <line className="grid" x1={M.left} x2={W - M.right} y1={y(v)} y2={y(v)} />
                <text x={M.left - 6} y={y(v)} dy="0.32em" textAnchor="end">
                  {String(v)}
                </text>
              </g>
            ))}
            <text className="axis-unit" x={4} y={M.top + 2} dy="0.7em">
              {unit}
            </text>
          </g>
          <g className="axis axis-x">
            <line x1={M.left} x2={W - M.right} y1={M.top + PLOT_H} y2={M.top + PLOT_H} />
            {timeTicks(from, to).map((t) => (
              <g key={t}>
                <line x1={x(t)} x2={x(t)} y1={M.top + PLOT_H} y2={M.top + PLOT_H + 4} />
                <text className="time-label" x={x(t)} y={M.top + PLOT_H + 16} textAnchor="middle">
                  {clockLabel(t)}
                </text>
              </g>
            ))}
            <text x={M.left + PLOT_W / 2} y={H - 3} textAnchor="middle">
              time
            </text>
          </g>
          {series.map((s, i) => (
            <polyline
              key={s.name}
              className={`line series-${(i % 5) + 1}`}
              points={s.values
                .map((v, j) => (v === null ? null : `${x(times[j] ?? from)},${y(v)}`))
                .filter(Boolean)
                .join(' ')}
            />
          ))}
          {shown !== null && (
            <g className="cursor">
              <line x1={x(shownAt)} x2={x(shownAt)} y1={M.top} y2={M.top + PLOT_H} />
              {series.map((s, i) => {
                const v = s.values[shown];
                return v === null || v === undefined ? null : (
                  <circle key={s.name} className={`series-${(i % 5) + 1}`} cx={x(shownAt)} cy={y(v)} r={4} />
                );
              })}
            </g>
          )}
        </svg>
        <div
          id={tipId}
          className="chart-tip"
          role="status"
          data-testid={testId ? `${testId}-tip` : undefined}
          data-sample={shown ?? undefined}
          // Kept inside the plot near its edges.
          style={
            shown === null ? undefined : { left: `${Math.min(85, Math.max(15, (x(shownAt) / W) * 100))}%` }
          }
        >
          {shown !== null && (
            <>
              <time dateTime={new Date(shownAt).toISOString()}>{clockLabel(shownAt)}</time>
              {series.map((s, i) => (
                <span key={s.name} className={`tip-row series-${(i % 5) + 1}`}>
                  <Swatch />
                  {s.name}: {formatValue(s.values[shown] ?? null, unit)}
                </span>
              ))}
            </>
          )}
        </div>
      </div>
    </figure>
  );
}

/** A short stretch of a series' line (colour and dash pattern): the legend's key. */
function Swatch() {
  return (
    <svg className="swatch" viewBox="0 0 18 6" aria-hidden="true">
      <line x1={0} x2={18} y1={3} y2={3} />
    </svg>
  );
}
