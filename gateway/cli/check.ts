/**
 * `npm run check -- <subgraph> [--schema FILE] [--json]`: what would publishing this subgraph's
 * schema break? Like `rover subgraph check`. Exit 0 when it can be published, 1 when not (each
 * failing coordinate named), 2 on a usage error.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CliUsageError, parseCliOrThrow, type CliIo } from '../../subgraphs/mesh/cli-args.js';
import { DescriptorError, DESCRIPTOR_FILE, type DataProduct } from '../../subgraphs/mesh/data-products/descriptor.js';
import { loadDescriptorFile, parseDescriptors } from '../../subgraphs/mesh/data-products/descriptor-reader.js';
import { formatCheckReport } from '../checks/check-report.js';
import { checkSubgraph } from '../checks/subgraph-check.js';
import { ConfigError } from '../config/config-error.js';
import { loadSupergraphConfig } from '../config/supergraph-config.js';
import { contractsToCheck } from '../contracts/contracts-to-check.js';
import { DEFAULT_RULES_FILE, loadRuleSeverities } from '../governance/governance.js';
import { usageStorePath, UsageStore } from '../usage/usage-store.js';
import { runCli } from './run-cli.js';

export async function main(args: string[], io: CliIo): Promise<number | void> {
  const { values, positionals } = parseCliOrThrow({
    usage: 'npm run check -- <subgraph> [--schema FILE] [--descriptor FILE] [--base REF] [--window 30d] [--json]',
    summary: `Checks a proposed schema of one subgraph before it is published, like rover subgraph check:
composes it with the other subgraphs of supergraph.yaml, runs the governance rules, and classifies
every change of the API schema against the baseline supergraph as breaking, dangerous or safe
(@graphql-inspector/core). A breaking change to coordinates no operation used in the window (the
gateway's usage store) is safe, with the evidence; one that was used, or without usage data,
fails. A breaking change to a data product's output also needs a major version bump of the
product in the subgraph's data-products.yaml.`,
    positionals: [{ name: 'subgraph', description: 'the subgraph to check, as supergraph.yaml names it' }],
    options: {
      schema: { type: 'string', value: 'FILE', description: "the proposed schema (default: the subgraph's schema.file, as it is now)" },
      descriptor: { type: 'string', value: 'FILE', description: 'the proposed data-products.yaml (default: the one beside its schema.file)' },
      base: { type: 'string', value: 'REF', default: 'HEAD', description: 'git revision of the baseline (its supergraph.graphql and data-products.yaml)' },
      supergraph: { type: 'string', value: 'FILE', description: 'baseline supergraph SDL instead (e.g. the one in production)' },
      'base-descriptor': { type: 'string', value: 'FILE', description: "baseline data-products.yaml instead (for its products' versions)" },
      config: { type: 'string', value: 'FILE', default: 'supergraph.yaml', description: 'the subgraphs to compose with' },
      rules: { type: 'string', value: 'FILE', description: 'governance rule severities (default: gateway/governance/rules.yaml)' },
      usage: { type: 'string', value: 'FILE', description: 'the usage store (default: MESH_USAGE_DB, else <DATA_DIR>/usage.db)' },
      window: { type: 'string', value: 'DURATION', default: '30d', description: 'how far back usage counts: Nd or Nw' },
      'gateway-config': { type: 'string', value: 'FILE', description: "gateway settings whose contracts must hold (default: $GATEWAY_CONFIG, else gateway/gateway.yaml for this repository's supergraph.yaml)" },
      json: { type: 'boolean', default: false, description: 'print the result as JSON (for CI)' },
    },
    examples: [
      'npm run check -- products',
      'npm run check -- products --schema proposed.graphql --window 14d',
      'npm run check -- sales --base origin/main --json',
    ],
    epilog: 'Exit codes: 0 it can be published, 1 it cannot (the failing coordinates are listed), 2 usage error.',
  }, args);
  const subgraph = positionals[0]!;
  const windowMatch = /^(\d+)([dw])$/.exec(values.window!);
  if (!windowMatch || Number(windowMatch[1]) < 1) usageError(`--window "${values.window}" is not a duration such as 30d or 4w`);
  const windowDays = Number(windowMatch![1]) * (windowMatch![2] === 'w' ? 7 : 1);

  const config = loadSupergraphConfig(values.config!);
  const entry = config.subgraphs.find((s) => s.name === subgraph);
  if (!entry) return usageError(`no subgraph "${subgraph}" in ${values.config} (known: ${config.subgraphs.map((s) => s.name).join(', ')})`);
  const schemaFile = values.schema ? resolve(values.schema) : entry.schema.kind === 'file' ? entry.schema.path : null;
  if (!schemaFile) throw new ConfigError('--schema', null, `subgraph ${subgraph} is introspected (subgraph_url): give the proposed schema file`);
  if (!existsSync(schemaFile)) throw new ConfigError('--schema', null, `no such file: ${schemaFile}`);
  const descriptorBeside = entry.schema.kind === 'file' ? join(dirname(entry.schema.path), DESCRIPTOR_FILE) : null;

  // The baseline: the supergraph and the subgraph's descriptor as of --base (or the files given).
  const supergraphFile = join(dirname(config.file), 'supergraph.graphql');
  const baselineSdl = values.supergraph
    ? { text: readText(values.supergraph, '--supergraph'), origin: shortPath(values.supergraph) }
    : (fromGit(values.base!, supergraphFile) ?? fallback(supergraphFile, values.base!));
  let baseDescriptor: DataProduct[] | null = null;
  let descriptorOrigin = 'none';
  try {
    if (values['base-descriptor']) {
      baseDescriptor = loadDescriptorFile(values['base-descriptor']);
      descriptorOrigin = shortPath(values['base-descriptor']);
    } else if (descriptorBeside) {
      const base = fromGit(values.base!, descriptorBeside);
      if (base) {
        baseDescriptor = parseDescriptors(base.text, base.origin);
        descriptorOrigin = base.origin;
      } else if (existsSync(descriptorBeside)) {
        baseDescriptor = loadDescriptorFile(descriptorBeside);
        descriptorOrigin = `${shortPath(descriptorBeside)} (working tree: not in git at ${values.base})`;
      }
    }
  } catch (error) {
    if (error instanceof DescriptorError) throw new ConfigError(`${error.file}${error.line ? `:${error.line}` : ''}`, error.key, error.problem);
    throw error;
  }
  let descriptor: DataProduct[] | undefined;
  if (values.descriptor) {
    try {
      descriptor = loadDescriptorFile(values.descriptor);
    } catch (error) {
      if (error instanceof DescriptorError) throw new ConfigError(`${error.file}${error.line ? `:${error.line}` : ''}`, error.key, error.problem);
      throw error;
    }
  }

  const storePath = values.usage ? resolve(values.usage) : usageStorePath();
  const reader = storePath ? UsageStore.read(storePath) : null;
  const since = new Date(Date.now() - (windowDays - 1) * 86_400_000).toISOString().slice(0, 10);
  const usage = reader?.since(since) ?? null;
  reader?.close();

  const result = await checkSubgraph({
    config,
    subgraph,
    schemaFile,
    descriptor,
    baseline: { supergraphSdl: baselineSdl.text, origin: baselineSdl.origin, descriptor: baseDescriptor, descriptorOrigin },
    usage,
    usageOrigin: storePath ? shortPath(storePath) : 'off (MESH_USAGE_DB=off)',
    windowDays,
    severities: loadRuleSeverities(values.rules ?? DEFAULT_RULES_FILE),
    contracts: contractsToCheck(values.config!, values['gateway-config']) ?? undefined,
  });
  io.out(values.json ? JSON.stringify(result, null, 2) : formatCheckReport(result));
  return result.passed ? 0 : 1;
}

runCli(main, import.meta.url);

/** A wrong argument: one line, exit code 2 (as for an unknown option). */
function usageError(message: string): never {
  throw new CliUsageError(message);
}

function readText(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(option, null, `cannot read ${path}`);
  }
}

/** A file as of a git revision, or null (not a repository, unknown revision, file not there). */
function fromGit(ref: string, file: string): { text: string; origin: string } | null {
  try {
    const text = execFileSync('git', ['show', `${ref}:./${relative(dirname(file), file)}`], { cwd: dirname(file), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
    return { text, origin: `${shortPath(file)} at ${ref}` };
  } catch {
    return null;
  }
}

function fallback(file: string, ref: string): { text: string; origin: string } {
  return { text: readText(file, '--supergraph'), origin: `${shortPath(file)} (working tree: not in git at ${ref})` };
}

function shortPath(path: string): string {
  const short = relative(process.cwd(), resolve(path));
  return short.startsWith('..') ? resolve(path) : short;
}

