import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { mintToken } from '../gateway/authentication/mint-token.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { acceptsConnections, freePort, freePortRange, PROCESS_TEST_TIMEOUT_MS, ROOT, runCli, startCli, type RunningCli } from './helpers/cli.js';
import { postGraphQL } from './helpers/mesh.js';

/**
 * `npm run build` and the compiled build in production: built into a temporary deployment
 * (package.json, node_modules, dist/), started with plain node and NODE_ENV=production from
 * outside the source tree, it serves the whole mesh; nothing it loads is a devDependency (tsx,
 * typescript, vitest…), which `npm ci --omit=dev` would not install.
 */
const SECRET = 'build-test-jwt-secret-0123456789abcdefghij';
const SIGNING_KEY = 'build-test-signing-key-0123456789abcdefghij';

let deployment: string;
let dist: string;
let mesh: RunningCli | undefined;
let workersGateway: RunningCli | undefined;

beforeAll(async () => {
  deployment = mkdtempSync(join(tmpdir(), 'build-test-'));
  dist = join(deployment, 'dist');
  // What a deployment holds: the package manifest (type: module), its dependencies, the build.
  copyFileSync(join(ROOT, 'package.json'), join(deployment, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(deployment, 'node_modules'));
  // tsc over the whole code base: the slowest step here on a loaded machine.
  const build = await runCli(join(ROOT, 'scripts/build.mjs'), ['--out-dir', dist], { timeoutMs: PROCESS_TEST_TIMEOUT_MS });
  expect(build.code, `stdout: ${build.stdout}\nstderr: ${build.stderr}`).toBe(0);
  expect(build.stderr).toBe('');
}, 2 * PROCESS_TEST_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([mesh?.stop(), workersGateway?.stop('SIGKILL')]);
  rmSync(deployment, { recursive: true, force: true });
});

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? jsFiles(path) : name.endsWith('.js') ? [path] : [];
  });
}

