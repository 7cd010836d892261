import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { composeSubgraphs, loadSubgraphSchemas } from '../gateway/composition/compose-supergraph.js';
import { loadSupergraphConfig } from '../gateway/config/supergraph-config.js';
import { DEFAULT_SEED } from '../subgraphs/kit/deterministic-random.js';
import { startSubgraph, type RunningSubgraph } from '../subgraphs/kit/subgraph-server.js';
import customers from '../subgraphs/customers/index.js';
import { TEST_SIGNING_KEY } from './helpers/mesh.js';

/** `schema.subgraph_url`: composition introspects a running subgraph, ours included (it signs an identity). */
let subgraph: RunningSubgraph;
beforeAll(async () => {
  subgraph = await startSubgraph(customers, { port: 0, dbPath: join(inject('dataDir'), 'customers.db'), scale: 1, seed: DEFAULT_SEED, signingKey: TEST_SIGNING_KEY });
});
afterAll(() => subgraph?.close());

describe('composition from subgraph_url', () => {
  it('introspects one of our subgraphs (which only answers signed identities) and composes it with the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'introspect-'));
    const file = (name: string) => resolve(`subgraphs/${name}/schema.graphql`);
    // Every other subgraph of supergraph.yaml, from its schema file.
    const others = loadSupergraphConfig(resolve('supergraph.yaml')).subgraphs.filter((s) => s.name !== customers.name);
    const yaml = [
      'federation_version: =2.9.0',
      'subgraphs:',
      `  customers: { routing_url: "${subgraph.url}", schema: { subgraph_url: "${subgraph.url}" } }`,
      ...others.map(({ name: n }) => `  ${n}: { routing_url: "http://localhost:1/graphql", schema: { file: "${file(n)}" } }`),
    ].join('\n');
    writeFileSync(join(dir, 'supergraph.yaml'), yaml);
    const subgraphs = await loadSubgraphSchemas(loadSupergraphConfig(join(dir, 'supergraph.yaml')));
    const { supergraphSdl } = composeSubgraphs(subgraphs);
    expect(supergraphSdl).toContain('email: String @join__field(graph: CUSTOMERS)');
    expect(supergraphSdl).toContain(subgraph.url);
  });
});
