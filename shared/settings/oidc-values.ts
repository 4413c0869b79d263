import { z } from 'zod';

/**
 * Builders for the settings of an external OpenID Connect issuer (OIDC_*): values with
 * more structure than a number or a word, checked at start like every other setting so
 * that a typo in a role table or an algorithm list stops the process naming the
 * variable instead of locking every external user out at the first request.
 */

/**
 * The roles of shared/auth/roles.ts, repeated here because settings/ must not import
 * auth/ (auth/ reads its settings from here); a unit test keeps the two lists equal.
 */
export const SETTING_ROLES = ['voter', 'admin', 'auditor', 'trustee'] as const;

/** Signature algorithms an external issuer may use: asymmetric only. */
export const OIDC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type OidcAlgorithm = (typeof OIDC_ALGORITHMS)[number];

const unset = (v: string | undefined): v is undefined => v === undefined || v.trim() === '';

/** True for loopback hosts, where plain http is acceptable (tests, a local IdP). */
function loopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/**
 * An issuer URL (OIDC Discovery §2: https, no query or fragment; kept exactly as given,
 * since `iss` is compared as a string). Plain http only on a loopback host.
 */
export function issuerUrl() {
  return z
    .string()
    .optional()
    .transform((v, ctx): string | undefined => {
      if (unset(v)) return undefined;
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be an https URL, got "${v}"` });
        return z.NEVER;
      }
      const secure = url.protocol === 'https:' || (url.protocol === 'http:' && loopback(url.hostname));
      if (!secure || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
        ctx.addIssue({
          code: 'custom',
          message: `must be an https URL without query or fragment (http only on a loopback host), got "${v}"`,
        });
        return z.NEVER;
      }
      return v;
    });
}

/** A comma-separated subset of {@link OIDC_ALGORITHMS} (`none` and HS* can never be listed). */
export function algorithmList(fallback: readonly OidcAlgorithm[]) {
  return z
    .string()
    .optional()
    .transform((v, ctx): OidcAlgorithm[] => {
      if (unset(v)) return [...fallback];
      const list = v
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean);
      const bad = list.filter((a) => !(OIDC_ALGORITHMS as readonly string[]).includes(a));
      if (list.length === 0 || bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a list of ${OIDC_ALGORITHMS.join(', ')}, got "${v}"`,
        });
        return z.NEVER;
      }
      return [...new Set(list)] as OidcAlgorithm[];
    });
}

/** One row of the role table: a claim value and the role it grants. */
export interface RoleMapEntry {
  value: string;
  role: (typeof SETTING_ROLES)[number];
}

/**
 * `value=role,value=role`: claim values (group names, IdP roles) and the quorumvote
 * role each grants, in order of precedence (the first row that matches wins). The
 * value is everything before the last `=`, so values may contain `=`; spaces around
 * either side are ignored.
 */
export function roleMap() {
  return z
    .string()
    .optional()
    .transform((v, ctx): RoleMapEntry[] => {
      if (unset(v)) return [];
      const entries: RoleMapEntry[] = [];
      for (const row of v.split(',')) {
        if (row.trim() === '') continue;
        const i = row.lastIndexOf('=');
        const value = i > 0 ? row.slice(0, i).trim() : '';
        const role = i > 0 ? row.slice(i + 1).trim() : '';
        if (value === '' || !(SETTING_ROLES as readonly string[]).includes(role)) {
          ctx.addIssue({
            code: 'custom',
            message: `must be "value=role,..." with roles among ${SETTING_ROLES.join(', ')}, got "${v}"`,
          });
          return z.NEVER;
        }
        entries.push({ value, role: role as RoleMapEntry['role'] });
      }
      return entries;
    });
}
