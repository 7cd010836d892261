import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'graphql';
import { inject } from 'vitest';
import { composeSubgraphs } from '../../gateway/composition/compose-supergraph.js';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/server/gateway-server.js';
import { DESCRIPTOR_FILE } from '../../subgraphs/mesh/data-products/descriptor.js';
import { DEFAULT_SEED } from '../../subgraphs/kit/deterministic-random.js';
import { IdentitySigner, IDENTITY_HEADER } from '../../subgraphs/mesh/identity.js';
import { startSubgraph, type RunningSubgraph } from '../../subgraphs/kit/subgraph-server.js';
import { DOMAINS } from '../../subgraphs/registry.js';
import { postGraphQL, TEST_SIGNING_KEY, testConfig, type GraphQLResponse } from './mesh.js';

/** A copy of a domain's seeded test database, to break without disturbing other tests. */
export async function copyDatabase(domain: string): Promise<string> {
  const source = new Database(join(inject('dataDir'), `${domain}.db`), { readonly: true });
  const target = join(mkdtempSync(join(tmpdir(), `dp-${domain}-`)), `${domain}.db`);
  try {
    await source.backup(target);
  } finally {
    source.close();
  }
  return target;
}

/** GET on a subgraph's catalog endpoint, signed like the gateway's own calls. */
export async function getDataProducts(subgraph: RunningSubgraph, signed = true): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (signed) headers[IDENTITY_HEADER] = await new IdentitySigner(TEST_SIGNING_KEY).header({ authenticated: false, subject: null, scopes: [], claims: {} });
  const response = await fetch(new URL('/data-products', subgraph.url), { headers });
  return { status: response.status, body: await response.json() };
}

export interface Variant {
  /** Rewrites the domain's schema text. */
  schema?: (sdl: string) => string;
  /** Rewrites the domain's descriptor text. */
  descriptor?: (yaml: string) => string;
  /** Another database file for this domain. */
  dbPath?: string;
}

export interface VariantMesh {
  gateway: RunningGateway;
  subgraphs: Record<string, RunningSubgraph>;
  supergraphSdl: string;
  query<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

/**
 * The real mesh with some domains changed: their schema and descriptor rewritten into a temp
 * folder (the kit finds a descriptor beside the schema), composed from the changed schemas.
 */
export async function startVariantMesh(variants: Record<string, Variant>, gatewayOptions: Partial<GatewayOptions> = {}): Promise<VariantMesh> {
  const dataDir = inject('dataDir');
  const subgraphs: Record<string, RunningSubgraph> = {};
  const typeDefs: Record<string, string> = {};
  try {
    for (const domain of DOMAINS) {
      const variant = variants[domain.name];
      let schemaPath = domain.schemaPath;
      if (variant?.schema || variant?.descriptor) {
        const dir = mkdtempSync(join(tmpdir(), `dp-variant-${domain.name}-`));
        schemaPath = join(dir, 'schema.graphql');
        const sdl = readFileSync(domain.schemaPath, 'utf8');
        writeFileSync(schemaPath, variant.schema ? variant.schema(sdl) : sdl);
        const yaml = readFileSync(join(dirname(domain.schemaPath), DESCRIPTOR_FILE), 'utf8');
        writeFileSync(join(dir, DESCRIPTOR_FILE), variant.descriptor ? variant.descriptor(yaml) : yaml);
      }
      typeDefs[domain.name] = readFileSync(schemaPath, 'utf8');
      subgraphs[domain.name] = await startSubgraph(
        { ...domain, schemaPath },
        { port: 0, dbPath: variant?.dbPath ?? join(dataDir, `${domain.name}.db`), scale: 1, seed: DEFAULT_SEED, signingKey: TEST_SIGNING_KEY },
      );
    }
  } catch (error) {
    await Promise.all(Object.values(subgraphs).map((s) => s.close()));
    throw error;
  }
  const { supergraphSdl } = composeSubgraphs(DOMAINS.map((d) => ({ name: d.name, url: subgraphs[d.name]!.url, typeDefs: parse(typeDefs[d.name]!) })));
  const gateway = await startGateway({ supergraphSdl, port: 0, config: testConfig(), ...gatewayOptions });
  return {
    gateway,
    subgraphs,
    supergraphSdl,
    query: (query, variables, headers) => postGraphQL(gateway.graphqlUrl, query, variables, headers),
    async close() {
      await gateway.close();
      await Promise.all(Object.values(subgraphs).map((s) => s.close().catch(() => {})));
    },
  };
}

/** Replaces exactly one occurrence of `from` (a test fixture edit must hit its target). */
export function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`expected exactly one occurrence of ${JSON.stringify(from)}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}
