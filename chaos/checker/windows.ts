/**
 * Fault windows from the nemesis's ops. Conventions (docs/chaos.md): `start-X` is ended
 * by the next `stop-X`, `kill` by `restart`, `pause` by `resume`, each with the same
 * targets when both name them; any other nemesis op is a fault of no duration.
 */
import type { Op } from '../history';
import type { FaultWindow } from './types';
import { sec } from './pairs';

const closers: Record<string, string> = { kill: 'restart', pause: 'resume' };

function closerOf(f: string): string | undefined {
  if (f.startsWith('start-')) return `stop-${f.slice('start-'.length)}`;
  return closers[f];
}

/** The targets a nemesis op names: `value.targets`, `value.target`, `value.node`, else its value. */
function targets(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'object') return String(value);
  const v = value as Record<string, unknown>;
  const t = v['targets'] ?? v['target'] ?? v['node'] ?? v['nodes'] ?? v['name'];
  if (t === undefined) return JSON.stringify(value);
  return Array.isArray(t) ? t.map(String).join('|') : typeof t === 'object' ? JSON.stringify(t) : String(t);
}

/** `value.id`: the nemesis's number for one fault, on its start and its end. */
function idOf(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'number' || typeof id === 'string' ? String(id) : undefined;
}

/** `value.fault`: which fault of its class (`leader-from-redis`), when the nemesis says. */
function detailOf(value: unknown): string | undefined {
  const f = (value as { fault?: unknown } | null | undefined)?.fault;
  return typeof f === 'string' ? f : undefined;
}

function kindOf(f: string): string {
  return f.startsWith('start-') ? f.slice('start-'.length) : f;
}

/** The fault windows of a history (or of the nemesis ops given), in start order. */
export function faultWindows(history: readonly Op[], faults?: readonly Op[]): FaultWindow[] {
  const nem = (faults ?? history).filter((o) => o.process === 'nemesis');
  const end = Math.max(
    history.reduce((t, o) => Math.max(t, o.time), 0),
    nem.reduce((t, o) => Math.max(t, o.time), 0),
  );
  const used = new Set<number>();
  const windows: FaultWindow[] = [];
  nem.forEach((op, i) => {
    if (used.has(i)) return;
    const closer = closerOf(op.f);
    const isCloser = op.f.startsWith('stop-') || Object.values(closers).includes(op.f);
    if (isCloser) return; // a heal without a start: nothing to report
    const tg = targets(op.value);
    let endOp: Op | undefined;
    if (closer) {
      for (let j = i + 1; j < nem.length; j++) {
        const c = nem[j]!;
        if (used.has(j) || c.f !== closer) continue;
        // The nemesis's own fault id pairs them exactly; else the same targets.
        const id = idOf(op.value);
        const cid = idOf(c.value);
        if (id !== undefined && cid !== undefined) {
          if (id !== cid) continue;
        } else {
          const ct = targets(c.value);
          if (tg && ct && ct !== tg) continue;
        }
        used.add(j);
        endOp = c;
        break;
      }
    }
    const detail = detailOf(op.value);
    const kind = kindOf(op.f);
    const name = `${kind}${detail && detail !== kind ? ` (${detail})` : ''}${tg ? ` ${tg}` : ''}`;
    windows.push({
      name,
      f: op.f,
      ...(op.value === undefined ? {} : { value: op.value }),
      start: op.time,
      end: closer ? (endOp?.time ?? end) : op.time,
      startOp: op.index,
      ...(endOp ? { endOp: endOp.index } : {}),
    });
  });
  return windows.sort((a, b) => a.start - b.start);
}

/** `partition c1 12.0–27.5 s`: a window as messages name it. */
export const windowLabel = (w: FaultWindow): string =>
  w.start === w.end
    ? `${w.name} at ${sec(w.start)}`
    : `${w.name} ${(w.start / 1000).toFixed(1)}–${sec(w.end)}`;

/**
 * The fault windows an observation over [start, end] falls in; if none, the last
 * fault before it (its after-effects are the likely cause). Undefined with no faults.
 */
export function windowsAt(windows: readonly FaultWindow[], start: number, end: number): string | undefined {
  const during = windows.filter((w) => w.start <= end && w.end >= start);
  if (during.length) return during.map(windowLabel).join('; ');
  const before = windows.filter((w) => w.end < start).at(-1);
  return before ? `after ${windowLabel(before)}` : undefined;
}
