#!/usr/bin/env node
/**
 * What the npm scripts run: `node scripts/run-cli.mjs <entry> [args…]`, e.g. `gateway/cli/gateway`.
 * With NODE_ENV=production it runs the compiled build (`dist/<entry>.js`, from `npm run build`),
 * which needs no TypeScript tooling (`npm ci --omit=dev`); otherwise the TypeScript source through
 * tsx (a devDependency), as in development and tests. Plain JavaScript: tsx may be absent.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The CLIs read process.argv.slice(2): they see their own arguments, as if started directly.
const [entry] = process.argv.splice(2, 1);
if (!entry) {
  console.error('usage: node scripts/run-cli.mjs <entry, e.g. gateway/cli/gateway> [args…]');
  process.exit(2);
}
const production = process.env.NODE_ENV === 'production';
const file = fileURLToPath(new URL(production ? `../dist/${entry}.js` : `../${entry}.ts`, import.meta.url));
if (!existsSync(file)) {
  console.error(production ? `error: ${file} not found: NODE_ENV=production runs the compiled build; run npm run build first` : `error: ${file} not found`);
  process.exit(1);
}
if (!production) {
  try {
    (await import('tsx/esm/api')).register();
  } catch {
    console.error('error: tsx is not installed (npm ci --omit=dev?): run the compiled build with NODE_ENV=production (after npm run build)');
    process.exit(1);
  }
}
// …and the file as the program (argv[1]), which is how a CLI module knows it is run, not imported.
process.argv[1] = file;
await import(pathToFileURL(file).href);
