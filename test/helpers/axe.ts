import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/**
 * Accessibility checks with axe-core in the browser tests (issue 17): every page a
 * browser test visits is checked in the light and the dark colour scheme, and any
 * serious or critical violation fails the test with a list a person can act on (rule,
 * impact, element, what to fix) instead of axe's raw JSON.
 */
const AXE_SOURCE = createRequire(__filename).resolve('axe-core/axe.min.js');

/** The impacts that fail a test: "minor" and "moderate" findings are advice, not failures. */
const FAILING = new Set(['serious', 'critical']);

interface AxeNode {
  target: unknown[];
  failureSummary?: string;
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: AxeNode[];
}

/** The serious and critical violations axe finds on `page` now, one readable line per element. */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate("'axe' in window"))) await page.addScriptTag({ path: AXE_SOURCE });
  // A string, not a function: this project's Node typings have no DOM. WCAG 2.1 A/AA and
  // axe's best practices (landmarks, one h1, headings in order, ...).
  const violations = (await page.evaluate(`(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary || '' })),
    }));
  })()`)) as AxeViolation[];
  return violations
    .filter((v) => FAILING.has(v.impact ?? ''))
    .flatMap((v) =>
      v.nodes.map(
        (n) =>
          `${v.id} (${v.impact}) at ${n.target.map(String).join(' > ')}: ${v.help}` +
          (n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, ' ').trim()}` : ''),
      ),
    );
}

/**
 * Fails unless axe finds no serious or critical violation on `page` in both colour
 * schemes (the app follows `prefers-color-scheme`). Leaves the page in the light scheme.
 * `where` names the screen in the failure message.
 */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  const found: string[] = [];
  try {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      for (const v of await axeViolations(page)) found.push(`[${colorScheme}] ${v}`);
    }
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
  if (found.length > 0) {
    throw new Error(
      `axe-core: ${found.length} serious/critical violation(s) on ${where}:\n  ${found.join('\n  ')}`,
    );
  }
}
