#!/usr/bin/env node
/**
 * `npm run build [-- --out-dir DIR]`: compiles gateway/ and subgraphs/ to JavaScript (tsc,
 * tsconfig.build.json) and copies every file they read at run time beside the compiled code, so
 * the output keeps the source tree's layout (paths computed from import.meta.url stay valid):
 *   DIR/gateway/…  (gateway.yaml, governance/*.yaml)   DIR/subgraphs/<domain>/…  (schema.graphql,
 *   data-products.yaml)   DIR/supergraph.yaml, DIR/supergraph.graphql, DIR/package.json (type: module)
 * and DIR/gateway/catalog/precomposed.json (work done once per build instead of at each start).
 * The explorer's page is rendered from @graphql-yoga/render-graphiql (a dependency) at run time.
 * Plain JavaScript: it must run where tsx is not installed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: join(ROOT, 'dist') }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log('Usage: npm run build -- [--out-dir DIR]\n\nCompiles gateway/ and subgraphs/ to JavaScript in DIR (default dist/) with the files they read at run time.\n\nOptions:\n  --out-dir DIR  where to write the build (default: dist)\n  -h, --help     this text');
  process.exit(0);
}
const out = resolve(values['out-dir']);
const SOURCES = ['gateway', 'subgraphs'];
const ROOT_FILES = ['supergraph.yaml', 'supergraph.graphql'];

// A previous build's folders go (a deleted source file must not live on in the output); nothing else in DIR is touched.
for (const dir of SOURCES) rmSync(join(out, dir), { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
if (compiled.status !== 0) {
  console.error(`error: tsc failed (exit ${compiled.status ?? compiled.signal})`);
  process.exit(1);
}

let copied = 0;
const copyAssets = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyAssets(path);
    else if (!name.endsWith('.ts')) {
      const target = join(out, relative(ROOT, path));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
      copied++;
    }
  }
};
for (const dir of SOURCES) copyAssets(join(ROOT, dir));
for (const file of ROOT_FILES) {
  if (existsSync(join(ROOT, file))) {
    cpSync(join(ROOT, file), join(out, file));
    copied++;
  }
}
// The build is ES modules wherever it is copied to (as the project's package.json says for the sources).
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);

// Work done once per build rather than at every start: the gateway's in-process subgraphs composed
// (gateway/catalog/precomposed.ts). Needs the dependencies reachable from DIR (node_modules above it);
// without them the gateway composes at start, as under tsx.
const precompose = spawnSync(
  process.execPath,
  ['--input-type=module', '-e', `import { writePrecomposed } from ${JSON.stringify(pathToFileURL(join(out, 'gateway/catalog/precomposed.js')).href)}; writePrecomposed();`],
  { encoding: 'utf8' },
);
if (precompose.status !== 0) console.warn(`warning: in-process subgraphs not precomposed (node_modules not reachable from ${out}?); the gateway composes them at start\n${precompose.stderr.split('\n').slice(0, 3).join('\n')}`);
console.log(`built ${relative(process.cwd(), out) || '.'}: compiled ${SOURCES.join(', ')}; copied ${copied} run-time files${precompose.status === 0 ? '; precomposed the in-process subgraphs' : ''}`);
