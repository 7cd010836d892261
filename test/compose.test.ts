import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { composeSubgraphs, loadSubgraphSchemas } from '../gateway/composition/compose-supergraph.js';
import { loadSupergraphConfig } from '../gateway/config/supergraph-config.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { DEFAULT_SEED } from '../subgraphs/kit/deterministic-random.js';
import { startSubgraph, type RunningSubgraph } from '../subgraphs/kit/subgraph-server.js';
import { main as composeMain } from '../gateway/cli/compose.js';
import { main as gatewayMain } from '../gateway/cli/gateway.js';
import { acceptsConnections, PROCESS_TEST_TIMEOUT_MS, ROOT, runCli, runMain, startCli, type CliResult, type RunningCli } from './helpers/cli.js';
import { fullAccess, postGraphQL } from './helpers/mesh.js';

const COMPOSE = 'gateway/cli/compose.ts';
const GATEWAY = 'gateway/cli/gateway.ts';
const schemaOf = (domain: string) => join(ROOT, 'subgraphs', domain, 'schema.graphql');
const FED = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable"])\n';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'compose-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `files` into the temp dir and returns the path of the first one. */
function write(files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return join(dir, Object.keys(files)[0]!);
}

/** The real customers subgraph as an entry under `subgraphs:`. */
const customersEntry = `  customers:\n    routing_url: http://localhost:4001/graphql\n    schema:\n      file: ${schemaOf('customers')}\n`;

/** The CLI's logic in-process (`process: true`: the real `npm run compose` process, as a user runs it). */
async function compose(config: string, { process = false } = {}): Promise<CliResult & { output: string }> {
  const output = join(dir, `${config.split('/').pop()}.out.graphql`);
  const args = ['--config', config, '--output', output];
  const result = process ? await runCli(COMPOSE, args) : await runMain(composeMain, args);
  return { ...result, output };
}

/** A user's mistake: exit code 1, the message on stderr, no stack trace, nothing written. */
function expectUserError(result: CliResult & { output: string }, ...mentions: (string | RegExp)[]) {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(1);
  for (const mention of mentions) {
    if (typeof mention === 'string') expect(result.stderr).toContain(mention);
    else expect(result.stderr).toMatch(mention);
  }
  expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(existsSync(result.output)).toBe(false);
}

// Timeouts fit a loaded machine (real processes, or compositions in this one); waits end on their output or exit.
describe('npm run compose: configuration mistakes name the file and the key', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('fails on a config file that does not exist, naming it', async () => {
    const config = join(dir, 'no-such-supergraph.yaml');
    expectUserError(await compose(config, { process: true }), `${config}: file not found`);
  });

  it('fails on invalid YAML with the file and the line', async () => {
    const config = write({ 'invalid.yaml': `federation_version: =2.9.0\nsubgraphs:\n  customers: [\n    routing_url: x\n` });
    expectUserError(await compose(config), `${config}: invalid YAML at line`);
  });

  it('rejects an unknown top-level key (a typo of `subgraphs`), naming the key', async () => {
    const config = write({ 'top-level.yaml': `federation_version: =2.9.0\nsubgraph:\n${customersEntry}` });
    expectUserError(await compose(config), `${config}: subgraph: unknown key`, 'federation_version, subgraphs');
  });

  it('rejects an unknown key inside a subgraph (routing_ur), naming its path', async () => {
    const config = write({
      'subgraph-key.yaml': `subgraphs:\n  customers:\n    routing_ur: http://localhost:4001/graphql\n    schema:\n      file: ${schemaOf('customers')}\n`,
    });
    expectUserError(await compose(config), `${config}: subgraphs.customers.routing_ur: unknown key`, 'routing_url');
  });

  it('rejects an unknown key inside a subgraph schema block, naming its path', async () => {
    const config = write({ 'schema-key.yaml': `subgraphs:\n  customers:\n    routing_url: http://localhost:4001/graphql\n    schema:\n      files: x.graphql\n` });
    expectUserError(await compose(config), `${config}: subgraphs.customers.schema.files: unknown key`);
  });

  it('rejects a subgraph name given twice (duplicate YAML key), naming it', async () => {
    const config = write({ 'duplicate.yaml': `subgraphs:\n${customersEntry}${customersEntry}` });
    expectUserError(await compose(config), `${config}: subgraphs.customers: duplicate key at line 6`);
  });

  it('rejects a config without subgraphs', async () => {
    const config = write({ 'no-subgraphs.yaml': 'federation_version: =2.9.0\n' });
    expectUserError(await compose(config), `${config}: subgraphs: missing or empty`);
  });

  it('rejects an empty subgraphs mapping', async () => {
    const config = write({ 'empty-subgraphs.yaml': 'federation_version: =2.9.0\nsubgraphs: {}\n' });
    expectUserError(await compose(config), `${config}: subgraphs: missing or empty`);
  });

  it('rejects a routing_url that is not an http(s) URL', async () => {
    const config = write({ 'routing-url.yaml': `subgraphs:\n  customers:\n    routing_url: localhost:4001\n    schema:\n      file: ${schemaOf('customers')}\n` });
    expectUserError(await compose(config), `${config}: subgraphs.customers.routing_url: missing or not an http(s) URL`);
  });

  it('fails on a schema file that does not exist, naming the key and the file', async () => {
    const config = write({ 'missing-schema.yaml': `subgraphs:\n  customers:\n    routing_url: http://localhost:4001/graphql\n    schema:\n      file: ./nowhere/customers.graphql\n` });
    expectUserError(await compose(config), `${config}: subgraphs.customers.schema.file: schema file not found`, 'nowhere/customers.graphql');
  });

  it('fails on a subgraph SDL that is not valid GraphQL, with the file, line and column', async () => {
    const config = write({
      'syntax.yaml': `subgraphs:\n${customersEntry}  broken:\n    routing_url: http://localhost:4009/graphql\n    schema:\n      file: ./broken.graphql\n`,
      'broken.graphql': `${FED}type Query {\n  thing: Thing\n\ntype Thing { id: ID! }\n`,
    });
    expectUserError(await compose(config), `${config}: subgraphs.broken.schema: invalid GraphQL in`, /broken\.graphql:\d+:\d+: Syntax Error/);
  });

  it('fails on a subgraph SDL that parses but references an unknown type, naming the subgraph', async () => {
    const config = write({
      'unknown-type.yaml': `subgraphs:\n  broken:\n    routing_url: http://localhost:4009/graphql\n    schema:\n      file: ./unknown-type.graphql\n`,
      'unknown-type.graphql': `${FED}type Query {\n  thing: NoSuchType\n}\n`,
    });
    const result = await compose(config);
    expectUserError(result, 'error [INVALID_GRAPHQL] subgraph broken', 'NoSuchType', `${config}: composition failed with 1 error(s)`);
  });
});

