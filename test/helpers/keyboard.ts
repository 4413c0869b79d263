import type { Page } from 'playwright-core';

/**
 * Keyboard-only journeys in the browser tests (issue 17): move the focus with Tab or
 * Shift+Tab only, as a person without a mouse does, and check on the way that every
 * element the focus lands on shows it (a focus ring of at least 2 px: WCAG 2.4.7).
 */

/** What the focused element is, as a keyboard user perceives it. */
export interface Focused {
  tag: string;
  type: string;
  /** Its accessible name, roughly: its label, aria-label or text. */
  name: string;
  /** Whether it draws a visible focus indicator (outline ≥ 2 px, not `none`). */
  visible: boolean;
}

/** The focused element now (a string: this project's Node typings have no DOM). */
export function focused(page: Page): Promise<Focused> {
  return page.evaluate(`(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return { tag: 'body', type: '', name: '', visible: false };
    const cs = getComputedStyle(e);
    const label = e.labels && e.labels[0] ? e.labels[0].textContent : '';
    return {
      tag: e.tagName.toLowerCase(),
      type: e.getAttribute('type') || '',
      name: (label || e.getAttribute('aria-label') || e.textContent || '').replace(/\\s+/g, ' ').trim(),
      visible: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2,
    };
  })()`);
}

/**
 * Presses Tab (Shift+Tab with `back`) until the focused element satisfies `wanted`, at
 * most `max` times; fails naming the elements passed if it never does, or if any of
 * them had no visible focus indicator.
 */
export async function tabTo(
  page: Page,
  what: string,
  wanted: (f: Focused) => boolean,
  { back = false, max = 40 } = {},
): Promise<Focused> {
  const passed: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focused(page);
    passed.push(`${f.tag}${f.type ? `[${f.type}]` : ''} "${f.name.slice(0, 40)}"`);
    if (f.tag !== 'body' && !f.visible) {
      throw new Error(`no visible focus on ${passed[passed.length - 1]} (on the way to ${what})`);
    }
    if (wanted(f)) return f;
  }
  throw new Error(`${what} not reached in ${max} presses of Tab; passed: ${passed.join(', ')}`);
}
