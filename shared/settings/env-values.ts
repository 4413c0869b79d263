import { z } from 'zod';

/**
 * Builders for one environment variable each. Every variable is a string or absent;
 * these turn it into the value a setting needs or record why it cannot be, so that
 * every setting in the process fails the same way: at start, naming the variable.
 * An empty value counts as unset (shells and compose files produce them).
 */
export interface NumberRule {
  /** Whole numbers only. */
  int?: boolean;
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Smallest allowed value is above this (exclusive). */
  above?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
}

/** "an integer from 1 to 65535": the rule in words, for error messages. */
export function describeRule(rule: NumberRule): string {
  const parts = [rule.int ? 'an integer' : 'a number'];
  if (rule.above !== undefined) parts.push(`> ${rule.above}`);
  if (rule.min !== undefined && rule.max !== undefined) parts.push(`from ${rule.min} to ${rule.max}`);
  else if (rule.min !== undefined) parts.push(`>= ${rule.min}`);
  else if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
  return parts.join(' ');
}

/** Whether `n` satisfies `rule`. */
export function fits(n: number, rule: NumberRule): boolean {
  if (!Number.isFinite(n)) return false;
  if (rule.int && !Number.isSafeInteger(n)) return false;
  if (rule.above !== undefined && !(n > rule.above)) return false;
  if (rule.min !== undefined && n < rule.min) return false;
  if (rule.max !== undefined && n > rule.max) return false;
  return true;
}

const unset = (v: string | undefined): v is undefined => v === undefined || v.trim() === '';

/** A number with a default; a value that is not one (or breaks the rule) is an error. */
export function num(fallback: number, rule: NumberRule = {}) {
  return z
    .string()
    .optional()
    .transform((v, ctx): number => {
      if (unset(v)) return fallback;
      const n = Number(v);
      if (fits(n, rule)) return n;
      ctx.addIssue({ code: 'custom', message: `must be ${describeRule(rule)}, got "${v}"` });
      return z.NEVER;
    });
}

/** Like `num` without a default: undefined when unset. */
export function optionalNum(rule: NumberRule = {}) {
  return z
    .string()
    .optional()
    .transform((v, ctx): number | undefined => {
      if (unset(v)) return undefined;
      const n = Number(v);
      if (fits(n, rule)) return n;
      ctx.addIssue({ code: 'custom', message: `must be ${describeRule(rule)}, got "${v}"` });
      return z.NEVER;
    });
}

/** A TCP port with a default. */
export const port = (fallback: number) => num(fallback, { int: true, min: 1, max: 65535 });

/** Free text with a default (an empty value means the default). */
export const text = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (unset(v) ? fallback : v));

/** Text with a default that must match `pattern` (`what` says how, in the error). */
export function matching(fallback: string, pattern: RegExp, what: string) {
  return z
    .string()
    .optional()
    .transform((v, ctx): string => {
      if (unset(v)) return fallback;
      if (pattern.test(v)) return v;
      ctx.addIssue({ code: 'custom', message: `must be ${what}, got "${v}"` });
      return z.NEVER;
    });
}

/** One of `values`, undefined when unset or empty; anything else is an error. */
export function optionalOneOf<const T extends string>(values: readonly T[]) {
  return z
    .string()
    .optional()
    .transform((v, ctx): T | undefined => {
      if (unset(v)) return undefined;
      if ((values as readonly string[]).includes(v)) return v as T;
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}, got "${v}"` });
      return z.NEVER;
    });
}

/** Free text, undefined when unset or empty. */
export const optionalText = () =>
  z
    .string()
    .optional()
    .transform((v) => (unset(v) ? undefined : v));

/** `1` switches it on; anything else (or unset) leaves it off. */
export const flag = () =>
  z
    .string()
    .optional()
    .transform((v) => v === '1');
