import { FederationSupergraph } from '../supergraph/federation-internals.js';
import { parse, printSchema, type DocumentNode, type GraphQLSchema } from 'graphql';
import { CLASSIFICATIONS, type Classification } from '../../subgraphs/mesh/data-products/descriptor.js';
import { ConfigError } from '../config/config-error.js';
import type { Supergraph } from '../supergraph/supergraph.js';
import { filterApiSchema, supergraphTags, type AlwaysIncluded } from './contract-filter.js';
import type { ContractSettings } from './contract-settings.js';

/** Where a contract is served: its own GraphQL endpoint (and explorer) next to /graphql. */
export const contractPath = (name: string) => `/contracts/${name}/graphql`;
const CONTRACT_ROUTE = /^\/contracts\/([^/]+)\/graphql$/;
/** The contract name in a request path, or null when the path is not a contract's. */
export function contractNameOf(path: string): string | null {
  return CONTRACT_ROUTE.exec(path)?.[1] ?? null;
}

/** A variant of the supergraph for one audience: its API schema, filtered by tags. */
export interface Contract {
  name: string;
  path: string;
  /** What requests on the contract's path are validated and introspected against. */
  schema: GraphQLSchema;
  /** `Type.field` of every field in the contract. */
  fields: ReadonlySet<string>;
}

const NO_ALWAYS: AlwaysIncluded = { types: new Set(), fields: new Set() };

/**
 * Builds every contract of the settings over one supergraph, or throws a ConfigError naming the
 * settings file and the contract's key with every problem found: a tag no element carries (a typo
 * would silently expose or hide everything), an empty Query root, an invalid filtered schema, a
 * field above the contract's `max_classification`. Run when composing (`npm run compose`, the
 * gateway composing at start) and whenever the gateway serves a supergraph (start, hot reload).
 */
export function buildContracts(
  supergraph: Supergraph,
  contracts: Record<string, ContractSettings>,
  file: string,
  always: AlwaysIncluded = NO_ALWAYS,
): Map<string, Contract> {
  const built = new Map<string, Contract>();
  const names = Object.keys(contracts);
  if (names.length === 0) return built;
  const api = apiDocument(supergraph);
  const tags = supergraphTags(supergraph.document);
  const known = new Set([...tags.values()].flatMap((s) => [...s]));
  for (const name of names) {
    const settings = contracts[name]!;
    const key = `contracts.${name}`;
    for (const list of ['include', 'exclude'] as const) {
      const unknown = settings[list].filter((t) => !known.has(t));
      if (unknown.length) {
        throw new ConfigError(file, `${key}.${list}`, `no schema element carries @tag ${unknown.map((t) => JSON.stringify(t)).join(', ')} (tags in the supergraph: ${[...known].sort().join(', ') || 'none'})`);
      }
    }
    const filtered = filterApiSchema(api, tags, { include: settings.include, exclude: settings.exclude, hideUnreachableTypes: settings.hide_unreachable_types }, always);
    const problems = [...filtered.errors, ...classificationProblems(supergraph, filtered.fields, settings.max_classification, always)];
    if (problems.length) throw new ConfigError(file, key, `contract "${name}" fails:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    built.set(name, { name, path: contractPath(name), schema: filtered.schema, fields: filtered.fields });
  }
  return built;
}

/** The API schema (what clients see: no join__/link machinery, no @inaccessible elements) as SDL. */
function apiDocument(supergraph: Supergraph): DocumentNode {
  return parse(printSchema(FederationSupergraph.build(supergraph.gatewaySdl).apiSchema().toGraphQLJSSchema()));
}

/** Fields above the ceiling, or with no classification at all (unknown is not PUBLIC). */
function classificationProblems(supergraph: Supergraph, fields: ReadonlySet<string>, ceiling: string | null, always: AlwaysIncluded): string[] {
  if (ceiling === null) return [];
  const max = CLASSIFICATIONS.indexOf(ceiling.toLowerCase() as Classification);
  const problems: string[] = [];
  for (const coordinate of fields) {
    const type = coordinate.split('.')[0]!;
    // The gateway's own metadata (the catalog) is not data; interfaces are served by their objects' fields.
    if (always.fields.has(coordinate) || always.types.has(type) || supergraph.schema.getType(type)?.astNode?.kind === 'InterfaceTypeDefinition') continue;
    const classification = supergraph.facts.classifications.get(coordinate);
    if (!classification) problems.push(`${coordinate} has no @classification, and max_classification is ${ceiling.toUpperCase()}`);
    else if (CLASSIFICATIONS.indexOf(classification.level) > max) {
      problems.push(`${coordinate} is ${classification.level.toUpperCase()}, above max_classification ${ceiling.toUpperCase()} (exclude it with a tag, or stop including it)`);
    }
  }
  return problems.sort();
}
