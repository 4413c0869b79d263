/**
 * `node --import tsx bench/login-cost.ts [--runs 10]`: what one login costs the server,
 * i.e. one scrypt run at the default parameters (shared/auth/passwords.ts), one at a
 * time and two at once (two function instances on one machine). Prints ms per hash.
 */
import { availableParallelism, loadavg } from 'node:os';
import { DEFAULT_SCRYPT_PARAMS, hashPassword } from '../shared/auth/passwords';
import { benchOptions } from './common';

const { runs } = benchOptions('node --import tsx bench/login-cost.ts', {
  runs: { default: 10, rule: { int: true, min: 1 }, help: 'hashes per measurement' },
});

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main(): Promise<void> {
  const { N, r, p } = DEFAULT_SCRYPT_PARAMS;
  await hashPassword('warm-up-password'); // first run pays for allocating 128 MiB
  const one: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await hashPassword(`password-${i}`);
    one.push(performance.now() - t);
  }
  const two: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await Promise.all([hashPassword(`a-${i}`), hashPassword(`b-${i}`)]);
    two.push((performance.now() - t) / 2);
  }
  const f = (x: number) => x.toFixed(0).padStart(5);
  console.log(`scrypt N=2^${Math.log2(N)} r=${r} p=${p} (${(128 * N * r) / 2 ** 20} MiB per hash)`);
  console.log(`${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)}`);
  console.log(`one at a time: median ${f(pct(one, 50))} ms, p90 ${f(pct(one, 90))} ms per hash`);
  console.log(`two at a time: median ${f(pct(two, 50))} ms, p90 ${f(pct(two, 90))} ms per hash (throughput)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
