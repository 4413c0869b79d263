import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import yaml from 'js-yaml';

/**
 * Checks HTTP responses against `docs/openapi.yaml`: the operation by method and path
 * template, the response by status (an undocumented status is a failure), its headers,
 * media type and body schema, and that the body has no field the document does not
 * name. Records which (operation, status) pairs were seen, so a test can tell which
 * documented answers it never produced.
 */

export const repoRoot = join(__dirname, '../..');
export const openApiPath = join(repoRoot, 'docs/openapi.yaml');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** Base URI under which the document is registered with Ajv, so `#/components/...` refs resolve. */
const DOC_ID = 'https://quorumvote.local/openapi.yaml';

export function loadYaml(path: string): unknown {
  return yaml.load(readFileSync(path, 'utf8'));
}

/** `METHOD /path` of every `httpApi` event in serverless.yml. */
export function serverlessHttpRoutes(path = join(repoRoot, 'serverless.yml')): string[] {
  const doc = loadYaml(path);
  const functions = isObj(doc) && isObj(doc['functions']) ? doc['functions'] : {};
  const routes: string[] = [];
  for (const fn of Object.values(functions)) {
    const events = isObj(fn) && Array.isArray(fn['events']) ? fn['events'] : [];
    for (const e of events) {
      const http = isObj(e) ? e['httpApi'] : undefined;
      if (isObj(http)) routes.push(`${String(http['method']).toUpperCase()} ${String(http['path'])}`);
    }
  }
  return routes.sort();
}

