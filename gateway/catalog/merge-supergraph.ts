import { composeServices } from '../composition/compose-services.js';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Kind,
  parse,
  print,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type EnumTypeDefinitionNode,
  type EnumValueDefinitionNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
} from 'graphql';

/**
 * Adds an in-process subgraph to a composed supergraph, whatever tool composed it.
 *
 * Re-composing from subgraphs extracted out of a supergraph is not an option: extraction drops
 * the directives composition merged (@requiresScopes, @policy, @classification…), which are the
 * whole point here. So the extra subgraph is composed on its own and its definitions are grafted
 * onto the supergraph: a new `join__Graph` value, its types as they are, its root fields with an
 * explicit `@join__field(graph:)`, and its enums shared with existing ones (same values) joined.
 * Everything else in the supergraph is left exactly as it was.
 */
export class SupergraphMergeError extends Error {}

/** The extra subgraph composed alone, once per process (it is the same at every gateway start). */
const composedAlone = new Map<string, DocumentNode>();

/**
 * …and once per build: `npm run build` composes the gateway's own in-process subgraphs (catalog,
 * privacy) and writes them here (precomposed.ts), so a compiled gateway does not compose at start.
 * Keyed by the hash of what is composed; anything else (or no file, under tsx) is composed here.
 */
export const PRECOMPOSED_FILE = fileURLToPath(new URL('./precomposed.json', import.meta.url));
let precomposed: Record<string, string> | undefined;

const keyOf = (subgraph: { name: string; url: string; typeDefs: DocumentNode }) =>
  createHash('sha256').update(`${subgraph.name}\u0000${subgraph.url}\u0000${print(subgraph.typeDefs)}`).digest('hex');

/** The subgraph composed on its own (a supergraph of one), as composition writes it. */
export function composeAlone(subgraph: { name: string; url: string; typeDefs: DocumentNode }): string {
  const composed = composeServices([{ name: subgraph.name, url: subgraph.url, typeDefs: subgraph.typeDefs }]);
  if (composed.errors) throw new SupergraphMergeError(`the ${subgraph.name} subgraph does not compose: ${composed.errors.map((e) => e.message).join('; ')}`);
  return composed.supergraphSdl;
}

/** What precomposed.json holds for these subgraphs. */
export function precomposedEntries(subgraphs: readonly { name: string; url: string; typeDefs: DocumentNode }[]): Record<string, string> {
  return Object.fromEntries(subgraphs.map((subgraph) => [keyOf(subgraph), composeAlone(subgraph)]));
}

export function addSubgraphToSupergraph(supergraphSdl: string, subgraph: { name: string; url: string; typeDefs: DocumentNode }): string {
  return print(graftSubgraph(parse(supergraphSdl), subgraph));
}

/** The same, on an already parsed supergraph: returns the new supergraph's document. */
export function graftSubgraph(main: DocumentNode, subgraph: { name: string; url: string; typeDefs: DocumentNode }): DocumentNode {
  const cacheKey = keyOf(subgraph);
  let extra = composedAlone.get(cacheKey);
  if (!extra) {
    precomposed ??= existsSync(PRECOMPOSED_FILE) ? (JSON.parse(readFileSync(PRECOMPOSED_FILE, 'utf8')) as Record<string, string>) : {};
    extra = parse(precomposed[cacheKey] ?? composeAlone(subgraph));
    composedAlone.set(cacheKey, extra);
  }
  const definitions = [...main.definitions];
  const indexOf = (name: string) => definitions.findIndex((d) => 'name' in d && d.name?.value === name && d.kind !== Kind.DIRECTIVE_DEFINITION);

  // 1. The new graph.
  const graphEnum = (doc: readonly DefinitionNode[]) => doc.find((d): d is EnumTypeDefinitionNode => d.kind === Kind.ENUM_TYPE_DEFINITION && d.name.value === 'join__Graph');
  const mainGraphs = graphEnum(definitions);
  const extraGraph = graphEnum(extra.definitions)?.values?.[0];
  if (!mainGraphs || !extraGraph) throw new SupergraphMergeError('not a federation 2 supergraph (no join__Graph enum)');
  const graph = extraGraph.name.value;
  if (mainGraphs.values?.some((v) => v.name.value === graph)) {
    throw new SupergraphMergeError(`the supergraph already has a subgraph named ${subgraph.name} (join__Graph.${graph})`);
  }
  definitions[definitions.indexOf(mainGraphs)] = { ...mainGraphs, values: [...(mainGraphs.values ?? []), extraGraph] };

  // 2. The subgraph's types.
  for (const def of extra.definitions) {
    if (def.kind === Kind.SCHEMA_DEFINITION || def.kind === Kind.DIRECTIVE_DEFINITION || !('name' in def) || !def.name) continue;
    const name = def.name.value;
    if (name.startsWith('join__') || name.startsWith('link__')) continue;
    const at = indexOf(name);
    if (at < 0) {
      definitions.push(withExplicitJoinFields(def, graph));
      continue;
    }
    const existing = definitions[at]!;
    if (existing.kind === Kind.OBJECT_TYPE_DEFINITION && def.kind === Kind.OBJECT_TYPE_DEFINITION && name === 'Query') {
      definitions[at] = mergeRootType(existing, def, graph);
    } else if (existing.kind === Kind.ENUM_TYPE_DEFINITION && def.kind === Kind.ENUM_TYPE_DEFINITION) {
      definitions[at] = mergeEnum(existing, def, graph);
    } else {
      throw new SupergraphMergeError(`type ${name} is defined both by the supergraph and by the ${subgraph.name} subgraph`);
    }
  }
  return { ...main, definitions };
}

