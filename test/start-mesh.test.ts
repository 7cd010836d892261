import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAINS } from '../subgraphs/registry.js';
import { acceptsConnections, CLI_TIMEOUT_MS, freePort, freePortRange, PROCESS_TEST_TIMEOUT_MS, startCli, type RunningCli } from './helpers/cli.js';
import { fullAccess, postGraphQL } from './helpers/mesh.js';

/**
 * `npm start` as a user runs it: one command that seeds, starts every subgraph as its own process,
 * composes against the ports it chose, serves the gateway and stops it all on Ctrl-C.
 */
const START_MESH = 'gateway/cli/start-mesh.ts';

let dataDir: string;
let gatewayPort: number;
let subgraphPortBase: number;
let mesh: RunningCli;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'start-mesh-test-'));
  gatewayPort = await freePort();
  do subgraphPortBase = await freePortRange(DOMAINS.length);
  while (gatewayPort >= subgraphPortBase && gatewayPort < subgraphPortBase + DOMAINS.length);
  mesh = startCli(START_MESH, [
    '--port', String(gatewayPort),
    '--subgraph-port-base', String(subgraphPortBase),
    '--data-dir', dataDir,
    '--scale', '0.02',
  ]);
  // The banner is printed once everything is up; the first start also seeds the databases and
  // starts six processes: on a loaded machine that is several CLI starts' worth of time.
  await mesh.waitForOutput(/Press Ctrl-C to stop\./, 2 * CLI_TIMEOUT_MS);
}, 2 * CLI_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await mesh?.stop('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}, PROCESS_TEST_TIMEOUT_MS);

const subgraphPorts = () => DOMAINS.map((_, i) => subgraphPortBase + i);

describe('npm start: the whole mesh from one command', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('prints the gateway URL, the explorer URL and every subgraph with its URL and database', () => {
    const out = mesh.stdout;
    expect(out).toMatch(new RegExp(`gateway\\s+http://127\\.0\\.0\\.1:${gatewayPort}/graphql`));
    expect(out).toMatch(new RegExp(`explorer\\s+http://127\\.0\\.0\\.1:${gatewayPort}/\\s`));
    DOMAINS.forEach((domain, i) => {
      const dbPath = join(dataDir, `${domain.name}.db`);
      expect(out).toContain(`${domain.name.padEnd(10)} http://127.0.0.1:${subgraphPortBase + i}/graphql  (${dbPath})`);
      expect(existsSync(dbPath), `${dbPath} was created and seeded`).toBe(true);
    });
  });

  it('has every subgraph and the gateway healthy on the ports it printed', async () => {
    for (const port of subgraphPorts()) {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      expect(response.status).toBe(200);
    }
    const health = await (await fetch(`http://127.0.0.1:${gatewayPort}/health`)).json();
    expect(health.subgraphs.sort()).toEqual(DOMAINS.map((d) => d.name).sort());
  });

  it('answers a cross-domain query from the databases it seeded (at the requested scale)', async () => {
    const customers = new Database(join(dataDir, 'customers.db'), { readonly: true });
    const sales = new Database(join(dataDir, 'sales.db'), { readonly: true });
    try {
      const meta = customers.prepare('SELECT scale FROM _mesh_meta').get() as { scale: number };
      expect(meta.scale).toBe(0.02);
      // A customer with orders, so the query crosses customers → sales → products → finance.
      const { customer_id: id } = sales.prepare('SELECT customer_id FROM orders ORDER BY customer_id LIMIT 1').get() as { customer_id: number };
      const row = customers.prepare('SELECT first_name, last_name, region FROM customers WHERE id = ?').get(id) as {
        first_name: string;
        last_name: string;
        region: string;
      };
      const orderCount = (sales.prepare('SELECT COUNT(*) AS n FROM orders WHERE customer_id = ?').get(id) as { n: number }).n;

      const { status, body } = await postGraphQL(
        `http://127.0.0.1:${gatewayPort}/graphql`,
        `query ($id: ID!) { customer(id: $id) { fullName region orderCount orders(first: 1) { id invoice { number } lines { product { name } } } } }`,
        { id: String(id) },
        await fullAccess(),
      );
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data.customer).toMatchObject({ fullName: `${row.first_name} ${row.last_name}`, region: row.region, orderCount });
      expect(body.data.customer.orders[0].lines[0].product.name).toEqual(expect.any(String));
    } finally {
      customers.close();
      sales.close();
    }
  });

  it('serves the explorer at the printed explorer URL', async () => {
    const response = await fetch(`http://127.0.0.1:${gatewayPort}/`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>Data Mesh Explorer</title>');
  });

  it('stops the gateway and every subgraph on SIGINT (Ctrl-C) and exits with code 0', async () => {
    const exit = await mesh.stop('SIGINT');
    expect(exit, `stdout: ${mesh.stdout}\nstderr: ${mesh.stderr}`).toEqual({ code: 0, signal: null });
    for (const port of [gatewayPort, ...subgraphPorts()]) {
      expect(await acceptsConnections(port), `port ${port} is closed`).toBe(false);
    }
    expect(mesh.stderr).not.toMatch(/exited \(/); // no subgraph died before it was asked to stop
  });
});
