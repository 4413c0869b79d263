import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/**
 * docs/architecture.md "Redis keys": every key's text is written in a key module, one
 * per aggregate, and everything else (handlers, the coordinator, tools, benches and
 * tests) asks those modules for it. This scans the code, comments left out, for key
 * text built anywhere else: a string starting with one of the application's hash tags
 * (`{el:…`, `{e:…`, `{u:…`, `{rv:…`, `{rl:…`, `{ws:…`, `{fin:…`, `{qv}`), or a key
 * appended to a tag variable (`${tag}:votes`).
 */
const root = resolve(__dirname, '../..');

/** The key modules: the only places a key's text is written. */
const KEY_MODULES = [
  'shared/redis/keys.ts',
  'shared/auth/user-keys.ts',
  'shared/realtime/keys.ts',
  'shared/mutex/keys.ts',
];

/**
 * Files that test a key module or a key-agnostic primitive (the mutex, the fenced-write
 * script) with keys of their own making, check a key module's output literally, or
 * measure a baseline outside the application.
 */
const OWN_KEYS = [
  'test/integration/mutex.test.ts',
  'test/integration/mutex-processes.test.ts',
  'test/helpers/mutex-worker.ts',
  'test/unit/auth-users-validation.test.ts',
  'test/unit/realtime.test.ts',
  'test/unit/redis-key-modules.test.ts',
  'bench/pipeline.ts', // its baselines (a bare Lua vote, Streams, BullMQ) write keys of their own
];

const KEY_TEXT = [
  /[`'"]\{(?:el|e|u|rv|rl|ws|fin):(?:\$\{|\w|[`'"])/, // a key, or a prefix to match keys
  /[`'"]\{qv\}/,
  /\{\$\{(?:clusterName|name)\}/,
  /\$\{(?:tag|t|clusterTag)\}:\w/,
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (d.name === 'node_modules' || d.name === 'dist') return [];
    const path = join(dir, d.name);
    return d.isDirectory() ? sources(path) : /\.tsx?$/.test(d.name) ? [path] : [];
  });
}

/** The code of a file without its comments (they may name keys to explain them). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

test('Redis keys are written only in the key modules', () => {
  const files = ['shared', 'functions', 'coordinator', 'local', 'bench', 'test']
    .flatMap((d) => sources(join(root, d)))
    .map((f) => relative(root, f))
    .filter((f) => !KEY_MODULES.includes(f) && !OWN_KEYS.includes(f) && !f.endsWith('.generated.ts'));
  expect(files.length).toBeGreaterThan(100);
  const found = files.flatMap((f) =>
    code(readFileSync(join(root, f), 'utf8'))
      .split('\n')
      .filter((line) => KEY_TEXT.some((re) => re.test(line)))
      .map((line) => `${f}: ${line.trim()}`),
  );
  expect(found).toEqual([]);
});

test('the scan finds a key built outside the key modules', () => {
  // Samples of source text (`$` + `{`: they are not templates here).
  const line = 'await redis.hgetall(`{el:$' + '{id}}:meta`);';
  expect(KEY_TEXT.some((re) => re.test(code(line)))).toBe(true);
  expect(KEY_TEXT.some((re) => re.test(code('const k = `$' + '{tag}:votes`;')))).toBe(true);
  expect(KEY_TEXT.some((re) => re.test(code("key.startsWith('{ws:')")))).toBe(true);
  expect(KEY_TEXT.some((re) => re.test(code('// the `{el:<id>}` tag')))).toBe(false);
});
