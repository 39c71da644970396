import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The README and the architecture map describe the tree a newcomer clones; they must not drift. */
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const architecture = readFileSync(join(root, 'docs/architecture.md'), 'utf8');

function repositoryTableFolders(): string[] {
  const section = readme.slice(readme.indexOf('## Repository'));
  return [...section.matchAll(/^\| `([^`]+)`/gm)].map((match) => (match[1] ?? '').replace(/\/$/, ''));
}

function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
    .map((match) => match[1] ?? '')
    .filter((target) => !/^[a-z]+:/.test(target));
}

describe('the repository map', () => {
  it("names in the README's repository table only folders that exist, and every package and docs folder", () => {
    const folders = repositoryTableFolders();
    expect(folders.length).toBeGreaterThan(3);
    for (const folder of folders) expect(existsSync(join(root, folder)), folder).toBe(true);
    const packages = readdirSync(join(root, 'packages')).map((name) => `packages/${name}`);
    for (const folder of [...packages, 'bench', 'docs']) expect(folders).toContain(folder);
  });

  it('links only to files that exist, and lists every docs page', () => {
    for (const target of relativeLinks(readme)) expect(existsSync(join(root, target)), target).toBe(true);
    for (const target of relativeLinks(architecture)) {
      expect(existsSync(join(root, 'docs', target)), target).toBe(true);
    }
    const docsSection = readme.slice(readme.indexOf('## Repository'));
    for (const page of readdirSync(join(root, 'docs'))) {
      expect(docsSection, `docs/${page}`).toContain(`docs/${page.replace(/\.md$/, '')}`);
    }
  });

  it('cites nothing outside the repository in the architecture map', () => {
    expect(architecture).not.toMatch(/shared\/|\.\.\/|DESIGN\.md/);
  });
});
