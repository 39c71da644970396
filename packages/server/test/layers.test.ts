import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The server's floors, as docs/architecture.md draws them: the map's folder tables match the
 * tree, and no import runs up a floor or into the gateway's rooms from outside.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const source = join(root, 'packages/server/src');
const architecture = readFileSync(join(root, 'docs/architecture.md'), 'utf8');

function folders(under: string): string[] {
  return readdirSync(under, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const path = join(under, entry.name);
      return [path, ...folders(path)];
    });
}

function sourceFiles(under: string): string[] {
  return readdirSync(under, { withFileTypes: true }).flatMap((entry) => {
    const path = join(under, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The first-column names of the markdown table under a heading. */
function tableNames(heading: string): string[] {
  const start = architecture.indexOf(`\n## ${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const end = architecture.indexOf('\n## ', start + 1);
  const section = architecture.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^\| `([^`]+)`/gm)].map((match) => match[1] ?? '');
}

/** Every relative import of a file, as a path under the server's `src`. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((match) =>
    relative(source, resolve(dirname(file), (match[1] ?? '').replace(/\.js$/, '.ts'))),
  );
}

function importsUnder(folder: string): { file: string; target: string }[] {
  return sourceFiles(join(source, folder)).flatMap((file) =>
    importsOf(file).map((target) => ({ file: relative(source, file), target })),
  );
}

describe('the architecture map and the tree', () => {
  it('lists every package of the repository, and no other', () => {
    const packages = readdirSync(join(root, 'packages')).map((name) => `packages/${name}`);
    expect(tableNames('Packages').sort()).toEqual(packages.sort());
  });

  it("lists every folder of the server's source, and no other (vendor folders under providers/ aside)", () => {
    const tree = folders(source)
      .map((folder) => relative(source, folder))
      .filter((folder) => !/^gateway\/providers\/./.test(folder));
    expect(tableNames('Server folders').sort()).toEqual(tree.sort());
  });
});

describe("the server's floors", () => {
  it('keeps config.ts and store/ free of the gateway, the control plane and the app builder', () => {
    const upward = [
      ...importsOf(join(source, 'config.ts')).map((target) => ({ file: 'config.ts', target })),
      ...importsUnder('store'),
    ].filter(({ target }) => /^(gateway|control|http)\//.test(target));
    expect(upward).toEqual([]);
  });

  it('lets control/ and http/ reach the gateway only through gateway/index.ts', () => {
    const intoRooms = [...importsUnder('control'), ...importsUnder('http')].filter(
      ({ target }) => target.startsWith('gateway/') && target !== 'gateway/index.ts',
    );
    expect(intoRooms).toEqual([]);
  });

  it('keeps the gateway free of the control plane and the app builder', () => {
    const upward = importsUnder('gateway').filter(({ target }) => /^(control|http)\//.test(target));
    expect(upward).toEqual([]);
  });
});
