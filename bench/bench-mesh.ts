/**
 * The subgraphs and the supergraph the scale-out benchmarks (cold start, workers) run against: the
 * mesh's five subgraphs, each in its own process (as `npm run bench` starts them), composed once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripSecurityLinkPurposes } from '../gateway/authorization/strip-security-links.js';
import { composeSubgraphs, loadSubgraphSchemas } from '../gateway/composition/compose-supergraph.js';
import { loadSupergraphConfig } from '../gateway/config/supergraph-config.js';
import { governanceEnv } from './auth.js';
import { freePort, spawnChild, waitUntil, type Child } from './processes.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BenchMesh {
  children: Child[];
  /** As composed: what our gateway loads. */
  supergraphFile: string;
  /** Without `for: SECURITY` link purposes: what plain Apollo Gateway can load. */
  strippedSupergraphFile: string;
  stop(): Promise<void>;
}

export async function startBenchMesh(o: { dataDir: string; workDir: string; logDir: string; scale: number }): Promise<BenchMesh> {
  const config = loadSupergraphConfig(join(ROOT, 'supergraph.yaml'));
  const children: Child[] = [];
  const stop = async () => void (await Promise.all(children.splice(0).map((c) => c.stop().catch(() => {}))));
  try {
    const subgraphs = await Promise.all(
      config.subgraphs.map(async ({ name }) => {
        const port = await freePort();
        const child = spawnChild(
          `subgraph ${name}`,
          process.execPath,
          ['--import', 'tsx', join(ROOT, 'subgraphs/cli.ts'), name, '--port', String(port), '--host', '127.0.0.1', '--db', join(o.dataDir, `${name}.db`), '--scale', String(o.scale)],
          { env: { ...governanceEnv(), LOG_LEVEL: 'warn' }, logFile: join(o.logDir, `subgraph-${name}.log`), cwd: ROOT },
        );
        children.push(child);
        const base = `http://127.0.0.1:${port}`;
        await waitUntil(child, 'healthy', () => fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok), 600_000);
        return { name, url: `${base}/graphql` };
      }),
    );
    const routingUrls = Object.fromEntries(subgraphs.map((x) => [x.name, x.url]));
    const { supergraphSdl } = composeSubgraphs(await loadSubgraphSchemas(config, { routingUrls }));
    const supergraphFile = join(o.workDir, 'supergraph.graphql');
    const strippedSupergraphFile = join(o.workDir, 'supergraph.no-security-purposes.graphql');
    writeFileSync(supergraphFile, supergraphSdl);
    writeFileSync(strippedSupergraphFile, stripSecurityLinkPurposes(supergraphSdl));
    return { children, supergraphFile, strippedSupergraphFile, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