const joinField = (graph: string): ConstDirectiveNode => ({
  kind: Kind.DIRECTIVE,
  name: { kind: Kind.NAME, value: 'join__field' },
  arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'graph' }, value: { kind: Kind.ENUM, value: graph } }],
});

const hasJoinField = (field: FieldDefinitionNode) => field.directives?.some((d) => d.name.value === 'join__field') ?? false;

/** The graphs a type is joined to (`@join__type(graph: X)`). */
function graphsOf(def: ObjectTypeDefinitionNode | EnumTypeDefinitionNode): string[] {
  return (def.directives ?? [])
    .filter((d) => d.name.value === 'join__type')
    .map((d) => d.arguments?.find((a) => a.name.value === 'graph')?.value)
    .filter((v): v is { kind: Kind.ENUM; value: string } => v?.kind === Kind.ENUM)
    .map((v) => v.value);
}

function withExplicitJoinFields<T extends DefinitionNode>(def: T, graph: string): T {
  if (def.kind !== Kind.OBJECT_TYPE_DEFINITION || def.name.value !== 'Query') return def;
  return { ...def, fields: def.fields?.map((f) => (hasJoinField(f) ? f : { ...f, directives: [...(f.directives ?? []), joinField(graph)] })) };
}

/**
 * Query gets the new graph in its `@join__type`s and the new fields. A field without
 * `@join__field` means "every graph of the type", so existing fields get theirs made explicit
 * first: otherwise the new graph would suddenly claim them.
 */
function mergeRootType(main: ObjectTypeDefinitionNode, extra: ObjectTypeDefinitionNode, graph: string): ObjectTypeDefinitionNode {
  const mainGraphs = graphsOf(main);
  const existing = new Set(main.fields?.map((f) => f.name.value));
  for (const field of extra.fields ?? []) {
    if (existing.has(field.name.value)) throw new SupergraphMergeError(`Query.${field.name.value} is already defined by the supergraph`);
  }
  const explicit = (main.fields ?? []).map((f) =>
    hasJoinField(f) ? f : { ...f, directives: [...(f.directives ?? []), ...mainGraphs.map(joinField)] },
  );
  const added = (extra.fields ?? []).map((f) => (hasJoinField(f) ? f : { ...f, directives: [...(f.directives ?? []), joinField(graph)] }));
  const joinTypes = (extra.directives ?? []).filter((d) => d.name.value === 'join__type');
  return { ...main, directives: [...(main.directives ?? []), ...joinTypes], fields: [...explicit, ...added] };
}

/** An enum both sides define (e.g. ClassificationLevel) must have the same values; the new graph joins it. */
function mergeEnum(main: EnumTypeDefinitionNode, extra: EnumTypeDefinitionNode, graph: string): EnumTypeDefinitionNode {
  const values = (e: EnumTypeDefinitionNode) => (e.values ?? []).map((v) => v.name.value).sort().join(',');
  if (values(main) !== values(extra)) {
    throw new SupergraphMergeError(`enum ${main.name.value} has values ${values(main)} in the supergraph but ${values(extra)} in the extra subgraph`);
  }
  const joinTypes = (extra.directives ?? []).filter((d) => d.name.value === 'join__type');
  const enumValue = (v: EnumValueDefinitionNode): EnumValueDefinitionNode => ({
    ...v,
    directives: [
      ...(v.directives ?? []),
      {
        kind: Kind.DIRECTIVE,
        name: { kind: Kind.NAME, value: 'join__enumValue' },
        arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'graph' }, value: { kind: Kind.ENUM, value: graph } }],
      },
    ],
  });
  return { ...main, directives: [...(main.directives ?? []), ...joinTypes], values: main.values?.map(enumValue) };
}
