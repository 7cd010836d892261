import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rules of docs/architecture.md, checked on the source: every `.ts` file under
 * gateway/ and subgraphs/, every import specifier (static, re-export, side effect, dynamic).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_LINES = 450;
/** Files allowed over MAX_LINES, with the reason. Split a file rather than list it; remove entries once split. */
const LONG_FILE_EXCEPTIONS: Record<string, string> = {};

/** Import specifiers of a module's source (comments are not parsed, so keep imports out of them). */
function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /(?:^|[\s;}])(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]/g, // import … from '…', export … from '…'
    /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g, // import '…'
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…')
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.')) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Repository-relative, with forward slashes. */
const rel = (path: string) => relative(ROOT, path).split(sep).join('/');

interface Import {
  file: string;
  specifier: string;
  /** The project path it resolves to, or null for packages and node builtins. */
  target: string | null;
}

function importsOf(file: string): Import[] {
  return importSpecifiers(readFileSync(file, 'utf8')).map((specifier) => ({
    file: rel(file),
    specifier,
    target: specifier.startsWith('.') ? rel(resolve(dirname(file), specifier)).replace(/\.js$/, '.ts') : null,
  }));
}

const FILES = [...tsFiles(join(ROOT, 'gateway')), ...tsFiles(join(ROOT, 'subgraphs'))];
const IMPORTS = FILES.flatMap(importsOf);
/** Every folder directly under subgraphs/ other than mesh/ and kit/. */
const DOMAINS = readdirSync(join(ROOT, 'subgraphs')).filter(
  (name) => name !== 'mesh' && name !== 'kit' && statSync(join(ROOT, 'subgraphs', name)).isDirectory(),
);

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);
const isDomain = (path: string) => DOMAINS.some((d) => under(path, `subgraphs/${d}`));
const show = (i: Import) => `${i.file}: imports '${i.specifier}' (${i.target})`;

describe('architecture', () => {
  it('reads static, re-exported, side-effect and dynamic import specifiers, across lines', () => {
    const source = [
      "import { a } from './a.js';",
      'import {',
      '  b,',
      '  type C,',
      "} from '../b.js';",
      "import type { D } from \"pkg\";",
      "export { e } from './e.js';",
      "export * from './f.js';",
      "import './side-effect.js';",
      "const g = await import('./g.js');",
      "const url = new URL('./schema.graphql', import.meta.url); // not an import",
    ].join('\n');
    expect(importSpecifiers(source).sort()).toEqual(['../b.js', './a.js', './e.js', './f.js', './g.js', './side-effect.js', 'pkg']);
  });

  it('sees the real imports (the scan is not silently empty)', () => {
    expect(DOMAINS).toEqual(expect.arrayContaining(['customers', 'sales']));
    expect(IMPORTS.filter((i) => i.file.startsWith('gateway/') && i.target?.startsWith('subgraphs/mesh/')).length).toBeGreaterThan(5);
    expect(IMPORTS.some((i) => i.file === 'subgraphs/cli.ts' && i.target === 'subgraphs/registry.ts')).toBe(true);
  });

  it('the mesh contract (subgraphs/mesh) imports nothing of the project outside itself', () => {
    const bad = IMPORTS.filter((i) => under(i.file, 'subgraphs/mesh') && i.target !== null && !under(i.target, 'subgraphs/mesh'));
    expect(bad.map(show)).toEqual([]);
  });

  it('the kit imports only itself and the mesh: never the registry, the CLI entry point, a domain or the gateway', () => {
    const bad = IMPORTS.filter(
      (i) => under(i.file, 'subgraphs/kit') && i.target !== null && !under(i.target, 'subgraphs/kit') && !under(i.target, 'subgraphs/mesh'),
    );
    expect(bad.map(show)).toEqual([]);
  });

  it('domains import the kit, the mesh and domain code, never the gateway, the registry or the CLI entry point', () => {
    const bad = IMPORTS.filter(
      (i) => isDomain(i.file) && i.target !== null && !under(i.target, 'subgraphs/kit') && !under(i.target, 'subgraphs/mesh') && !isDomain(i.target),
    );
    expect(bad.map(show)).toEqual([]);
  });

  it('the gateway imports only the mesh of subgraphs/ (gateway/cli, which starts domains, excepted)', () => {
    const bad = IMPORTS.filter(
      (i) => under(i.file, 'gateway') && !under(i.file, 'gateway/cli') && i.target !== null && under(i.target, 'subgraphs') && !under(i.target, 'subgraphs/mesh'),
    );
    expect(bad.map(show)).toEqual([]);
  });

  it(`no source file in gateway/ or subgraphs/ is longer than ${MAX_LINES} lines`, () => {
    const long = FILES.map((file) => ({ file: rel(file), lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
      .filter(({ file, lines }) => lines > MAX_LINES && !(file in LONG_FILE_EXCEPTIONS))
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});