describe('npm run build', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('writes JavaScript with the files read at run time beside it', () => {
    for (const domain of DOMAINS) {
      for (const file of ['index.js', 'schema.graphql', 'data-products.yaml']) {
        expect(statSync(join(dist, 'subgraphs', domain.name, file)).isFile(), `${domain.name}/${file}`).toBe(true);
      }
    }
    for (const file of ['gateway/gateway.yaml', 'gateway/governance/policies.yaml', 'gateway/governance/masking.yaml', 'gateway/governance/rules.yaml', 'supergraph.yaml']) {
      expect(statSync(join(dist, file)).isFile(), file).toBe(true);
    }
    expect(jsFiles(dist).some((file) => file.endsWith('.ts'))).toBe(false);
    // The catalog's and the privacy subgraph's composition, done by the build instead of at each start.
    expect(Object.keys(JSON.parse(readFileSync(join(dist, 'gateway/catalog/precomposed.json'), 'utf8')) as object)).toHaveLength(2);
  });

  it('imports only node builtins, its own files and production dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const allowed = new Set(Object.keys(pkg.dependencies));
    const offenders: string[] = [];
    for (const file of jsFiles(dist)) {
      const text = readFileSync(file, 'utf8');
      for (const [, specifier] of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) {
        if (specifier!.startsWith('.') || specifier!.startsWith('node:') || builtinModules.includes(specifier!)) continue;
        const name = specifier!.startsWith('@') ? specifier!.split('/').slice(0, 2).join('/') : specifier!.split('/')[0]!;
        if (!allowed.has(name)) offenders.push(`${file.slice(dist.length + 1)}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('serves the whole mesh with NODE_ENV=production: every domain, a cross-domain query, the gateway alone with 2 workers, a clean stop', { timeout: 2 * PROCESS_TEST_TIMEOUT_MS }, async () => {
    const gatewayPort = await freePort();
    let base: number;
    do base = await freePortRange(DOMAINS.length);
    while (gatewayPort >= base && gatewayPort < base + DOMAINS.length);
    // From outside the source tree, with plain node: what `NODE_ENV=production npm start` runs.
    mesh = startCli(join(dist, 'gateway/cli/start-mesh.js'), ['--port', String(gatewayPort), '--subgraph-port-base', String(base), '--data-dir', join(deployment, 'data'), '--scale', '0.02'], {
      compiled: true,
      cwd: deployment,
      env: { NODE_ENV: 'production', JWT_SECRET: SECRET, MESH_SIGNING_KEY: SIGNING_KEY, HOT_RELOAD: 'false' },
    });
    // docs/deploy.md's gateway command: the compiled gateway alone, two workers, in front of those
    // subgraphs: it starts meanwhile (it needs them only to answer) and is queried once they are up.
    const supergraphYaml = join(deployment, 'supergraph.yaml');
    writeFileSync(
      supergraphYaml,
      stringify({
        federation_version: '=2.9.0',
        subgraphs: Object.fromEntries(DOMAINS.map((d, i) => [d.name, { routing_url: `http://127.0.0.1:${base + i}/graphql`, schema: { file: `./dist/subgraphs/${d.name}/schema.graphql` } }])),
      }),
    );
    let port: number;
    do port = await freePort();
    while (port === gatewayPort || (port >= base && port < base + DOMAINS.length));
    const gateway = (workersGateway = startCli(join(dist, 'gateway/cli/gateway.js'), ['--supergraph', supergraphYaml, '--host', '127.0.0.1', '--port', String(port), '--workers', '2'], {
      compiled: true,
      cwd: deployment,
      env: { NODE_ENV: 'production', JWT_SECRET: SECRET, MESH_SIGNING_KEY: SIGNING_KEY },
    }));
    await mesh.waitForOutput(/Data mesh is up\./);
    expect(mesh.stdout).not.toContain('DEVELOPMENT ONLY');

    const health = (await (await fetch(`http://127.0.0.1:${gatewayPort}/health`)).json()) as { subgraphs: string[] };
    expect(health.subgraphs.sort()).toEqual(DOMAINS.map((d) => d.name).sort());
    const token = await mintToken({ secret: SECRET, scopes: ['customers:pii:read', 'sales:read', 'marketing:consent:read'], claims: { department: 'finance' } });
    const { status, body } = await postGraphQL(
      `http://127.0.0.1:${gatewayPort}/graphql`,
      // customers → sales → finance and products: every hop is a compiled subgraph process.
      '{ customers(first: 1) { fullName orders(first: 1) { id invoice { number } lines { product { name } } } } }',
      undefined,
      { authorization: `Bearer ${token}` },
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.customers[0].fullName).toEqual(expect.any(String));
    expect(body.data.customers[0].orders[0].lines[0].product.name).toEqual(expect.any(String));
    // A token of another secret (the development one included) is refused: production settings are on.
    const forged = await mintToken({ secret: 'x'.repeat(40), scopes: ['sales:read'] });
    expect((await postGraphQL(`http://127.0.0.1:${gatewayPort}/graphql`, '{ __typename }', undefined, { authorization: `Bearer ${forged}` })).status).toBe(401);


    try {
      await gateway.waitForOutput(/with 2 workers/);
      const again = await postGraphQL(`http://127.0.0.1:${port}/graphql`, '{ customers(first: 1) { fullName orders(first: 1) { invoice { number } } } }', undefined, { authorization: `Bearer ${token}` });
      expect(again.body.errors).toBeUndefined();
      expect(again.body.data.customers[0].fullName).toBe(body.data.customers[0].fullName);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      expect((await gateway.stop('SIGTERM')).code).toBe(0);
    } finally {
      await gateway.stop('SIGKILL');
    }

    const exit = await mesh.stop('SIGINT');
    expect(exit, `stdout: ${mesh.stdout}\nstderr: ${mesh.stderr}`).toEqual({ code: 0, signal: null });
    for (const port of [gatewayPort, ...DOMAINS.map((_, i) => base + i)]) expect(await acceptsConnections(port), `port ${port} is closed`).toBe(false);
  });
});
