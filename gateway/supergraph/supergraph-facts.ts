import { isObjectType, Kind, valueFromASTUntyped, type ConstDirectiveNode, type DocumentNode, type GraphQLField, type GraphQLSchema } from 'graphql';
import { and, NO_REQUIREMENT, type Requirement } from '../authorization/requirement.js';
import type { SecurityIndex } from '../authorization/security-index.js';
import { declaredFields, type FieldClassification } from '../../subgraphs/mesh/data-products/classification.js';

/**
 * What the gateway knows about a supergraph that the catalog needs, computed once per supergraph:
 * field types and descriptions, classifications, authorization requirements, entity keys.
 */
export class SupergraphFacts {
  readonly classifications = new Map<string, FieldClassification>();
  /** Entity type → its first key (`@join__type(key:)`), e.g. Customer → id. */
  readonly entityKeys = new Map<string, string>();
  /** Subgraphs that resolve at least one classified field: they follow the governance spec, so the catalog asks them. */
  readonly governedSubgraphs = new Set<string>();
  /** `Type.field` → the subgraphs that resolve it. */
  private readonly resolvers = new Map<string, string[]>();

  /** Built by gateway/supergraph from the supergraph's one parsed document, schema and security index. */
  constructor(
    document: DocumentNode,
    readonly schema: GraphQLSchema,
    readonly security: SecurityIndex,
  ) {
    for (const [coordinate, field] of declaredFields(document)) if (field.classification) this.classifications.set(coordinate, field.classification);
    const graphNames = new Map<string, string>();
    for (const def of document.definitions) {
      if (def.kind !== Kind.ENUM_TYPE_DEFINITION || def.name.value !== 'join__Graph') continue;
      for (const value of def.values ?? []) {
        const name = argument(value.directives?.find((d) => d.name.value === 'join__graph'), 'name');
        if (typeof name === 'string') graphNames.set(value.name.value, name);
      }
    }
    for (const def of document.definitions) {
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
      const typeGraphs: string[] = [];
      for (const d of def.directives ?? []) {
        if (d.name.value !== 'join__type') continue;
        typeGraphs.push(String(argument(d, 'graph')));
        const key = argument(d, 'key');
        if (key !== undefined && !this.entityKeys.has(def.name.value)) this.entityKeys.set(def.name.value, String(key));
      }
      for (const field of def.fields ?? []) {
        const coordinate = `${def.name.value}.${field.name.value}`;
        const joins = (field.directives ?? []).filter((d) => d.name.value === 'join__field');
        const graphs = joins.length ? joins.filter((d) => argument(d, 'external') !== true).map((d) => String(argument(d, 'graph'))) : typeGraphs;
        const names = graphs.map((g) => graphNames.get(g)).filter((n): n is string => n !== undefined);
        this.resolvers.set(coordinate, names);
        if (this.classifications.has(coordinate)) for (const name of names) this.governedSubgraphs.add(name);
      }
    }
  }

  resolvingSubgraphs(coordinate: string): string[] {
    return this.resolvers.get(coordinate) ?? [];
  }

  field(coordinate: string): GraphQLField<unknown, unknown> | undefined {
    const [typeName, fieldName] = coordinate.split('.') as [string, string];
    const type = this.schema.getType(typeName);
    return isObjectType(type) ? type.getFields()[fieldName] : undefined;
  }

  /**
   * What a consumer needs to read a field: the field's own requirement and its return type's (as
   * the gateway enforces them), and its parent type's (a protected type's fields are unreachable
   * without it).
   */
  requirement(coordinate: string): Requirement {
    const typeName = coordinate.split('.')[0]!;
    return and(this.security.fields.get(coordinate) ?? NO_REQUIREMENT, this.security.types.get(typeName) ?? NO_REQUIREMENT);
  }
}

function argument(directive: ConstDirectiveNode | undefined, name: string): unknown {
  const arg = directive?.arguments?.find((a) => a.name.value === name);
  return arg ? valueFromASTUntyped(arg.value) : undefined;
}
