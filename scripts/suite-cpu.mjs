// Sums up a SUITE_CPU_LOG (test/suite-timeouts.ts): CPU-seconds and wall seconds per
// test file, the costliest first. A file's cost runs from its start to the next start
// on the same worker (so its own teardown is counted); a worker's last file ends at its
// own "end" mark.
import { readFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/suite-cpu.mjs <SUITE_CPU_LOG file>');
  process.exit(2);
}
const marks = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const byWorker = new Map();
for (const m of marks) byWorker.set(m.pid, [...(byWorker.get(m.pid) ?? []), m]);
const rows = [];
for (const list of byWorker.values()) {
  const starts = list.filter((m) => m.event === 'start').sort((a, b) => a.at - b.at);
  starts.forEach((s, i) => {
    const next = starts[i + 1] ?? list.filter((m) => m.event === 'end' && m.file === s.file).at(-1) ?? s;
    rows.push({ file: s.file, cpu: (next.ticks - s.ticks) / 100, wall: (next.at - s.at) / 1000 });
  });
}
rows.sort((a, b) => b.cpu - a.cpu);
const total = rows.reduce((t, r) => t + r.cpu, 0);
console.log(`${rows.length} files, ${total.toFixed(0)} CPU-seconds in all`);
for (const r of rows)
  console.log(`${r.cpu.toFixed(1).padStart(7)} CPU-s ${r.wall.toFixed(0).padStart(5)} s  ${r.file}`);
