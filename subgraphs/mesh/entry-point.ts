import { fileURLToPath } from 'node:url';

/**
 * Another entry point of this code base, in the form the running code has: the TypeScript source
 * run through tsx (development, tests) or the compiled JavaScript of `npm run build` (production,
 * where tsx is not installed). `path` is relative to `from` (the caller's import.meta.url) and
 * names the `.ts` source. Returns the file and the node options a child process needs to run it.
 */
export function entryPoint(path: string, from: string): { file: string; execArgv: string[] } {
  const compiled = !fileURLToPath(from).endsWith('.ts');
  const file = fileURLToPath(new URL(compiled ? path.replace(/\.ts$/, '.js') : path, from));
  return { file, execArgv: compiled ? [] : ['--import', 'tsx'] };
}