describe('npm run compose: composition errors name the subgraphs and the schema coordinate', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  const twoSubgraphs = (name: string, a: string, b: string) =>
    write({
      [`${name}.yaml`]: `subgraphs:\n  alpha:\n    routing_url: http://localhost:4101/graphql\n    schema:\n      file: ./${name}-alpha.graphql\n  beta:\n    routing_url: http://localhost:4102/graphql\n    schema:\n      file: ./${name}-beta.graphql\n`,
      [`${name}-alpha.graphql`]: FED + a,
      [`${name}-beta.graphql`]: FED + b,
    });

  it('reports a non-shareable field defined by two subgraphs (INVALID_FIELD_SHARING at Thing.name)', async () => {
    const config = twoSubgraphs(
      'sharing',
      'type Query { a: Thing }\ntype Thing @key(fields: "id") { id: ID! name: String }\n',
      'type Query { b: Thing }\ntype Thing @key(fields: "id") { id: ID! name: String }\n',
    );
    const result = await compose(config);
    expectUserError(result, /error \[INVALID_FIELD_SHARING\] subgraph alpha, beta at Thing\.name: /, `${config}: composition failed with 1 error(s)`);
  });

  it('reports an enum whose values differ between subgraphs (ENUM_VALUE_MISMATCH at Color)', async () => {
    const config = twoSubgraphs(
      'enum',
      'type Query { a(c: Color): Color }\nenum Color { RED GREEN }\n',
      'type Query { b(c: Color): Color }\nenum Color { RED BLUE }\n',
    );
    const result = await compose(config);
    expectUserError(result, /error \[ENUM_VALUE_MISMATCH\] subgraph alpha, beta at Color: .*"GREEN" is defined in subgraph "alpha" but not in subgraph "beta"/);
  });

  it('reports a field whose type differs between subgraphs (FIELD_TYPE_MISMATCH at Thing.size)', async () => {
    const config = twoSubgraphs(
      'types',
      'type Query { a: Thing }\ntype Thing @key(fields: "id") { id: ID! size: Int @shareable }\n',
      'type Query { b: Thing }\ntype Thing @key(fields: "id") { id: ID! size: String @shareable }\n',
    );
    expectUserError(await compose(config), /error \[FIELD_TYPE_MISMATCH\] subgraph alpha, beta at Thing\.size: /);
  });
});

describe('npm run compose: the committed artefact', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('composes supergraph.yaml into exactly the committed supergraph.graphql (run `npm run compose` if this fails)', async () => {
    const output = join(dir, 'supergraph.graphql');
    const result = await runCli(COMPOSE, ['--config', 'supergraph.yaml', '--output', output]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`composed ${DOMAINS.length} subgraphs (${DOMAINS.map((d) => d.name).join(', ')})`);
    expect(readFileSync(output, 'utf8')).toBe(readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8'));
  });

});

