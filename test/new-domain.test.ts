import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { domainNames } from '../subgraphs/kit/scaffold/templates.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { main as composeMain } from '../gateway/cli/compose.js';
import { main as newDomainMain } from '../subgraphs/new-domain.js';
import { CLI_TIMEOUT_MS, freePort, freePortRange, PROCESS_TEST_TIMEOUT_MS, ROOT, runCli, runMain, startCli, type RunningCli } from './helpers/cli.js';
import { postGraphQL, TEST_SIGNING_KEY } from './helpers/mesh.js';
import { IDENTITY_HEADER, IdentitySigner } from '../subgraphs/mesh/identity.js';

/**
 * `npm run new-domain -- widgets` in a copy of the repository's layout (gateway/, subgraphs/,
 * supergraph.yaml; node_modules linked), so the real repository never gets a sixth domain: the
 * generated domain type-checks, composes with the five others with every governance rule passing,
 * starts with `npm start`, answers through the gateway and is in the catalog.
 */
/** A name no domain has yet (so this test keeps working once a real "widgets" domain exists). */
const NAME = ['widgets', 'gadgets', 'sprockets'].find((n) => !existsSync(join(ROOT, 'subgraphs', n)))!;
const n = domainNames(NAME);
const DIR = `subgraphs/${NAME}`;
let copy: string;
let scaffold: Awaited<ReturnType<typeof runCli>>;
let mesh: RunningCli | undefined;
let gatewayPort: number;
let base: number;

const existingPorts = () =>
  Object.values((parseYaml(readFileSync(join(ROOT, 'supergraph.yaml'), 'utf8')) as { subgraphs: Record<string, { routing_url: string }> }).subgraphs).map((s) =>
    Number(new URL(s.routing_url).port),
  );

beforeAll(async () => {
  copy = mkdtempSync(join(tmpdir(), 'new-domain-test-'));
  for (const path of ['gateway', 'subgraphs', 'supergraph.yaml', 'package.json', 'tsconfig.json']) cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  scaffold = await runCli('subgraphs/new-domain.ts', [NAME, '--root', copy]);
}, PROCESS_TEST_TIMEOUT_MS);

afterAll(async () => {
  await mesh?.stop('SIGTERM');
  if (copy) rmSync(copy, { recursive: true, force: true });
}, PROCESS_TEST_TIMEOUT_MS);

