import { Kind, type ConstDirectiveNode, type DocumentNode } from 'graphql';

/**
 * Which subgraphs define each type, field and enum value of a supergraph (its join__type,
 * join__field and join__enumValue directives), so a change between two supergraphs can be
 * attributed to the subgraphs it comes from.
 */
export class Ownership {
  private readonly owners = new Map<string, Set<string>>();

  constructor(document: DocumentNode) {
    const graphNames = new Map<string, string>();
    for (const def of document.definitions) {
      if (def.kind !== Kind.ENUM_TYPE_DEFINITION || def.name.value !== 'join__Graph') continue;
      for (const value of def.values ?? []) {
        const name = argument(value.directives, 'join__graph', 'name');
        if (name) graphNames.set(value.name.value, name);
      }
    }
    const graphsOf = (directives: readonly ConstDirectiveNode[] | undefined, directive: string) =>
      (directives ?? [])
        .filter((d) => d.name.value === directive && argument([d], directive, 'external') !== 'true')
        .map((d) => graphNames.get(argument([d], directive, 'graph') ?? '') ?? '')
        .filter(Boolean);
    for (const def of document.definitions) {
      if (!('name' in def) || !def.name || def.kind === Kind.DIRECTIVE_DEFINITION || def.kind === Kind.OPERATION_DEFINITION || def.kind === Kind.FRAGMENT_DEFINITION) continue;
      const typeName = def.name.value;
      const typeGraphs = graphsOf(def.directives, 'join__type');
      this.add(typeName, typeGraphs);
      if (def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.INTERFACE_TYPE_DEFINITION || def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
        for (const field of def.fields ?? []) {
          const joins = (field.directives ?? []).filter((d) => d.name.value === 'join__field');
          this.add(`${typeName}.${field.name.value}`, joins.length ? graphsOf(field.directives, 'join__field') : typeGraphs);
        }
      } else if (def.kind === Kind.ENUM_TYPE_DEFINITION) {
        for (const value of def.values ?? []) this.add(`${typeName}.${value.name.value}`, graphsOf(value.directives, 'join__enumValue'));
      }
    }
  }

  /** The subgraphs behind a change's path (`Type`, `Type.field`, `Type.field.arg`, `Type.VALUE`); null when this supergraph has no such element. */
  of(path: string): Set<string> | null {
    const [type, member] = path.split('.');
    return this.owners.get(member ? `${type}.${member}` : type!) ?? null;
  }

  /** The subgraphs behind a change between two supergraphs: the element's, before or after; else its type's. */
  static between(before: Ownership, after: Ownership, path: string): string[] {
    const found = [before.of(path), after.of(path)].filter((s): s is Set<string> => s !== null);
    const type = path.split('.')[0]!;
    if (found.length === 0) found.push(...[before.of(type), after.of(type)].filter((s): s is Set<string> => s !== null));
    return [...new Set(found.flatMap((s) => [...s]))].sort();
  }

  private add(key: string, graphs: string[]) {
    const set = this.owners.get(key) ?? this.owners.set(key, new Set()).get(key)!;
    for (const g of graphs) set.add(g);
  }
}

function argument(directives: readonly ConstDirectiveNode[] | undefined, directive: string, name: string): string | undefined {
  const node = directives?.find((d) => d.name.value === directive)?.arguments?.find((a) => a.name.value === name)?.value;
  if (!node) return undefined;
  if (node.kind === Kind.STRING || node.kind === Kind.ENUM) return node.value;
  if (node.kind === Kind.BOOLEAN) return String(node.value);
  return undefined;
}
