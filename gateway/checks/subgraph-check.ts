import { Supergraph as FederationSupergraph } from '@apollo/federation-internals';
import { diff, DiffRule, type Change } from '@graphql-inspector/core';
import { getNamedType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import { outputFields } from '../../subgraphs/mesh/data-products/accessors.js';
import type { DataProduct } from '../../subgraphs/mesh/data-products/descriptor.js';
import { CompositionFailed, composeSubgraphs, loadSubgraphSchemas, type CompositionMessage } from '../composition/compose-supergraph.js';
import { ConfigError } from '../config/config-error.js';
import type { SupergraphConfig } from '../config/supergraph-config.js';
import { governanceInput, runGovernance, type Violation } from '../governance/governance.js';
import type { RuleSeverity } from '../governance/rules.js';
import { Supergraph } from '../supergraph/supergraph.js';
import { buildContracts } from '../contracts/contracts.js';
import type { ContractSettings } from '../contracts/contract-settings.js';
import type { UsageSince } from '../usage/usage-store.js';
import { Ownership } from './ownership.js';

/**
 * `rover subgraph check` for the mesh: the proposed schema of one subgraph is composed with the
 * others (supergraph.yaml), the governance rules run on the result, and every change of the API
 * schema against the baseline supergraph is classified breaking, dangerous or safe
 * (@graphql-inspector/core), then weighed against the usage the gateway recorded: a breaking
 * change to a coordinate that no operation used in the window is safe, with that evidence. A
 * breaking change to a data product's output also needs a major version bump of the product.
 */
export interface CheckInput {
  config: SupergraphConfig;
  subgraph: string;
  /** The proposed schema file. */
  schemaFile: string;
  /** The proposed descriptor of the checked subgraph (default: data-products.yaml beside its schema.file). */
  descriptor?: DataProduct[];
  baseline: { supergraphSdl: string; origin: string; descriptor: DataProduct[] | null; descriptorOrigin: string };
  /** Recorded usage since the window's start; null: no store. */
  usage: UsageSince | null;
  usageOrigin: string;
  windowDays: number;
  severities: Map<string, RuleSeverity>;
  /** The gateway's contracts (gateway.yaml `contracts`): the proposal must keep each valid. */
  contracts?: { settings: Record<string, ContractSettings>; file: string };
}

export type Level = 'breaking' | 'dangerous' | 'safe';

export interface UsageEvidence {
  /** Uses in the window (null: this kind of coordinate is not recorded). */
  count: number | null;
  lastSeen: string | null;
  operations: number;
  since: string;
  text: string;
}

export interface ProductImpact {
  id: string;
  subgraph: string;
  from: string;
  to: string | null;
  majorBump: boolean;
}

export interface CheckedChange {
  level: Level;
  /** What the schema diff alone says. */
  schemaLevel: Level;
  type: string;
  coordinate: string;
  message: string;
  /** The subgraphs that define the coordinate, before or after. */
  subgraphs: string[];
  usage: UsageEvidence | null;
  products: ProductImpact[];
  failed: boolean;
  /** Why it fails (empty when it does not). */
  reasons: string[];
}

export interface CheckFailure {
  kind: 'composition' | 'governance' | 'contract' | 'change';
  coordinate: string | null;
  message: string;
}

export interface CheckResult {
  subgraph: string;
  passed: boolean;
  baseline: { supergraph: string; descriptor: string };
  window: { days: number; since: string };
  /** The usage store read (`found` false: no store there, so no breaking change can be shown unused). */
  usage: { store: string; found: boolean; operations: number; firstDay: string | null };
  composition: CompositionMessage[];
  governance: Violation[];
  changes: CheckedChange[];
  /**
   * Changes between the baseline and the files of the other subgraphs (not yet published): listed,
   * not judged here (`npm run check -- <that subgraph>` does).
   */
  otherChanges: { level: Level; coordinate: string; message: string; subgraphs: string[] }[];
  failures: CheckFailure[];
}

const LEVELS: Record<string, Level> = { BREAKING: 'breaking', DANGEROUS: 'dangerous', NON_BREAKING: 'safe' };
const FIELD_CHANGES = new Set(['FIELD_REMOVED', 'FIELD_TYPE_CHANGED', 'FIELD_ARGUMENT_ADDED']);
const ARGUMENT_CHANGES = new Set(['FIELD_ARGUMENT_REMOVED', 'FIELD_ARGUMENT_TYPE_CHANGED', 'FIELD_ARGUMENT_DEFAULT_CHANGED']);
const TYPE_CHANGES = new Set(['TYPE_REMOVED', 'TYPE_KIND_CHANGED']);

export async function checkSubgraph(input: CheckInput): Promise<CheckResult> {
  const entry = input.config.subgraphs.find((s) => s.name === input.subgraph);
  if (!entry) throw new ConfigError(input.config.file, `subgraphs.${input.subgraph}`, `no such subgraph (known: ${input.config.subgraphs.map((s) => s.name).join(', ')})`);
  const since = new Date(Date.now() - (input.windowDays - 1) * 86_400_000).toISOString().slice(0, 10);
  const result: CheckResult = {
    subgraph: input.subgraph,
    passed: false,
    baseline: { supergraph: input.baseline.origin, descriptor: input.baseline.descriptorOrigin },
    window: { days: input.windowDays, since },
    usage: { store: input.usageOrigin, found: input.usage !== null, operations: input.usage?.operations ?? 0, firstDay: input.usage?.firstDay ?? null },
    composition: [],
    governance: [],
    changes: [],
    otherChanges: [],
    failures: [],
  };
  const baseline = Supergraph.fromSdl(input.baseline.supergraphSdl);

  // Compose the proposal with the others, as supergraph.yaml lists them.
  const proposedConfig: SupergraphConfig = {
    ...input.config,
    subgraphs: input.config.subgraphs.map((s) => (s.name === input.subgraph ? { ...s, schema: { kind: 'file', path: input.schemaFile } } : s)),
  };
  let proposed: Supergraph;
  let subgraphs;
  try {
    subgraphs = await loadSubgraphSchemas(proposedConfig);
    proposed = Supergraph.fromSdl(composeSubgraphs(subgraphs).supergraphSdl);
  } catch (error) {
    if (error instanceof CompositionFailed) result.composition = error.messages;
    else if (error instanceof ConfigError) result.composition = [{ severity: 'error', code: 'INVALID_SCHEMA', subgraphs: [input.subgraph], coordinate: null, message: error.message }];
    else throw error;
    result.failures = result.composition.map((m) => ({ kind: 'composition', coordinate: m.coordinate, message: `[${m.code}] ${m.message}` }));
    return result;
  }

  // Governance, with the proposed descriptor for the checked subgraph.
  const governed = await governanceInput(input.config, subgraphs, proposed);
  const checked = governed.subgraphs.find((s) => s.name === input.subgraph)!;
  if (input.descriptor) checked.products = input.descriptor;
  const governance = runGovernance(governed, input.severities);
  result.governance = governance.violations;
  for (const v of governance.violations.filter((x) => x.severity === 'fail')) {
    result.failures.push({ kind: 'governance', coordinate: v.coordinate, message: `[${v.rule}] ${v.message}` });
  }

  // Every contract must still hold (a field above its classification ceiling, an emptied Query…).
  if (input.contracts) {
    try {
      buildContracts(proposed, input.contracts.settings, input.contracts.file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      result.failures.push({ kind: 'contract', coordinate: null, message: error.message });
    }
  }

  // The API schemas, before and after.
  const before = apiSchema(baseline);
  const after = apiSchema(proposed);
  const changes = (await diff(before, after, [DiffRule.ignoreDescriptionChanges])).filter((c) => !isDeprecationEcho(c));
  const ownedBefore = new Ownership(baseline.document);
  const ownedAfter = new Ownership(proposed.document);
  const owners = productOwners(
    governed.subgraphs.map((s) => ({ name: s.name, products: s.name === input.subgraph ? (input.baseline.descriptor ?? s.products) : s.products })),
  );
  const proposedVersions = new Map<string, string>();
  for (const s of governed.subgraphs) for (const p of s.products) proposedVersions.set(p.id, p.version);

  for (const change of changes) {
    const coordinate = change.path ?? '';
    const schemaLevel = LEVELS[change.criticality.level] ?? 'breaking';
    const subgraphs = Ownership.between(ownedBefore, ownedAfter, coordinate);
    if (subgraphs.length && !subgraphs.includes(input.subgraph)) {
      result.otherChanges.push({ level: schemaLevel, coordinate, message: change.message, subgraphs });
      continue;
    }
    const usage = schemaLevel === 'breaking' ? evidence(change, before, input.usage) : null;
    const products = schemaLevel === 'breaking' ? impacts(change, before, owners, proposedVersions) : [];
    const reasons: string[] = [];
    let level = schemaLevel;
    if (schemaLevel === 'breaking') {
      if (usage?.count === 0) level = 'safe';
      else reasons.push(usage?.count ? `used ${usage.count} time(s) in the window, last on ${usage.lastSeen}` : `no usage evidence (${usage?.text ?? 'not recorded'})`);
      for (const p of products.filter((x) => !x.majorBump)) {
        reasons.push(`output of data product ${p.id} ${p.from}: needs a major version bump in subgraphs/${p.subgraph}/data-products.yaml (proposed: ${p.to ?? 'removed'})`);
      }
    }
    const checkedChange: CheckedChange = { level, schemaLevel, type: change.type, coordinate, message: change.message, subgraphs, usage, products, failed: reasons.length > 0, reasons };
    result.changes.push(checkedChange);
    if (checkedChange.failed) result.failures.push({ kind: 'change', coordinate, message: `${change.message}: ${reasons.join('; ')}` });
  }
  result.passed = result.failures.length === 0;
  return result;
}

/** The schema clients see: the supergraph without federation's machinery. */
export function apiSchema(supergraph: Supergraph): GraphQLSchema {
  // Our supergraphs link SECURITY features the federation library refuses; Supergraph strips them.
  return FederationSupergraph.build(supergraph.gatewaySdl).apiSchema().toGraphQLJSSchema();
}

/** Inspector reports a deprecation three times (deprecation, directive, its argument): keep one. */
const isDeprecationEcho = (c: Change) => c.type.startsWith('DIRECTIVE_USAGE_') && /\.@deprecated(\.reason)?$/.test(c.path ?? '');

/** What the usage store says about the coordinate a breaking change affects. */
function evidence(change: Change, before: GraphQLSchema, usage: UsageSince | null): UsageEvidence {
  const path = change.path ?? '';
  const parts = path.split('.');
  const window = usage ? { operations: usage.operations, since: usage.firstDay && usage.firstDay > usage.since ? usage.firstDay : usage.since } : { operations: 0, since: '' };
  const none = (text: string): UsageEvidence => ({ count: null, lastSeen: null, ...window, text });
  if (!usage) return none('no usage store');
  if (usage.operations === 0) return none(`no operations recorded since ${usage.since}`);
  let used: { count: number; lastSeen: string | null };
  if (FIELD_CHANGES.has(change.type) && parts.length >= 2) used = lookup(usage, [`${parts[0]}.${parts[1]}`]);
  else if (ARGUMENT_CHANGES.has(change.type) && parts.length === 3) used = lookup(usage, [`${parts[0]}.${parts[1]}(${parts[2]}:)`]);
  else if (TYPE_CHANGES.has(change.type) && parts.length === 1) {
    const type = before.getType(parts[0]!);
    if (!isObjectType(type) && !isInterfaceType(type)) return none(`uses of ${parts[0]} are not recorded`);
    used = lookup(usage, Object.keys(type.getFields()).map((f) => `${type.name}.${f}`));
  } else return none(`uses of ${path} are not recorded`);
  const text = used.count
    ? `${used.count} use(s) since ${window.since}, last ${used.lastSeen}`
    : `0 uses in ${usage.operations} operation(s) since ${window.since}`;
  return { count: used.count, lastSeen: used.lastSeen, ...window, text };
}

function lookup(usage: UsageSince, coordinates: string[]): { count: number; lastSeen: string | null } {
  let count = 0;
  let lastSeen: string | null = null;
  for (const c of coordinates) {
    const u = usage.coordinates.get(c);
    if (!u) continue;
    count += u.count;
    if (!lastSeen || u.lastSeen > lastSeen) lastSeen = u.lastSeen;
  }
  return { count, lastSeen };
}

type Owners = Map<string, { product: DataProduct; subgraph: string }[]>;

function productOwners(subgraphs: { name: string; products: DataProduct[] }[]): Owners {
  const owners: Owners = new Map();
  for (const s of subgraphs) {
    for (const product of s.products) {
      if (product.status === 'retired') continue;
      for (const { coordinate } of outputFields(product)) (owners.get(coordinate) ?? owners.set(coordinate, []).get(coordinate)!).push({ product, subgraph: s.name });
    }
  }
  return owners;
}

/** The data products whose output a change touches, and whether each has the major bump it needs. */
function impacts(change: Change, before: GraphQLSchema, owners: Owners, proposedVersions: Map<string, string>): ProductImpact[] {
  const parts = (change.path ?? '').split('.');
  const coordinates = new Set<string>();
  const typeName = parts[0]!;
  const type = before.getType(typeName);
  if (parts.length >= 2 && (isObjectType(type) || isInterfaceType(type)) && type.getFields()[parts[1]!]) coordinates.add(`${parts[0]}.${parts[1]}`);
  else if (type) {
    // A type-level change (or an enum value, an input field): the outputs of that type and those returning it.
    for (const coordinate of owners.keys()) {
      const [t, f] = coordinate.split('.') as [string, string];
      const parent = before.getType(t);
      const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[f] : undefined;
      if (t === typeName || (field && getNamedType(field.type).name === typeName)) coordinates.add(coordinate);
    }
  }
  const found = new Map<string, ProductImpact>();
  for (const coordinate of coordinates) {
    for (const { product, subgraph } of owners.get(coordinate) ?? []) {
      if (found.has(product.id)) continue;
      const to = proposedVersions.get(product.id) ?? null;
      found.set(product.id, { id: product.id, subgraph, from: product.version, to, majorBump: to !== null && isMajorBump(product.version, to) });
    }
  }
  return [...found.values()];
}

/** Semver: a higher major; below 1.0.0 any higher version may break (semver's 0.y.z). */
export function isMajorBump(from: string, to: string): boolean {
  const a = from.split('.').map(Number);
  const b = to.split('.').map(Number);
  if (a.some(Number.isNaN) || b.some(Number.isNaN)) return false;
  if (a[0]! === 0) return compare(b, a) > 0;
  return b[0]! > a[0]!;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}
