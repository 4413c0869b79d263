import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '../../shared/auth/tokens';

/** A key dir shared by the test process (minting tokens) and serverless-offline (verifying them). */
export function testKeyDir(): string {
  return mkdtempSync(join(tmpdir(), 'qv-keys-'));
}

export interface Api {
  base: string;
  keyDir: string;
  token(sub: string, role: 'voter' | 'admin' | 'auditor'): Promise<string>;
  call(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
}

export function makeApi(base: string, keyDir: string): Api {
  return {
    base,
    keyDir,
    token: (sub, role) => mintToken({ sub, role }, { keyDir, ttlS: 3600 }),
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      }
      const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // keep text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
  };
}