describe('npm run gateway -- --supergraph <prebuilt SDL>: a gateway in front of subgraphs running elsewhere', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  const subgraphs: RunningSubgraph[] = [];
  let gateway: RunningCli | undefined;
  /** The second gateway process (the SIGINT test), started with the first: their starts overlap. */
  let second: RunningCli | undefined;
  let supergraphFile: string;

  beforeAll(async () => {
    const dataDir = inject('dataDir');
    subgraphs.push(...(await Promise.all(DOMAINS.map((domain) => startSubgraph(domain, { port: 0, dbPath: join(dataDir, `${domain.name}.db`), scale: 1, seed: DEFAULT_SEED })))));
    const routingUrls = Object.fromEntries(subgraphs.map((s) => [s.name, s.url]));
    const { supergraphSdl } = composeSubgraphs(await loadSubgraphSchemas(loadSupergraphConfig(join(ROOT, 'supergraph.yaml')), { routingUrls }));
    supergraphFile = join(dir, 'prebuilt-supergraph.graphql');
    writeFileSync(supergraphFile, supergraphSdl);
    // Each test waits for its process's ready line.
    gateway = startCli(GATEWAY, ['--supergraph', supergraphFile, '--port', '0']);
    second = startCli(GATEWAY, ['--supergraph', supergraphFile, '--port', '0']);
  });
  afterAll(async () => {
    await Promise.all([gateway?.stop(), second?.stop('SIGKILL')]);
    await Promise.all(subgraphs.map((s) => s.close()));
  });

  /** Stops the gateway with `signal`: a clean exit (code 0) that closes its port. */
  async function expectCleanStop(cli: RunningCli, port: number, signal: NodeJS.Signals) {
    expect(await acceptsConnections(port)).toBe(true);
    const exit = await cli.stop(signal);
    expect(exit, `${signal}\nstdout: ${cli.stdout}\nstderr: ${cli.stderr}`).toEqual({ code: 0, signal: null });
    expect(await acceptsConnections(port)).toBe(false);
  }

  it('starts on the port it is given (0 = any free port), prints its URL, answers a cross-domain query and stops cleanly on SIGTERM (exit code 0, port closed)', async () => {
    const [, graphqlUrl] = await gateway!.waitForOutput(/gateway ready: (http:\/\/127\.0\.0\.1:\d+\/graphql) \(explorer: http:\/\/127\.0\.0\.1:\d+\/\) from (.+)$/m);
    expect(gateway!.stdout).toContain(`from ${supergraphFile}`);
    const port = Number(new URL(graphqlUrl!).port);
    expect(port).toBeGreaterThan(0);
    expect([4000, ...DOMAINS.map((_, i) => 4001 + i)]).not.toContain(port); // not a default port of supergraph.yaml

    // The CLI runs with the development JWT secret (no JWT_SECRET set), as the test helpers do.
    const { status, body } = await postGraphQL(
      graphqlUrl!,
      '{ customer(id: "42") { fullName region orders(first: 1) { id lines { product { sku } } } } }',
      undefined,
      await fullAccess(),
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const db = new Database(join(inject('dataDir'), 'customers.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT first_name, last_name, region FROM customers WHERE id = 42').get() as { first_name: string; last_name: string; region: string };
      expect(body.data.customer).toMatchObject({ fullName: `${row.first_name} ${row.last_name}`, region: row.region });
    } finally {
      db.close();
    }
    expect(body.data.customer.orders[0].lines[0].product.sku).toEqual(expect.any(String));
    // The routing URLs in the file are the only way the gateway could find these subgraphs.
    for (const name of ['customers', 'sales', 'products']) expect(subgraphs.find((s) => s.name === name)!.requestsServed()).toBeGreaterThan(0);

    await expectCleanStop(gateway!, port, 'SIGTERM');
  });

  // A second gateway process for the other signal (a process start on a loaded machine takes many
  // seconds; the test waits for the ready line and the exit, nothing else).
  it('stops cleanly on SIGINT (exit code 0, port closed)', async () => {
    const [, port] = await second!.waitForOutput(/gateway ready: http:\/\/127\.0\.0\.1:(\d+)\/graphql/);
    await expectCleanStop(second!, Number(port), 'SIGINT');
  });

  it('exits non-zero with a clear message when the --supergraph file does not exist', async () => {
    const missing = join(dir, 'no-such-supergraph.graphql');
    const result = await runMain(gatewayMain, ['--supergraph', missing, '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${missing}: supergraph file not found or not readable`);
    expect(result.stdout).not.toContain('gateway ready');
  });

  it('exits non-zero with a clear message when the --supergraph file is not a supergraph (a plain subgraph schema)', async () => {
    const result = await runMain(gatewayMain, ['--supergraph', schemaOf('customers'), '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${schemaOf('customers')}: not a valid supergraph`);
    expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });

  it('exits non-zero with a clear message when the --supergraph file is not even GraphQL', async () => {
    const garbage = write({ 'garbage-supergraph.graphql': '{ this is not SDL' });
    const result = await runMain(gatewayMain, ['--supergraph', garbage, '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${garbage}: not a valid supergraph`);
  });

  it('exits non-zero naming the file and key when a --supergraph YAML config is broken', async () => {
    const config = write({ 'gateway-broken.yaml': `subgraphs:\n  customers:\n    routing_ur: http://localhost:4001/graphql\n` });
    const result = await runMain(gatewayMain, ['--supergraph', config, '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${config}: subgraphs.customers.routing_ur: unknown key`);
  });
});
