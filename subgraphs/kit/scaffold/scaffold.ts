import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { SettingsError } from '../../mesh/numbers.js';
import { readMeshList } from '../mesh-list.js';
import { descriptorTemplate, domainNames, indexTemplate, repositoryTemplate, schemaTemplate, seedTemplate, type DomainNames } from './templates.js';

export interface ScaffoldOptions {
  /** The repository: holds supergraph.yaml and subgraphs/. */
  root: string;
  name: string;
  /** The example entity's type name (default: the domain's singular, capitalised). */
  entity?: string;
  /** Default: the next port after the highest one supergraph.yaml routes to that nothing listens on. */
  port?: number;
  /** Ports to treat as taken besides supergraph.yaml's (the gateway's, 4000, always is). */
  reservedPorts?: number[];
}

export interface ScaffoldResult {
  names: DomainNames;
  dir: string;
  port: number;
  /** Files written now, and files that were already there (never overwritten), relative to root. */
  written: string[];
  kept: string[];
  /** False when supergraph.yaml already listed the domain. */
  registered: boolean;
}

const DOMAIN_NAME = /^[a-z][a-z0-9]*$/;
const TYPE_NAME = /^[A-Z][A-Za-z0-9]*$/;
const RESERVED = new Set(['mesh', 'kit', 'registry', 'cli', 'scaffold', 'node_modules']);
const GATEWAY_PORT = 4000;

/**
 * Creates a domain that works as generated (schema, repository, seed, resolvers with loaders, a
 * descriptor that passes the governance rules) and registers it in supergraph.yaml, the mesh's one
 * list (the registry reads it). Idempotent: existing files are kept, an existing entry is reused.
 */
export async function scaffoldDomain(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { name } = options;
  if (!DOMAIN_NAME.test(name)) throw new SettingsError(`domain name "${name}": use lowercase letters and digits, starting with a letter (it names the folder, the subgraph, ${'<DOMAIN>'}_PORT and the database)`);
  if (RESERVED.has(name)) throw new SettingsError(`domain name "${name}" is reserved`);
  if (options.entity !== undefined && !TYPE_NAME.test(options.entity)) throw new SettingsError(`--entity "${options.entity}": a GraphQL type name in PascalCase`);
  const root = resolve(options.root);
  const yamlFile = join(root, 'supergraph.yaml');
  if (!existsSync(yamlFile) || !existsSync(join(root, 'subgraphs'))) throw new SettingsError(`${root} has no supergraph.yaml and subgraphs/ folder: run this in the repository (or give --root)`);

  const names = domainNames(name, options.entity);
  const dir = join(root, 'subgraphs', name);
  const schemaFile = join(dir, 'schema.graphql');
  const entries = readMeshList(yamlFile);
  const existing = entries.find((e) => e.name === name);
  if (existing && existing.schemaFile !== schemaFile) {
    throw new SettingsError(`supergraph.yaml already lists a subgraph "${name}" with another schema (${existing.schemaFile ?? existing.routingUrl}): choose another name`);
  }
  let port: number;
  if (existing?.port) port = existing.port;
  else if (options.port !== undefined) {
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new SettingsError(`--port ${options.port}: not a TCP port`);
    const owner = entries.find((e) => e.port === options.port);
    if (owner) throw new SettingsError(`--port ${options.port} is already ${owner.name}'s (supergraph.yaml)`);
    port = options.port;
  } else {
    port = await nextFreePort(new Set([GATEWAY_PORT, ...(options.reservedPorts ?? []), ...entries.flatMap((e) => (e.port ? [e.port] : []))]));
  }

  const files: [string, string][] = [
    ['schema.graphql', schemaTemplate(names)],
    ['repository.ts', repositoryTemplate(names)],
    ['seed.ts', seedTemplate(names)],
    ['index.ts', indexTemplate(names)],
    ['data-products.yaml', descriptorTemplate(names)],
  ];
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const kept: string[] = [];
  for (const [file, content] of files) {
    const path = join(dir, file);
    const shown = relative(root, path);
    if (existsSync(path)) kept.push(shown);
    else {
      writeFileSync(path, content);
      written.push(shown);
    }
  }
  if (!existing) register(yamlFile, name, port);
  return { names, dir, port, written, kept, registered: !existing };
}

/** Adds `subgraphs.<name>` to supergraph.yaml, keeping the rest of the file (comments included) as it is. */
function register(yamlFile: string, name: string, port: number): void {
  const text = readFileSync(yamlFile, 'utf8');
  const doc = parseDocument(text);
  const subgraphs = doc.get('subgraphs');
  if (!isMap(subgraphs)) throw new SettingsError(`${yamlFile}: no subgraphs mapping to add ${name} to`);
  doc.setIn(['subgraphs', name], doc.createNode({ routing_url: `http://localhost:${port}/graphql`, schema: { file: `./subgraphs/${name}/schema.graphql` } }));
  writeFileSync(yamlFile, doc.toString({ lineWidth: 0 }));
}

/** The next port after the highest taken one that nothing on this machine listens on. */
async function nextFreePort(taken: Set<number>): Promise<number> {
  let port = Math.max(...taken) + 1;
  while (taken.has(port) || !(await canListen(port))) port++;
  return port;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}