/** A JSON pointer fragment (`#/a/b~1c`) for path segments, percent-encoded for use in a URI. */
export function pointer(segments: (string | number)[]): string {
  return `#${segments.map((s) => `/${encodeURIComponent(String(s).replace(/~/g, '~0').replace(/\//g, '~1'))}`).join('')}`;
}

/** Segments to append to a pointer: `${where}${sub(['content', 'application/json'])}`. */
export const sub = (segments: (string | number)[]): string => pointer(segments).slice(1);

export interface Operation {
  /** `METHOD /template`, e.g. `POST /elections/{id}/votes`. */
  key: string;
  method: string;
  template: string;
  operationId: string;
  /** Pointer to the operation object. */
  at: string;
  op: Obj;
  /** Path-level and operation-level parameters, resolved. */
  parameters: Obj[];
  /** True when a bearer token is required. */
  secured: boolean;
  /** Roles the operation accepts; empty = any role. */
  roles: string[];
  /** Pointer to the JSON request body schema, when there is one. */
  requestSchema?: string;
  statuses: string[];
  regex: RegExp;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when it is not JSON, or undefined when empty. */
  body: unknown;
}

export class OpenApiContract {
  readonly doc: Obj;
  readonly operations: Operation[];
  /** `METHOD /template STATUS` of every response checked. */
  readonly seen = new Set<string>();
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(path = openApiPath) {
    const doc = loadYaml(path);
    if (!isObj(doc)) throw new Error(`${path} is not a YAML mapping`);
    this.doc = doc;
    // Strict: a misspelt keyword or an OpenAPI 3.0-ism (`nullable`) fails to compile.
    // The document's own top-level fields are declared as annotations so Ajv can hold
    // the whole document and resolve `#/components/schemas/...` inside it.
    this.ajv = new Ajv2020({
      allErrors: true,
      strict: true,
      strictTypes: false,
      strictTuples: false,
      strictRequired: false,
    });
    addFormats(this.ajv);
    this.ajv.addVocabulary([
      'openapi',
      'info',
      'jsonSchemaDialect',
      'servers',
      'paths',
      'webhooks',
      'components',
      'security',
      'tags',
      'externalDocs',
      'example',
      'xml',
      'discriminator',
    ]);
    this.ajv.addSchema({ ...doc, $id: DOC_ID });
    this.operations = this.indexOperations();
  }

  /** The value at a local pointer (`#/a/b`). */
  at(ref: string): unknown {
    if (!ref.startsWith('#')) throw new Error(`only local refs are supported: ${ref}`);
    let cur: unknown = this.doc;
    for (const raw of ref.slice(1).split('/').slice(1)) {
      const seg = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObj(cur) && !Array.isArray(cur)) throw new Error(`unresolvable ref ${ref}`);
      cur = (cur as Obj)[seg];
      if (cur === undefined) throw new Error(`unresolvable ref ${ref}`);
    }
    return cur;
  }

  /** Follows OpenAPI `$ref`s (responses, parameters, headers, request bodies). */
  deref(value: unknown, where: string): { value: Obj; where: string } {
    let v = value;
    let w = where;
    for (let i = 0; isObj(v) && typeof v['$ref'] === 'string'; i++) {
      if (i > 20) throw new Error(`$ref loop at ${where}`);
      w = v['$ref'] as string;
      v = this.at(w);
    }
    if (!isObj(v)) throw new Error(`${w} is not an object`);
    return { value: v, where: w };
  }

  /** A compiled validator for the schema at a pointer of the document. */
  validator(schemaAt: string): ValidateFunction {
    let v = this.validators.get(schemaAt);
    if (!v) {
      v = this.ajv.compile({ $ref: `${DOC_ID}${schemaAt}` });
      this.validators.set(schemaAt, v);
    }
    return v;
  }

  private indexOperations(): Operation[] {
    const paths = isObj(this.doc['paths']) ? this.doc['paths'] : {};
    const rootSecurity = this.doc['security'];
    const out: Operation[] = [];
    for (const [template, item] of Object.entries(paths)) {
      if (!isObj(item)) continue;
      const pathParams = Array.isArray(item['parameters']) ? item['parameters'] : [];
      for (const method of METHODS) {
        const op = item[method];
        if (!isObj(op)) continue;
        const at = pointer(['paths', template, method]);
        const opParams = Array.isArray(op['parameters']) ? op['parameters'] : [];
        const parameters = [
          ...pathParams.map(
            (p, i) => this.deref(p, `${pointer(['paths', template, 'parameters', i])}`).value,
          ),
          ...opParams.map((p, i) => this.deref(p, `${at}/parameters/${i}`).value),
        ];
        const security = (op['security'] ?? rootSecurity ?? []) as Obj[];
        const secured = security.length > 0 && security.every((req) => Object.keys(req).length > 0);
        const roles = [...new Set(security.flatMap((req) => Object.values(req).flat() as string[]))];
        let requestSchema: string | undefined;
        if (op['requestBody'] !== undefined) {
          const body = this.deref(op['requestBody'], `${at}/requestBody`);
          if (isObj(body.value['content']) && isObj(body.value['content']['application/json'])) {
            requestSchema = `${body.where}${sub(['content', 'application/json', 'schema'])}`;
          }
        }
        const responses = isObj(op['responses']) ? op['responses'] : {};
        const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
        out.push({
          key: `${method.toUpperCase()} ${template}`,
          method: method.toUpperCase(),
          template,
          operationId: String(op['operationId'] ?? ''),
          at,
          op,
          parameters,
          secured,
          roles,
          ...(requestSchema ? { requestSchema } : {}),
          statuses: Object.keys(responses),
          regex: new RegExp(`^${pattern}$`),
        });
      }
    }
    return out;
  }

  /** `METHOD /template` of every operation. */
  routes(): string[] {
    return this.operations.map((o) => o.key).sort();
  }

  /** The operation serving a concrete request (`/elections/el123/open?x=1`). */
  match(method: string, path: string): Operation | undefined {
    const bare = path.split('?')[0] ?? path;
    const candidates = this.operations.filter((o) => o.method === method.toUpperCase() && o.regex.test(bare));
    // A literal segment beats a template segment (none overlap today, but keep lookups exact).
    return candidates.sort((a, b) => b.template.split('{').length - a.template.split('{').length).pop();
  }

  /** Every documented `METHOD /template STATUS`. */
  documented(): string[] {
    return this.operations.flatMap((o) => o.statuses.map((s) => `${o.key} ${s}`)).sort();
  }

  /**
   * Checks one exchange; returns the problems (empty when it matches the document).
   * `requestBody` is what was sent: on a 2xx answer it must satisfy the documented
   * request schema too, so the document is never stricter than the server.
   */
  check(method: string, path: string, res: HttpResponse, requestBody?: unknown): string[] {
    const where = `${method} ${path} → ${res.status}`;
    const problems: string[] = [];
    const add = (msg: string) => problems.push(`${where}: ${msg}`);
    const op = this.match(method, path);
    if (!op) return [`${where}: no operation in docs/openapi.yaml matches ${method} ${path}`];
    const status = String(res.status);
    if (!op.statuses.includes(status)) {
      add(`status ${status} is not documented for ${op.key} (documented: ${op.statuses.join(', ')})`);
      add(`body: ${JSON.stringify(res.body)?.slice(0, 300)}`);
      return problems;
    }
    const responses = op.op['responses'] as Obj;
    const resp = this.deref(responses[status], `${op.at}${sub(['responses', status])}`);

    const headers = isObj(resp.value['headers']) ? resp.value['headers'] : {};
    for (const [name, h] of Object.entries(headers)) {
      const header = this.deref(h, `${resp.where}${sub(['headers', name])}`);
      const value = res.headers.get(name);
      if (value === null) {
        if (header.value['required'] === true) add(`missing required header ${name}`);
        continue;
      }
      const v = this.validator(`${header.where}/schema`);
      if (!v(value)) add(`header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText(v.errors)}`);
    }

    const content = isObj(resp.value['content']) ? resp.value['content'] : undefined;
    const empty = res.body === undefined || res.body === '';
    if (!content) {
      if (!empty) add(`documented without a body, but got ${JSON.stringify(res.body).slice(0, 200)}`);
    } else {
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!(type in content)) {
        add(
          `content-type ${type || '(none)'} is not documented (documented: ${Object.keys(content).join(', ')})`,
        );
      } else {
        const schemaAt = `${resp.where}${sub(['content', type, 'schema'])}`;
        if (type === 'application/x-ndjson') {
          // NDJSON: one JSON value per line (the body as text is what the schema describes).
          const lines = String(res.body)
            .split('\n')
            .filter((l) => l !== '');
          if (lines.length === 0 || lines.some((l) => typeof safeJson(l) !== 'object'))
            add('body is not NDJSON');
        } else if (/json/.test(type) && typeof res.body === 'string') add('body is not JSON');
        const v = this.validator(schemaAt);
        if (!v(res.body)) {
          add(`body does not match ${schemaAt}: ${this.ajv.errorsText(v.errors)}`);
          add(`body: ${JSON.stringify(res.body)?.slice(0, 500)}`);
        }
        for (const field of this.undocumentedFields(schemaAt, res.body)) {
          add(`body field ${field} is not in the document`);
        }
      }
    }

    if (res.status < 300 && op.requestSchema && requestBody !== undefined) {
      const sent = typeof requestBody === 'string' ? safeJson(requestBody) : requestBody;
      const v = this.validator(op.requestSchema);
      if (!v(sent)) add(`the server accepted a body the document refuses: ${this.ajv.errorsText(v.errors)}`);
    }
    // Seen only when the whole answer matched: a documented status with a wrong body
    // does not count as having produced that answer.
    if (problems.length === 0) this.seen.add(`${op.key} ${status}`);
    return problems;
  }

  /**
   * Fields of `value` that no applicable schema names (through `$ref`, `allOf`,
   * `anyOf`, `oneOf`). The published schemas stay open for forward compatibility;
   * this keeps the document complete about what the server sends today.
   */
  undocumentedFields(schemaAt: string, value: unknown): string[] {
    const out: string[] = [];
    this.walk([this.at(schemaAt)], value, '', out);
    return out;
  }

  private expand(schema: unknown, acc: Obj[] = []): Obj[] {
    if (!isObj(schema)) return acc;
    acc.push(schema);
    if (typeof schema['$ref'] === 'string') {
      const ref = schema['$ref'] as string;
      this.expand(this.at(ref.startsWith(DOC_ID) ? ref.slice(DOC_ID.length) : ref), acc);
    }
    for (const k of ['allOf', 'anyOf', 'oneOf']) {
      const list = schema[k];
      if (Array.isArray(list)) for (const s of list) this.expand(s, acc);
    }
    return acc;
  }

  private walk(schemas: unknown[], value: unknown, path: string, out: string[]): void {
    const all = schemas.flatMap((s) => this.expand(s));
    if (Array.isArray(value)) {
      const items = all.map((s) => s['items']).filter(isObj);
      for (const [i, v] of value.entries()) this.walk(items, v, `${path}/${i}`, out);
      return;
    }
    if (!isObj(value)) return;
    const describesObject = all.some(
      (s) => isObj(s['properties']) || s['additionalProperties'] !== undefined || s['type'] === 'object',
    );
    if (!describesObject) return; // free-form
    for (const [k, v] of Object.entries(value)) {
      const declared = all
        .map((s) => (isObj(s['properties']) ? s['properties'][k] : undefined))
        .filter(isObj);
      const extra = all.map((s) => s['additionalProperties']).filter((a) => a !== undefined && a !== false);
      if (declared.length) this.walk(declared, v, `${path}/${k}`, out);
      else if (extra.some((a) => a === true)) continue;
      else if (extra.length) this.walk(extra, v, `${path}/${k}`, out);
      else out.push(`${path}/${k}`);
    }
  }

  /** Every `$ref` in the document, with where it is; for checking that all resolve. */
  refs(): { from: string; ref: string }[] {
    const out: { from: string; ref: string }[] = [];
    const visit = (v: unknown, segs: string[]) => {
      if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) visit(x, [...segs, String(i)]);
      } else if (isObj(v)) {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') out.push({ from: pointer(segs), ref: x });
          else visit(x, [...segs, k]);
        }
      }
    };
    visit(this.doc, []);
    return out;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
