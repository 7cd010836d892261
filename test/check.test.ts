import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { composeSubgraphs, loadSubgraphSchemas } from '../gateway/composition/compose-supergraph.js';
import { loadSupergraphConfig } from '../gateway/config/supergraph-config.js';
import { dayOf, UsageStore } from '../gateway/usage/usage-store.js';
import { main as checkMain } from '../gateway/cli/check.js';
import { PROCESS_TEST_TIMEOUT_MS, ROOT, runCli, runMain } from './helpers/cli.js';
import { replaceOnce } from './helpers/data-products.js';
import { startMesh } from './helpers/mesh.js';

/**
 * `npm run check -- products …`: proposed schemas of the products subgraph, against a baseline
 * composed from the files as they are (so only the proposal differs), with usage recorded by a
 * real gateway (a store where Product.description was used) or written directly (one where it was
 * not).
 */
const CHECK = 'gateway/cli/check.ts';
const SCHEMA = readFileSync(join(ROOT, 'subgraphs/products/schema.graphql'), 'utf8');
const DESCRIPTOR_FILE = join(ROOT, 'subgraphs/products/data-products.yaml');
const DESCRIPTOR = readFileSync(DESCRIPTOR_FILE, 'utf8');
const DESCRIPTION_FIELD = '  description: String! @classification(level: PUBLIC) @tag(name: "public")\n';
const DESCRIPTION_PROPERTY = '          - { name: description, physicalName: description }\n';
const FULL_VERSION = /\nversion: (\d+\.\d+\.\d+)\n/.exec(DESCRIPTOR)![1]!;
const VERSION = FULL_VERSION.split('.')[0]!;
const MAJOR_BUMP = (yaml: string) => yaml.replace(/\nversion: \d+\.\d+\.\d+\n/, `\nversion: ${Number(VERSION) + 1}.0.0\n`);

let dir: string;
let baseline: string;
let usedStore: string;
let unusedStore: string;

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** The CLI's logic in-process (the last test runs the real `npm run check` process). */
function check(schema: string, descriptor: string, store: string | null, ...extra: string[]) {
  return runMain(checkMain, [
    'products',
    '--schema', file(`schema-${Math.random().toString(36).slice(2)}.graphql`, schema),
    '--descriptor', file(`descriptor-${Math.random().toString(36).slice(2)}.yaml`, descriptor),
    '--supergraph', baseline,
    '--base-descriptor', DESCRIPTOR_FILE,
    '--usage', store ?? join(dir, 'no-store.db'),
    ...extra,
  ]);
}

const json = (stdout: string) => JSON.parse(stdout) as any;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'check-test-'));
  const { supergraphSdl } = composeSubgraphs(await loadSubgraphSchemas(loadSupergraphConfig(join(ROOT, 'supergraph.yaml'))));
  baseline = file('baseline.graphql', supergraphSdl);

  // A real gateway records what operations used: one reads Product.description.
  usedStore = join(dir, 'used.db');
  vi.stubEnv('MESH_USAGE_DB', usedStore);
  const mesh = await startMesh();
  try {
    const answer = await mesh.query('{ products(first: 2) { id name description } }');
    expect(answer.body.errors).toBeUndefined();
    await mesh.query('{ product(id: "1") { name price } }');
  } finally {
    await mesh.close();
    vi.unstubAllEnvs();
  }

  // Another store: operations were recorded, none of them read Product.description, launchedOn or sku.
  unusedStore = join(dir, 'unused.db');
  const store = UsageStore.open(unusedStore);
  store.add(new Map([[dayOf(Date.now()), { operations: 250, coordinates: new Map([['Query.products', 250], ['Product.name', 250], ['Query.products(first:)', 200]]) }]]));
  store.close();
}, PROCESS_TEST_TIMEOUT_MS);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the usage store', () => {
  it('has what the gateway recorded: fields, arguments passed and operations, per day', () => {
    const reader = UsageStore.read(usedStore)!;
    const usage = reader.since(dayOf(Date.now()));
    reader.close();
    expect(usage.operations).toBe(2);
    expect(usage.coordinates.get('Product.description')?.count).toBe(1);
    expect(usage.coordinates.get('Product.name')?.count).toBe(2);
    expect(usage.coordinates.get('Query.products(first:)')?.count).toBe(1);
    expect(usage.coordinates.get('Query.product(id:)')?.count).toBe(1);
    expect(usage.coordinates.has('Product.sku')).toBe(false);
  });
});