describe(`npm run new-domain -- ${NAME}: a working domain from one command`, { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('writes the five files of a domain and registers it in supergraph.yaml with the next free port', () => {
    expect(scaffold.code, scaffold.stderr).toBe(0);
    for (const file of ['schema.graphql', 'repository.ts', 'seed.ts', 'index.ts', 'data-products.yaml']) {
      expect(existsSync(join(copy, DIR, file)), file).toBe(true);
      expect(scaffold.stdout).toContain(`created   ${DIR}/${file}`);
    }
    const entry = (parseYaml(readFileSync(join(copy, 'supergraph.yaml'), 'utf8')) as { subgraphs: Record<string, { routing_url: string; schema: { file: string } }> }).subgraphs[NAME]!;
    expect(entry.schema.file).toBe(`./${DIR}/schema.graphql`);
    const port = Number(new URL(entry.routing_url).port);
    expect(port).toBeGreaterThan(Math.max(...existingPorts()));
    expect(scaffold.stdout).toContain(`registered ${NAME} in supergraph.yaml on port ${port}`);
    // The real repository is untouched.
    expect(existsSync(join(ROOT, DIR))).toBe(false);
    expect(readFileSync(join(ROOT, 'supergraph.yaml'), 'utf8')).not.toContain(`${NAME}:`);
  });

  it('keeps the supergraph.yaml as it was around the new entry, comments included', () => {
    const before = readFileSync(join(ROOT, 'supergraph.yaml'), 'utf8');
    const after = readFileSync(join(copy, 'supergraph.yaml'), 'utf8');
    expect(after.startsWith(before.trimEnd())).toBe(true);
    expect(after.slice(before.trimEnd().length)).toMatch(new RegExp(`^\\n {2}${NAME}:\\n {4}routing_url: http://localhost:\\d+/graphql\\n {4}schema:\\n {6}file: \\./subgraphs/${NAME}/schema\\.graphql\\n$`));
  });

  it('writes a schema with an entity key, classified fields and @listSize, and no copy of the mesh directive definitions', () => {
    const sdl = readFileSync(join(copy, DIR, 'schema.graphql'), 'utf8');
    expect(sdl).toContain('https://specs.apollo.dev/federation/v2.9');
    expect(sdl).toContain(`type ${n.entity} @key(fields: "id")`);
    expect(sdl).toMatch(new RegExp(`${n.many}\\(first: Int = 20, after: ID\\): \\[${n.entity}!\\]! @classification\\(level: PUBLIC\\)\\n\\s+@listSize\\(slicingArguments: \\["first"\\]`));
    expect(sdl).not.toMatch(/^directive @classification/m);
    expect(sdl).not.toMatch(/^enum ClassificationLevel/m);
    const index = readFileSync(join(copy, DIR, 'index.ts'), 'utf8');
    expect(index).toContain(`DomainContext<${n.title}Repository, ReturnType<typeof loaders>>`);
    expect(index).toContain('loaderByKey(');
    expect(index).not.toMatch(/defaultPort|schemaPath/);
  });

  it('is idempotent: a second run keeps every file and the registration', async () => {
    const yaml = readFileSync(join(copy, 'supergraph.yaml'), 'utf8');
    const again = await runMain(newDomainMain, [NAME, '--root', copy]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.match(new RegExp(`kept {6}${DIR}/`, 'g'))).toHaveLength(5);
    expect(again.stdout).toContain(`supergraph.yaml already lists ${NAME}`);
    expect(readFileSync(join(copy, 'supergraph.yaml'), 'utf8')).toBe(yaml);
  });

  it('refuses a name that is not a domain name, with exit code 1', async () => {
    const bad = await runMain(newDomainMain, ['Bad-Name', '--root', copy]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('domain name "Bad-Name"');
  });

  it('type-checks', async () => {
    writeFileSync(join(copy, 'tsconfig.scaffold.json'), JSON.stringify({ extends: './tsconfig.json', include: [DIR, 'subgraphs/registry.ts'] }));
    const tsc = await runCli(join(ROOT, 'node_modules/typescript/bin/tsc'), ['--noEmit', '-p', join(copy, 'tsconfig.scaffold.json')]);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('composes with the other domains, every governance rule passing without a warning', async () => {
    const composed = await runMain(composeMain, ['--config', join(copy, 'supergraph.yaml'), '--output', join(copy, 'supergraph.graphql')]);
    expect(composed.code, composed.stderr).toBe(0);
    expect(composed.stdout).toMatch(/governance: \d+ rules checked, 0 failure\(s\), 0 warning\(s\)/);
    expect(composed.stdout).toContain(`composed ${DOMAINS.length + 1} subgraphs (${[...DOMAINS.map((d) => d.name), NAME].join(', ')})`);
    const supergraph = readFileSync(join(copy, 'supergraph.graphql'), 'utf8');
    expect(supergraph).toMatch(new RegExp(`type ${n.entity}\\s+@join__type\\(graph: ${NAME.toUpperCase()}, key: "id"\\)`));
  });

  it('starts with npm start, answers a query through the gateway and is in the data product catalog', async () => {
    gatewayPort = await freePort();
    do base = await freePortRange(DOMAINS.length + 1);
    while (gatewayPort >= base && gatewayPort <= base + DOMAINS.length);
    const dataDir = join(copy, 'data');
    mesh = startCli(join(copy, 'gateway/cli/start-mesh.ts'), [
      '--config', join(copy, 'supergraph.yaml'),
      '--port', String(gatewayPort),
      '--subgraph-port-base', String(base),
      '--data-dir', dataDir,
      '--scale', '0.02',
    ]);
    await mesh.waitForOutput(/Press Ctrl-C to stop\./, 2 * CLI_TIMEOUT_MS);
    expect(mesh.stdout).toContain(`${NAME.padEnd(10)} http://127.0.0.1:${base + DOMAINS.length}/graphql  (${join(dataDir, `${NAME}.db`)})`);

    const url = `http://127.0.0.1:${gatewayPort}/graphql`;
    const answer = await postGraphQL(url, `{ ${n.many}(first: 3) { id name status tags createdAt } ${n.one}(id: "2") { id name } }`);
    expect(answer.body.errors).toBeUndefined();
    const list = answer.body.data[n.many];
    expect(list.map((w: { id: string }) => w.id)).toEqual(['1', '2', '3']);
    expect(answer.body.data[n.one]).toEqual({ id: '2', name: list[1].name });
    expect(list[0].status).toMatch(/^(ACTIVE|ARCHIVED)$/);
    expect(answer.body.extensions?.dataProducts).toEqual([{ id: n.product, version: '1.0.0' }]);
    // Its list pages with cursors from the start (Relay connection, kit/paging.ts).
    const paged = `query($after: String) { ${n.many}Connection(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`;
    const page1 = (await postGraphQL(url, paged)).body.data[`${n.many}Connection`];
    expect(page1).toMatchObject({ nodes: [{ id: '1' }, { id: '2' }], pageInfo: { hasNextPage: true } });
    const page2 = (await postGraphQL(url, paged, { after: page1.pageInfo.endCursor })).body.data[`${n.many}Connection`];
    expect(page2.nodes).toEqual([{ id: '3' }, { id: '4' }]);
    expect((await postGraphQL(url, paged, { after: 'abc' })).body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const catalog = await postGraphQL(url, `{ dataProduct(id: "${n.product}") { id version status domain owner { team } fields { coordinate classification } quality { status } } }`);
    expect(catalog.body.errors).toBeUndefined();
    const product = catalog.body.data.dataProduct;
    expect(product).toMatchObject({ id: n.product, version: '1.0.0', status: 'ACTIVE', domain: NAME, owner: { team: `${n.title} Team` } });
    expect(product.fields.map((f: { coordinate: string }) => f.coordinate)).toEqual(
      expect.arrayContaining([`Query.${n.one}`, `Query.${n.many}`, ...['id', 'name', 'status', 'createdAt', 'tags'].map((f) => `${n.entity}.${f}`)]),
    );
    expect(product.quality.status).toBe('PASSED');
    const all = await postGraphQL(url, '{ dataProducts { id } }');
    expect(all.body.data.dataProducts.map((p: { id: string }) => p.id)).toContain(n.product);
  });

  it('runs on PostgreSQL too: <DOMAIN>_DATABASE_URL, seeded on first start, no SQLite file', async () => {
    const admin = new pg.Client(inject('postgres').admin);
    const database = `mesh_${NAME}_${process.pid}`;
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const dataDir = join(copy, 'data-pg');
    const port = await freePort();
    const subgraph = startCli(join(copy, 'subgraphs/cli.ts'), [NAME, '--port', String(port), '--data-dir', dataDir, '--scale', '0.02'], {
      env: { LOG_LEVEL: 'info', [`${NAME.toUpperCase()}_DATABASE_URL`]: inject('postgres').admin.replace(/\/postgres$/, `/${database}`) },
    });
    try {
      await subgraph.waitForOutput(/subgraph listening/);
      const identity = await new IdentitySigner(TEST_SIGNING_KEY).header({ authenticated: true, subject: 'tester', scopes: [], claims: {} });
      const answer = await postGraphQL(`http://127.0.0.1:${port}/graphql`, `{ ${n.many}(first: 3) { id name status tags } ${n.one}(id: "2") { id name } }`, undefined, { [IDENTITY_HEADER]: identity });
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data[n.many].map((w: { id: string }) => w.id)).toEqual(['1', '2', '3']);
      expect(answer.body.data[n.one]).toEqual({ id: '2', name: answer.body.data[n.many][1].name });
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await subgraph.stop('SIGTERM');
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    }
  });
});
