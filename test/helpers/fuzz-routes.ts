import { join } from 'node:path';
import { MAX_BODY } from './fuzz-arbitraries';
import { OpenApiContract, loadYaml, repoRoot } from './openapi';

/**
 * The HTTP fuzzer's route table, derived from the public contract (docs/openapi.yaml)
 * and the deployment (serverless.yml) instead of written out again: a route added to
 * the API is fuzzed (or explicitly left out below) without touching the fuzzer, and a
 * route's method, path, roles and handler cannot drift from what the API documents.
 */
export type Role = 'voter' | 'admin' | 'auditor' | 'trustee';
export type AuthRule = 'none' | 'any' | Role;

export interface Route {
  /** The operation's `operationId`. */
  name: string;
  method: 'GET' | 'POST';
  /** Path template; `{id}` / `{voteId}` are path parameters. */
  path: string;
  /** The handler's module under functions/ (from serverless.yml). */
  module: string;
  /** From the operation's security: none, any role, or the one role it accepts. */
  auth: AuthRule;
  /** A 2xx of this route may change state. */
  mutates: boolean;
  /** Largest body the route takes: the operation's `x-max-body-bytes`, else the API-wide 64 KiB. */
  maxBodyBytes: number;
}

/**
 * Operations the fuzzer leaves out, and why. Anything else the document lists is fuzzed.
 * - `ping`: the trivial handler the HTTP benchmark measures against; nothing to find.
 * - `getClientPage`: an HTML page, not an API answer (no JSON envelope to check).
 * - `revokeUserSessions`, `disableUser`, `enableUser`: they would take the fuzzer's own
 *   tokens away mid-run, so what a request deserves could no longer be known up front.
 */
export const UNFUZZED_OPERATIONS = new Set([
  'ping',
  'getClientPage',
  'revokeUserSessions',
  'disableUser',
  'enableUser',
]);

/** POSTs whose success stores nothing (issuing a token only reads the user). */
const READ_ONLY_POSTS = new Set(['createToken']);

/** `METHOD /path` → handler module, from the `httpApi` events of serverless.yml. */
function handlerModules(): Map<string, string> {
  const doc = loadYaml(join(repoRoot, 'serverless.yml')) as {
    functions?: Record<
      string,
      { handler?: string; events?: { httpApi?: { method?: string; path?: string } }[] }
    >;
  };
  const out = new Map<string, string>();
  for (const fn of Object.values(doc.functions ?? {})) {
    const module = /^dist\/functions\/([a-z0-9-]+)\.handler$/.exec(fn.handler ?? '')?.[1];
    for (const e of fn.events ?? []) {
      if (module && e.httpApi) out.set(`${String(e.httpApi.method).toUpperCase()} ${e.httpApi.path}`, module);
    }
  }
  return out;
}

function authRule(secured: boolean, roles: string[], operationId: string): AuthRule {
  if (!secured) return 'none';
  if (roles.length === 0) return 'any';
  const [role] = roles;
  if (
    roles.length > 1 ||
    (role !== 'voter' && role !== 'admin' && role !== 'auditor' && role !== 'trustee')
  ) {
    throw new Error(`${operationId}: the fuzzer knows one role per operation, got ${roles.join(', ')}`);
  }
  return role;
}

/** The operation's documented body limit (`x-max-body-bytes`), else the API-wide one. */
export function maxBodyBytes(op: Record<string, unknown>, operationId: string): number {
  const given = op['x-max-body-bytes'];
  if (given === undefined) return MAX_BODY;
  if (typeof given !== 'number' || !Number.isSafeInteger(given) || given < MAX_BODY) {
    throw new Error(`${operationId}: x-max-body-bytes must be an integer of at least ${MAX_BODY}`);
  }
  return given;
}

/** Every fuzzed route of the API, in the document's order. */
export function fuzzRoutes(contract = new OpenApiContract()): Route[] {
  const modules = handlerModules();
  return contract.operations
    .filter((op) => !UNFUZZED_OPERATIONS.has(op.operationId))
    .map((op): Route => {
      const module = modules.get(op.key);
      if (!module) throw new Error(`${op.key} (${op.operationId}) has no handler in serverless.yml`);
      if (op.method !== 'GET' && op.method !== 'POST')
        throw new Error(`${op.key}: the fuzzer sends GET and POST only`);
      return {
        name: op.operationId,
        method: op.method,
        path: op.template,
        module,
        auth: authRule(op.secured, op.roles, op.operationId),
        mutates: op.method === 'POST' && !READ_ONLY_POSTS.has(op.operationId),
        maxBodyBytes: maxBodyBytes(op.op, op.operationId),
      };
    });
}
