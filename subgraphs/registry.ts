import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Domain } from './kit/domain.js';
import { kitDomainEntries } from './kit/mesh-list.js';
import { SUPERGRAPH_YAML } from './supergraph-file.js';

/**
 * Every domain of the mesh, in start order: the subgraphs of supergraph.yaml that have a folder
 * here (schema.graphql and index.ts), each module's default export. supergraph.yaml is the one
 * place a domain is registered (`npm run new-domain` adds it there); a domain's default port is its
 * routing_url's, so a domain module need not repeat it (if it does, the two must agree).
 */
export { SUPERGRAPH_YAML };

export const DOMAINS: readonly Domain[] = await Promise.all(
  kitDomainEntries(SUPERGRAPH_YAML, fileURLToPath(new URL('.', import.meta.url))).map(async (entry) => {
    const domain = ((await import(pathToFileURL(entry.module).href)) as { default?: Domain }).default;
    if (!domain || typeof domain !== 'object' || typeof domain.name !== 'string') {
      throw new Error(`${entry.module}: its default export must be a domain (export default defineDomain({...}))`);
    }
    if (domain.name !== entry.name) throw new Error(`${entry.module}: the domain is named "${domain.name}" but supergraph.yaml lists it as "${entry.name}"`);
    if (domain.defaultPort && entry.port !== null && domain.defaultPort !== entry.port) {
      throw new Error(`${entry.module}: defaultPort ${domain.defaultPort} disagrees with supergraph.yaml's routing_url ${entry.routingUrl}: keep only the routing_url`);
    }
    return { ...domain, defaultPort: domain.defaultPort || entry.port || 0 };
  }),
);
