import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The web app shares the server's types and the audit hash input with shared/, and
 * nothing else: every other import from shared/ is type-only (erased from the bundle), and
 * the few modules it runs in the browser are pure — at run time they import only each
 * other, so no `node:crypto`, no Redis client and no `Buffer` can reach the browser.
 */
const root = resolve(__dirname, '../..');
const webSrc = join(root, 'web/src');

/**
 * shared/ modules the browser may run: pure, importing at run time only each other and
 * {@link BROWSER_PACKAGES}. The secret-ballot voter (web/src/secret.ts) and trustee
 * (web/src/trustee.ts) run the shared voter and trustee clients, the key-file format and
 * the qv/v1 core, all of shared/ballots but the libsodium backend.
 */
const BROWSER_SAFE = [
  'shared/votes/audit-encoding.ts',
  'shared/votes/audit-verify.ts',
  'shared/votes/ballot-choice.ts',
  'shared/errors.ts',
  'shared/secret/api-call.ts',
  'shared/secret/election-manifest.ts',
  'shared/secret/voter-client.ts',
  'shared/secret/trustee-client.ts',
  'shared/secret/key-files.ts',
  ...readdirSync(join(root, 'shared/ballots'))
    .filter((f) => f.endsWith('.ts') && f !== 'group-sodium.ts')
    .map((f) => `shared/ballots/${f}`),
];
/** npm packages those modules may import: audited, pure JavaScript, made for browsers too. */
const BROWSER_PACKAGES = ['@noble/curves/', '@noble/hashes/'];

/** The file an import of `module` (a path without extension) loads: `x.ts` or `x/index.ts`. */
const fileOf = (module: string): string =>
  existsSync(join(root, `${module}.ts`)) ? `${module}.ts` : `${module}/index.ts`;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : /\.tsx?$/.test(d.name) ? [join(dir, d.name)] : [],
  );
}

/** Each `import … from '…'` / `export … from '…'` statement of a file: its text and target. */
function importsOf(file: string): { statement: string; target: string }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)';/gms)].map((m) => ({
    statement: m[0],
    target: m[1]!,
  }));
}

describe('web app imports from shared/', () => {
  const files = sources(webSrc);
  const fromShared = files.flatMap((file) =>
    importsOf(file)
      .filter((i) => i.target.startsWith('.'))
      .map((i) => ({ ...i, file, module: relative(root, resolve(dirname(file), i.target)) }))
      .filter((i) => i.module.startsWith('shared/')),
  );

  test('the web app does share types and the audit hash input with shared/', () => {
    const modules = new Set(fromShared.map((i) => i.module));
    expect([...modules]).toEqual(
      expect.arrayContaining([
        'shared/votes/audit-encoding',
        'shared/votes/read',
        'shared/elections/model',
        'shared/api-bodies',
      ]),
    );
  });

  test('every import from shared/ is type-only, except the browser-safe modules', () => {
    const runtime = fromShared
      .filter((i) => !/^(?:import|export)\s+type\s/.test(i.statement))
      .filter((i) => !BROWSER_SAFE.includes(fileOf(i.module)))
      .map((i) => `${relative(root, i.file)} imports ${i.module} at run time`);
    expect(runtime).toEqual([]);
  });

  test('the browser-safe modules import only each other at run time and use no Node-only global', () => {
    for (const module of BROWSER_SAFE) {
      // Code only: the doc comments may name what the module avoids.
      const text = readFileSync(join(root, module), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      const runtime = importsOf(join(root, module))
        .filter((i) => !/^(?:import|export)\s+type\s/.test(i.statement))
        .filter((i) => !BROWSER_PACKAGES.some((p) => i.target.startsWith(p)))
        .map((i) =>
          i.target.startsWith('.')
            ? fileOf(relative(root, resolve(dirname(join(root, module)), i.target)))
            : i.target,
        )
        .filter((target) => !BROWSER_SAFE.includes(target));
      expect({ module, runtime }).toEqual({ module, runtime: [] });
      expect({ module, nodeOnly: /\b(?:Buffer|process|require)\b/.test(text) }).toEqual({
        module,
        nodeOnly: false,
      });
    }
  });
});
