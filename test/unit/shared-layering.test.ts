import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Layering inside shared/ that import-cycle checks (madge works file by file) cannot
 * see: the realtime layer depends on the domain through narrow ports only, so the
 * elections and the realtime folders never import each other in a loop; and the channel
 * messages — the format every publisher and the fan-out share — import no domain code.
 */
const root = resolve(__dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : /\.ts$/.test(d.name) ? [join(dir, d.name)] : [],
  );
}

/** The repository-relative modules a file imports (relative imports only), type-only ones included. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']*)';/gms)].map((m) =>
    relative(root, resolve(dirname(file), m[1]!)),
  );
}

/** Folder of shared/ a module is in ('shared' itself for a top-level module). */
const folderOf = (module: string): string => module.split('/').slice(0, 2).join('/');

describe('layering of shared/', () => {
  const files = sources(join(root, 'shared'));
  const edges = files.flatMap((f) => importsOf(f).map((to) => ({ from: relative(root, f), to })));

  test('the folders of shared/ import each other in no loop of two', () => {
    const folderEdges = new Set(
      edges
        .map((e) => [folderOf(e.from), folderOf(e.to)] as const)
        .filter(([a, b]) => a !== b && a !== 'shared' && b !== 'shared')
        .map(([a, b]) => `${a} -> ${b}`),
    );
    const loops = [...folderEdges].filter((e) => {
      const [a, b] = e.split(' -> ');
      return folderEdges.has(`${b} -> ${a}`);
    });
    // elections <-> votes is a known loop (the audit chain head type and the stream ids
    // one way, the election model the other); any other loop is new.
    expect(loops.filter((l) => !/^shared\/(elections|votes) -> shared\/(elections|votes)$/.test(l))).toEqual(
      [],
    );
  });

  test('the realtime layer does not import the elections', () => {
    expect(
      edges.filter((e) => e.from.startsWith('shared/realtime/') && e.to.startsWith('shared/elections/')),
    ).toEqual([]);
  });

  test('the channel messages and the client events reach no domain code, even indirectly', () => {
    const reached = new Set<string>();
    const visit = (m: string): void => {
      for (const e of edges.filter((x) => x.from === m || x.from === `${m}.ts`)) {
        if (reached.has(e.to)) continue;
        reached.add(e.to);
        visit(e.to);
      }
    };
    visit('shared/realtime/channel-messages.ts');
    expect(reached).toContain('shared/realtime/events');
    const domain = /^shared\/(elections|votes|auth|ballots|membership|consensus|mutex)\//;
    expect([...reached].filter((m) => domain.test(m))).toEqual([]);
  });
});
