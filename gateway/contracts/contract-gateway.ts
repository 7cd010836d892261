import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface, GatewayLoadResult, GatewaySchemaLoadOrUpdateCallback } from '@apollo/server-gateway-interface';
import { execute, Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';

/**
 * What Apollo Server sees for one contract: the contract's API schema (so requests on its path are
 * validated and introspected against the contract), and the gateway's one executor (authorization,
 * then planning against the full supergraph). A reload announces the rebuilt contract's schema.
 *
 * ApolloGateway answers `__schema` and `__type` from its own (full) API schema, so those root
 * fields are answered again here, from the contract's schema, and replace the gateway's answer:
 * introspection on a contract path never shows what the contract leaves out.
 */
export class ContractGateway implements GatewayInterface {
  private readonly listeners = new Set<GatewaySchemaLoadOrUpdateCallback>();
  private schema: GraphQLSchema;

  constructor(
    schema: GraphQLSchema,
    /** The gateway's executor (known once the main server has started). */
    private readonly executor: () => GatewayExecutor,
  ) {
    this.schema = schema;
  }

  /** A reload built this contract again: requests from now on are validated against it. */
  announce(schema: GraphQLSchema): void {
    this.schema = schema;
    for (const listener of this.listeners) listener({ apiSchema: schema, coreSupergraphSdl: '' });
  }

  onSchemaLoadOrUpdate(callback: GatewaySchemaLoadOrUpdateCallback) {
    this.listeners.add(callback);
    return () => void this.listeners.delete(callback);
  }

  async load(): Promise<GatewayLoadResult> {
    this.announce(this.schema);
    return { executor: (rc) => this.execute(rc) };
  }

  async stop(): Promise<void> {}

  private async execute(rc: GatewayGraphQLRequestContext) {
    const result = await this.executor()(rc);
    const operation = rc.operation;
    if (!operation || operation.operation !== 'query' || !result.data) return result;
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of rc.document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const introspection = introspectionOnly(operation.selectionSet, fragments, new Set());
    if (!introspection) return result;
    // The fragments stay: selections inside __schema and __type may spread them.
    const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [{ ...operation, selectionSet: introspection }, ...fragments.values()] };
    // Schema-only fields: no resolver of ours runs, nothing is fetched.
    const local = await execute({ schema: rc.schema, document, variableValues: rc.request.variables });
    return { ...result, data: { ...result.data, ...local.data }, ...(local.errors?.length ? { errors: [...(result.errors ?? []), ...local.errors] } : {}) };
  }
}

/**
 * The root selection set reduced to its `__schema` and `__type` fields (fragments inlined with
 * their directives, so @skip/@include still apply), or null when it has none.
 */
function introspectionOnly(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, visiting: Set<string>): SelectionSetNode | null {
  const kept: SelectionSetNode['selections'][number][] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      if (s.name.value === '__schema' || s.name.value === '__type') kept.push(s);
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      const inner = introspectionOnly(s.selectionSet, fragments, visiting);
      if (inner) kept.push({ ...s, selectionSet: inner });
    } else {
      const fragment = fragments.get(s.name.value);
      if (!fragment || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      const inner = introspectionOnly(fragment.selectionSet, fragments, visiting);
      visiting.delete(fragment.name.value);
      if (inner) kept.push({ kind: Kind.INLINE_FRAGMENT, typeCondition: fragment.typeCondition, directives: s.directives, selectionSet: inner });
    }
  }
  return kept.length ? { kind: Kind.SELECTION_SET, selections: kept } : null;
}
