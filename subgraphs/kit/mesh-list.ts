import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * The mesh's list of subgraphs is supergraph.yaml (Rover's format), the one place a domain is
 * registered: composition reads it, and the registry derives the kit-built domains from it (an entry
 * whose `schema.file` is `<subgraphs>/<name>/schema.graphql` beside an `index.ts`), with each
 * domain's default port taken from its `routing_url`. The gateway validates the file strictly
 * (gateway/config); this reads only what the kit needs.
 */
export interface MeshEntry {
  name: string;
  routingUrl: string;
  /** The routing URL's port (null when it has none, e.g. a remote https URL). */
  port: number | null;
  /** Absolute path of `schema.file`, or null for a subgraph introspected from `subgraph_url`. */
  schemaFile: string | null;
}

export function readMeshList(supergraphYaml: string): MeshEntry[] {
  const root = parse(readFileSync(supergraphYaml, 'utf8')) as { subgraphs?: Record<string, { routing_url?: unknown; schema?: { file?: unknown } }> } | null;
  const base = dirname(resolve(supergraphYaml));
  return Object.entries(root?.subgraphs ?? {}).map(([name, entry]) => {
    const routingUrl = typeof entry?.routing_url === 'string' ? entry.routing_url : '';
    let port: number | null = null;
    try {
      const url = new URL(routingUrl);
      port = url.port ? Number(url.port) : null;
    } catch {
      port = null;
    }
    const file = entry?.schema?.file;
    return { name, routingUrl, port, schemaFile: typeof file === 'string' ? resolve(base, file) : null };
  });
}

/** A kit-built domain of the list: its folder under `subgraphsDir` and its module. */
export interface DomainEntry extends MeshEntry {
  dir: string;
  /** Absolute path of the domain's `index.ts` (`index.js` in the compiled build). */
  module: string;
}

/**
 * The entries that are domains built on this kit (folder `<subgraphsDir>/<name>/` with schema.graphql
 * and index.ts, or index.js in the compiled build of `npm run build`, where no .ts file is).
 */
export function kitDomainEntries(supergraphYaml: string, subgraphsDir: string): DomainEntry[] {
  return readMeshList(supergraphYaml).flatMap((entry) => {
    const dir = join(resolve(subgraphsDir), entry.name);
    const module = ['index.ts', 'index.js'].map((name) => join(dir, name)).find((file) => existsSync(file));
    if (entry.schemaFile !== join(dir, 'schema.graphql') || !module) return [];
    return [{ ...entry, dir, module }];
  });
}
