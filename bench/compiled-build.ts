import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where the compiled forms are: ours as `npm run build` makes it, and Apollo Gateway's harness. */
export interface CompiledBuild {
  /** Our build's directory (`gateway/cli/gateway.js`, `subgraphs/cli.js`). */
  ours: string;
  /** bench/apollo-gateway.ts compiled with tsc. */
  apollo: string;
}

/**
 * Builds both gateways as they are deployed: plain JavaScript, no TypeScript transform at run time
 * (tsx costs start-up time and resident memory, more for ours, which has more files). Both land
 * under `workDir`, inside ROOT, so node resolves ROOT/node_modules and package.json's "type".
 */
export function buildCompiled(workDir: string): CompiledBuild {
  const ours = join(workDir, 'build');
  const apolloDir = join(workDir, 'apollo');
  run([join(ROOT, 'scripts/build.mjs'), '--out-dir', ours]);
  run([
    join(ROOT, 'node_modules/typescript/bin/tsc'),
    join(ROOT, 'bench/apollo-gateway.ts'),
    '--outDir', apolloDir, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node',
  ]);
  return { ours, apollo: join(apolloDir, 'apollo-gateway.js') };
}

function run(args: string[]): void {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${args.slice(0, 2).join(' ')} failed (exit ${result.status ?? result.signal})`);
}