describe('npm run check', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  const removal = replaceOnce(SCHEMA, DESCRIPTION_FIELD, '');
  const removalDescriptor = MAJOR_BUMP(replaceOnce(DESCRIPTOR, DESCRIPTION_PROPERTY, ''));

  it('fails a removed field that recorded operations used, naming it, with exit code 1', async () => {
    const result = await check(removal, removalDescriptor, usedStore);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+BREAKING\s+Product\.description\s+Field 'description' was removed from object type 'Product'\s+1 use\(s\) since \d{4}-\d\d-\d\d, last \d{4}-\d\d-\d\d/);
    expect(result.stdout).toContain('FAIL: 1 problem(s):');
    expect(result.stdout).toMatch(/^ {2}Product\.description: .*used 1 time\(s\) in the window/m);
  });

  it('passes the same removal as safe, with the evidence, when no recorded operation used it', async () => {
    const result = await check(removal, removalDescriptor, unusedStore, '--json');
    expect(result.code, result.stderr).toBe(0);
    const report = json(result.stdout);
    expect(report.passed).toBe(true);
    const change = report.changes.find((c: any) => c.coordinate === 'Product.description');
    expect(change).toMatchObject({ level: 'safe', schemaLevel: 'breaking', type: 'FIELD_REMOVED', failed: false, reasons: [] });
    expect(change.usage).toMatchObject({ count: 0, operations: 250 });
    expect(change.usage.text).toMatch(/^0 uses in 250 operation\(s\) since \d{4}-\d\d-\d\d$/);
    expect(change.products).toEqual([{ id: 'product-catalog', subgraph: 'products', from: FULL_VERSION, to: `${Number(VERSION) + 1}.0.0`, majorBump: true }]);

    const table = await check(removal, removalDescriptor, unusedStore);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/ok\s+safe \(unused\)\s+Product\.description\s+.*0 uses in 250 operation\(s\) since/);
    expect(table.stdout).toContain('PASS: subgraph products can be published.');
  });

  it('classifies an added optional field as safe', async () => {
    const schema = replaceOnce(SCHEMA, DESCRIPTION_FIELD, `${DESCRIPTION_FIELD}  "Shipping weight in kg, when known."\n  weightKg: Float @classification(level: PUBLIC)\n`);
    const descriptor = replaceOnce(DESCRIPTOR, DESCRIPTION_PROPERTY, `${DESCRIPTION_PROPERTY}          - { name: weightKg }\n`);
    const result = await check(schema, descriptor, null, '--json');
    expect(result.code, result.stderr).toBe(0);
    const report = json(result.stdout);
    expect(report.changes).toEqual([expect.objectContaining({ level: 'safe', schemaLevel: 'safe', type: 'FIELD_ADDED', coordinate: 'Product.weightKg', failed: false })]);
  });

  it("fails a type change of a data product's output without a major version bump, even unused; passes with one", async () => {
    const schema = replaceOnce(SCHEMA, '  launchedOn: String! @classification(level: PUBLIC) @tag(name: "public")', '  launchedOn: Int! @classification(level: PUBLIC) @tag(name: "public")');
    const result = await check(schema, DESCRIPTOR, unusedStore, '--json');
    expect(result.code, result.stderr).toBe(1);
    const report = json(result.stdout);
    const change = report.changes.find((c: any) => c.coordinate === 'Product.launchedOn');
    expect(change).toMatchObject({ level: 'safe', schemaLevel: 'breaking', type: 'FIELD_TYPE_CHANGED', failed: true });
    expect(change.products).toEqual([expect.objectContaining({ id: 'product-catalog', majorBump: false })]);
    expect(change.reasons).toEqual([expect.stringMatching(/^output of data product product-catalog .*needs a major version bump in subgraphs\/products\/data-products\.yaml/)]);
    expect(report.failures).toEqual([{ kind: 'change', coordinate: 'Product.launchedOn', message: expect.stringContaining("changed type from 'String!' to 'Int!'") }]);

    const bumped = await check(schema, MAJOR_BUMP(DESCRIPTOR), unusedStore);
    expect(bumped.code, bumped.stdout).toBe(0);
  });

  it('fails what the governance rules refuse and what does not compose, naming the coordinate', async () => {
    // The field is gone from the schema but still declared by the product.
    const governance = await check(removal, MAJOR_BUMP(DESCRIPTOR), unusedStore, '--json');
    expect(governance.code).toBe(1);
    expect(json(governance.stdout).failures).toContainEqual(expect.objectContaining({ kind: 'governance', coordinate: 'Product.description', message: expect.stringMatching(/^\[descriptor-matches-schema\]/) }));

    // finance declares Product.price @external Float!: another type does not compose.
    const composition = await check(replaceOnce(SCHEMA, '  price: Float! @classification(level: PUBLIC) @tag(name: "public")', '  price: String! @classification(level: PUBLIC) @tag(name: "public")'), DESCRIPTOR, null);
    expect(composition.code).toBe(1);
    expect(composition.stdout).toContain('Composition failed:');
    expect(composition.stdout).toMatch(/Product\.price: \[[A-Z_]+\]/);
  });

  it("fails a proposal that would break a gateway contract (gateway.yaml's PUBLIC-only partner)", async () => {
    const launchedOn = '  launchedOn: String! @classification(level: PUBLIC) @tag(name: "public")\n';
    const schema = replaceOnce(SCHEMA, launchedOn, `${launchedOn}  "Warehouse note."\n  stockNote: String @classification(level: INTERNAL) @tag(name: "public")\n`);
    const descriptor = replaceOnce(DESCRIPTOR, DESCRIPTION_PROPERTY, `${DESCRIPTION_PROPERTY}          - { name: stockNote, physicalName: stock_note, classification: internal }\n`);
    const result = await check(schema, descriptor, null, '--json');
    expect(result.code).toBe(1);
    expect(json(result.stdout).failures).toContainEqual({
      kind: 'contract',
      coordinate: null,
      message: expect.stringContaining('contracts.partner: contract "partner" fails:\n  - Product.stockNote is INTERNAL, above max_classification PUBLIC'),
    });
  });

  it('prints JSON for CI: the result, the changes with their evidence, the failures', async () => {
    const result = await check(removal, removalDescriptor, usedStore, '--json', '--window', '2w');
    const report = json(result.stdout);
    expect(Object.keys(report).sort()).toEqual(['baseline', 'changes', 'composition', 'failures', 'governance', 'otherChanges', 'passed', 'subgraph', 'usage', 'window']);
    expect(report).toMatchObject({
      subgraph: 'products',
      passed: false,
      window: { days: 14, since: expect.stringMatching(/^\d{4}-\d\d-\d\d$/) },
      usage: { found: true, operations: 2 },
      composition: [],
      governance: [],
      otherChanges: [],
    });
    expect(Object.keys(report.changes[0]).sort()).toEqual(['coordinate', 'failed', 'level', 'message', 'products', 'reasons', 'schemaLevel', 'subgraphs', 'type', 'usage']);
    expect(report.changes[0]).toMatchObject({ coordinate: 'Product.description', level: 'breaking', subgraphs: ['products'], usage: { count: 1, operations: 2 } });
    expect(report.failures).toEqual([{ kind: 'change', coordinate: 'Product.description', message: expect.stringContaining('used 1 time(s)') }]);
  });

  it('refuses an unknown subgraph with exit code 2', async () => {
    const result = await runCli(CHECK, ['nosuch']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no subgraph "nosuch"');
  });
});
