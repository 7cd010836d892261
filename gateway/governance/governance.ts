import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, parseDocument } from 'yaml';
import type { DocumentNode } from 'graphql';
import { DescriptorError, DESCRIPTOR_FILE, type DataProduct } from '../../subgraphs/mesh/data-products/descriptor.js';
import { loadDescriptorFile } from '../../subgraphs/mesh/data-products/descriptor-reader.js';
import { ConfigError } from '../config/config-error.js';
import type { SupergraphConfig } from '../config/supergraph-config.js';
import { withMeshIdentity } from '../composition/compose-supergraph.js';
import { endpointOf } from '../../subgraphs/mesh/data-products/protocol.js';
import { Supergraph } from '../supergraph/supergraph.js';
import { GovernanceContext, RULES, type Finding, type GovernanceInput, type GovernedSubgraph, type RuleSeverity } from './rules.js';

export const DEFAULT_RULES_FILE = fileURLToPath(new URL('./rules.yaml', import.meta.url));

export interface Violation extends Finding {
  rule: string;
  severity: 'fail' | 'warn';
}

export interface GovernanceReport {
  violations: Violation[];
  /** Rules that ran (not off). */
  rules: { id: string; severity: 'fail' | 'warn' }[];
  failed: boolean;
  durationMs: number;
}

/**
 * Reads the rule settings: `rules: { <rule-id>: fail | warn | off }`. A rule not listed keeps its
 * default; an unknown id or severity is an error naming the file and the key.
 */
export function loadRuleSeverities(path = DEFAULT_RULES_FILE): Map<string, RuleSeverity> {
  const file = relative(process.cwd(), path) || path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(file, null, 'rules file not found or not readable');
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new ConfigError(file, null, `invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const severities = new Map<string, RuleSeverity>(RULES.map((r) => [r.id, r.defaultSeverity]));
  if (doc.contents === null) return severities;
  if (!isMap(doc.contents)) throw new ConfigError(file, null, 'must be a mapping with a `rules` key');
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (key !== 'rules') throw new ConfigError(file, key, 'unknown key (allowed: rules)');
    if (pair.value === null) continue;
    if (!isMap(pair.value)) throw new ConfigError(file, 'rules', 'must map rule ids to fail, warn or off');
    for (const rule of pair.value.items) {
      const id = isScalar(rule.key) ? String(rule.key.value) : String(rule.key);
      const value = isScalar(rule.value) ? rule.value.value : rule.value;
      if (!severities.has(id)) throw new ConfigError(file, `rules.${id}`, `unknown rule (known: ${RULES.map((r) => r.id).join(', ')})`);
      if (value !== 'fail' && value !== 'warn' && value !== 'off') throw new ConfigError(file, `rules.${id}`, `"${String(value)}" is not one of fail, warn, off`);
      severities.set(id, value);
    }
  }
  return severities;
}

/** Runs every rule that is not off. */
export function runGovernance(input: GovernanceInput, severities: Map<string, RuleSeverity> = loadRuleSeverities()): GovernanceReport {
  const started = performance.now();
  const context = new GovernanceContext(input);
  const violations: Violation[] = [];
  const rules: GovernanceReport['rules'] = [];
  for (const rule of RULES) {
    const severity = severities.get(rule.id) ?? rule.defaultSeverity;
    if (severity === 'off') continue;
    rules.push({ id: rule.id, severity });
    for (const finding of rule.check(context)) violations.push({ ...finding, rule: rule.id, severity });
  }
  return { violations, rules, failed: violations.some((v) => v.severity === 'fail'), durationMs: Math.round(performance.now() - started) };
}

/** `fail [rule] at Coordinate (subgraph x, product y): message. Fix: how.` */
export function formatViolation(v: Violation): string {
  const where = [v.coordinate ? `at ${v.coordinate}` : null, [v.subgraph ? `subgraph ${v.subgraph}` : null, v.product ? `product ${v.product}` : null].filter(Boolean).join(', ')]
    .filter(Boolean)
    .map((part, i) => (i === 1 ? `(${part})` : part))
    .join(' ');
  return `${v.severity} [${v.rule}]${where ? ` ${where}` : ''}: ${v.message}. Fix: ${v.fix}.`;
}

/**
 * The governance input for the subgraphs of a supergraph.yaml: each subgraph's schema and its
 * descriptor (data-products.yaml beside a schema file; `GET /data-products` for a subgraph whose
 * schema is introspected, with the configured introspection headers).
 */
export async function governanceInput(
  config: SupergraphConfig,
  subgraphs: { name: string; typeDefs: DocumentNode }[],
  supergraph: Supergraph | string,
): Promise<GovernanceInput> {
  const governed: GovernedSubgraph[] = [];
  for (const { name, typeDefs } of subgraphs) {
    const entry = config.subgraphs.find((s) => s.name === name);
    let descriptorFile: string | null = null;
    let products: DataProduct[] = [];
    try {
      if (entry?.schema.kind === 'file') {
        const path = join(dirname(entry.schema.path), DESCRIPTOR_FILE);
        products = loadDescriptorFile(path);
        descriptorFile = products.length ? relative(process.cwd(), path) : null;
      } else if (entry?.schema.kind === 'introspection') {
        const remote = await fetchDescriptors(entry.schema.url, await withMeshIdentity(entry.schema.headers));
        if (remote) {
          descriptorFile = remote.file;
          products = remote.products;
        }
      }
    } catch (error) {
      if (error instanceof DescriptorError) throw new ConfigError(`${error.file}${error.line ? `:${error.line}` : ''}`, error.key, error.problem);
      throw error;
    }
    governed.push({ name, typeDefs, descriptorFile, products });
  }
  return { supergraph: typeof supergraph === 'string' ? Supergraph.fromSdl(supergraph) : supergraph, subgraphs: governed };
}

async function fetchDescriptors(schemaUrl: string, headers: Record<string, string>): Promise<{ file: string; products: DataProduct[] } | null> {
  const url = endpointOf(schemaUrl);
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return null;
    const body = (await response.json()) as { dataProducts?: DataProduct[] };
    if (!Array.isArray(body.dataProducts)) return null;
    // Served descriptors were validated by the subgraph that serves them.
    return { file: url, products: body.dataProducts };
  } catch {
    return null;
  }
}
