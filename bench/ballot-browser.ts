/**
 * Secret-ballot cryptography in Chromium (issue 14 goal: encrypt + prove + sign a
 * 4-option ballot in under 100 ms on this machine's Chromium). Bundles
 * bench/browser/ballot-entry.ts for the browser with esbuild (which also proves the
 * core has no Node dependency), runs it in headless Chromium through playwright-core,
 * prints per-ballot times and writes bench/results/ballot-browser.json.
 *
 *   node --import tsx bench/ballot-browser.ts [--ballots 20]
 */
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { join } from 'node:path';
import { repoRoot } from '../local/stack';
import { loadSettings } from '../shared/settings/load';
import { benchOptions, machine, percentile, runBench, writeResult } from './common';

const { ballots: BALLOTS } = benchOptions('node --import tsx bench/ballot-browser.ts', {
  ballots: { default: 20, rule: { int: true, min: 1 }, help: 'ballots encrypted in the browser' },
});
const CHROMIUM = loadSettings().CHROMIUM_PATH;

async function main(): Promise<void> {
  const bundle = await build({
    entryPoints: [join(repoRoot, 'bench/browser/ballot-entry.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    minify: true,
  });
  const code = bundle.outputFiles[0]!.text;
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      timeout: 30000,
    });
    const page = await browser.newPage();
    await page.setContent('<!doctype html><title>qv/v1 bench</title>');
    await page.addScriptTag({ content: code });
    const r = await page.evaluate(
      (n) => (globalThis as unknown as { qvBench: (n: number) => Promise<unknown> }).qvBench(n),
      BALLOTS,
    );
    const { encryptMs, verifyMs, batchMs } = r as { encryptMs: number[]; verifyMs: number; batchMs: number };
    const sorted = [...encryptMs].sort((a, b) => a - b);
    const result = {
      machine: machine(),
      chromium: browser.version(),
      bundleKiB: Math.round(code.length / 1024),
      ballots: BALLOTS,
      encryptProveSignMs: { p50: percentile(sorted, 50), max: sorted.at(-1) },
      verifyOneMs: verifyMs,
      verifyBatchMs: batchMs,
      goalMet: percentile(sorted, 50) < 100,
    };
    console.log(
      `Chromium ${result.chromium}, bundle ${result.bundleKiB} KiB, ${BALLOTS} ballots (4 options)`,
    );
    console.log(
      `encrypt + prove + sign: p50 ${result.encryptProveSignMs.p50.toFixed(1)} ms, max ${result.encryptProveSignMs.max?.toFixed(1)} ms (goal < 100 ms: ${result.goalMet ? 'met' : 'not met'})`,
    );
    console.log(
      `verify one ballot: ${verifyMs.toFixed(1)} ms; in a batch: ${batchMs.toFixed(1)} ms per ballot`,
    );
    writeResult('ballot-browser', result);
  } finally {
    await browser?.close();
  }
}

runBench(main);
