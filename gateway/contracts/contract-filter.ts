import {
  buildASTSchema,
  isInterfaceType,
  isObjectType,
  Kind,
  validateSchema,
  type DirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLSchema,
  type InputValueDefinitionNode,
  type TypeNode,
} from 'graphql';

/** A contract's filter, GraphOS's: tags to include (empty: everything not excluded) and to exclude. */
export interface ContractFilter {
  include: readonly string[];
  exclude: readonly string[];
  /** GraphOS's hideUnreachableTypes: drop types no root field leads to (default false, as GraphOS). */
  hideUnreachableTypes: boolean;
}

/** Elements that are always in a contract (the gateway's own, e.g. the catalog's root fields and types). */
export interface AlwaysIncluded {
  types: ReadonlySet<string>;
  /** `Query.dataProducts`… */
  fields: ReadonlySet<string>;
}

export interface FilteredSchema {
  document: DocumentNode;
  schema: GraphQLSchema;
  /** `Type.field` of every object and interface field the contract keeps. */
  fields: Set<string>;
  /** Problems that make the contract unusable (an empty Query root, an invalid schema). */
  errors: string[];
}

type FieldsLike = { name: { value: string }; fields?: readonly any[] };

/**
 * The `@tag`s of a supergraph, by schema coordinate: `Type`, `Type.field`, `Type.field(arg:)`,
 * `Enum.VALUE`, `Input.field`. Composition carries every subgraph's `@tag` into the supergraph
 * (the union of them), so this reads the composed result, not the subgraphs.
 */
export function supergraphTags(supergraph: DocumentNode): Map<string, Set<string>> {
  const tags = new Map<string, Set<string>>();
  const name = tagDirectiveName(supergraph);
  const add = (coordinate: string, directives: readonly DirectiveNode[] | undefined) => {
    for (const d of directives ?? []) {
      if (d.name.value !== name) continue;
      const arg = d.arguments?.find((a) => a.name.value === 'name');
      if (arg?.value.kind !== Kind.STRING) continue;
      let set = tags.get(coordinate);
      if (!set) tags.set(coordinate, (set = new Set()));
      set.add(arg.value.value);
    }
  };
  for (const def of supergraph.definitions) {
    if (!('name' in def) || !def.name || !('directives' in def)) continue;
    const type = def.name.value;
    add(type, def.directives);
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.INTERFACE_TYPE_DEFINITION) {
      for (const f of def.fields ?? []) {
        add(`${type}.${f.name.value}`, f.directives);
        for (const a of f.arguments ?? []) add(`${type}.${f.name.value}(${a.name.value}:)`, a.directives);
      }
    } else if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
      for (const f of def.fields ?? []) add(`${type}.${f.name.value}`, f.directives);
    } else if (def.kind === Kind.ENUM_TYPE_DEFINITION) {
      for (const v of def.values ?? []) add(`${type}.${v.name.value}`, v.directives);
    }
  }
  return tags;
}

/** `tag`, or what the supergraph's `@link` to the tag spec renames it to. */
function tagDirectiveName(document: DocumentNode): string {
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      const url = link.arguments?.find((a) => a.name.value === 'url')?.value;
      const as = link.arguments?.find((a) => a.name.value === 'as')?.value;
      if (link.name.value === 'link' && url?.kind === Kind.STRING && url.value.startsWith('https://specs.apollo.dev/tag/') && as?.kind === Kind.STRING) return as.value;
    }
  }
  return 'tag';
}

/**
 * Filters an API schema by tags with GraphOS contracts' rules:
 * - an element tagged with an excluded tag is removed (exclusion wins over inclusion);
 * - with included tags, an object or interface field is kept only when it or its type carries one,
 *   a union only when it carries one; other kinds (scalars, enums, inputs) are kept unless excluded;
 * - then, until nothing changes: a field whose type was removed goes (an argument too, or its
 *   field when the argument is required); a type left without fields, values or members goes; an
 *   interface field goes when an implementation lost it (the schema must stay valid);
 * - with hideUnreachableTypes, types no root field leads to are removed.
 * An empty Query root (counting only fields that are not the gateway's own) is an error.
 */
export function filterApiSchema(api: DocumentNode, tags: Map<string, Set<string>>, filter: ContractFilter, always: AlwaysIncluded): FilteredSchema {
  const include = new Set(filter.include);
  const exclude = new Set(filter.exclude);
  const tagged = (coordinate: string, set: Set<string>) => [...(tags.get(coordinate) ?? [])].some((t) => set.has(t));
  const byName = new Map<string, any>();
  for (const def of api.definitions) if ('name' in def && def.name && def.kind !== Kind.DIRECTIVE_DEFINITION) byName.set(def.name.value, { ...def });
  const removedTypes = new Set<string>();
  const removed = new Set<string>(); // Type.field, Type.field(arg:), Enum.VALUE, Input.field

  // 1. Tags.
  for (const [type, def] of byName) {
    if (always.types.has(type)) continue;
    if (tagged(type, exclude)) {
      removedTypes.add(type);
      continue;
    }
    const objectLike = def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.INTERFACE_TYPE_DEFINITION;
    if (objectLike) {
      const typeIncluded = tagged(type, include);
      for (const f of def.fields ?? []) {
        const c = `${type}.${f.name.value}`;
        if (always.fields.has(c)) continue;
        if (tagged(c, exclude) || (include.size > 0 && !typeIncluded && !tagged(c, include))) removed.add(c);
        for (const a of f.arguments ?? []) if (tagged(`${c}(${a.name.value}:)`, exclude)) removed.add(`${c}(${a.name.value}:)`);
      }
    } else if (def.kind === Kind.UNION_TYPE_DEFINITION) {
      if (include.size > 0 && !tagged(type, include)) removedTypes.add(type);
    } else if (def.kind === Kind.ENUM_TYPE_DEFINITION) {
      for (const v of def.values ?? []) if (tagged(`${type}.${v.name.value}`, exclude)) removed.add(`${type}.${v.name.value}`);
    } else if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
      for (const f of def.fields ?? []) if (tagged(`${type}.${f.name.value}`, exclude)) removed.add(`${type}.${f.name.value}`);
    }
  }

  // 2. Dependents, to a fixed point.
  const gone = (type: TypeNode) => removedTypes.has(namedTypeOf(type));
  const required = (v: InputValueDefinitionNode) => v.type.kind === Kind.NON_NULL_TYPE && !v.defaultValue;
  const live = (def: FieldsLike, list: readonly any[] | undefined) => (list ?? []).filter((f) => !removed.has(`${def.name.value}.${f.name.value}`));
  for (let changed = true; changed; ) {
    changed = false;
    const drop = (coordinate: string) => {
      if (!removed.has(coordinate)) (changed = true), removed.add(coordinate);
    };
    const dropType = (type: string) => {
      if (!removedTypes.has(type)) (changed = true), removedTypes.add(type);
    };
    for (const [type, def] of byName) {
      if (removedTypes.has(type)) continue;
      switch (def.kind) {
        case Kind.OBJECT_TYPE_DEFINITION:
        case Kind.INTERFACE_TYPE_DEFINITION: {
          for (const f of live(def, def.fields)) {
            const c = `${type}.${f.name.value}`;
            if (gone(f.type)) drop(c);
            for (const a of f.arguments ?? []) {
              if (removed.has(`${c}(${a.name.value}:)`) || !gone(a.type)) continue;
              if (required(a)) drop(c);
              else drop(`${c}(${a.name.value}:)`);
            }
          }
          if (live(def, def.fields).length === 0 && type !== 'Query') dropType(type);
          // An implementation without an interface field: the interface loses it too.
          for (const i of def.interfaces ?? []) {
            const iface = byName.get(i.name.value);
            if (!iface || removedTypes.has(iface.name.value)) continue;
            for (const f of live(iface, iface.fields)) if (removed.has(`${type}.${f.name.value}`)) drop(`${iface.name.value}.${f.name.value}`);
          }
          break;
        }
        case Kind.UNION_TYPE_DEFINITION:
          if ((def.types ?? []).every((t: { name: { value: string } }) => removedTypes.has(t.name.value))) dropType(type);
          break;
        case Kind.ENUM_TYPE_DEFINITION:
          if (live(def, def.values).length === 0) dropType(type);
          break;
        case Kind.INPUT_OBJECT_TYPE_DEFINITION:
          for (const f of live(def, def.fields)) {
            if (!gone(f.type)) continue;
            if (required(f)) dropType(type);
            else drop(`${type}.${f.name.value}`);
          }
          if (live(def, def.fields).length === 0) dropType(type);
          break;
      }
    }
  }

  // 3. The roots: an empty Query is an error; an empty Mutation or Subscription root goes.
  const errors: string[] = [];
  const query = byName.get('Query');
  const ownQueryFields = query && !removedTypes.has('Query') ? live(query, query.fields).filter((f) => !always.fields.has(`Query.${f.name.value}`)) : [];
  if (ownQueryFields.length === 0) {
    errors.push('the contract schema has no Query field (every field of the query root is excluded or not included): a contract must expose at least one');
  }
  for (const root of ['Mutation', 'Subscription']) {
    const def = byName.get(root);
    if (def && live(def, def.fields).length === 0) removedTypes.add(root);
  }
  if (filter.hideUnreachableTypes) for (const type of unreachable(byName, removedTypes, removed)) removedTypes.add(type);

  // 4. The filtered document.
  const definitions: DefinitionNode[] = [];
  for (const def of api.definitions) {
    if (def.kind === Kind.SCHEMA_DEFINITION) {
      definitions.push({ ...def, operationTypes: def.operationTypes.filter((o) => !removedTypes.has(o.type.name.value)) });
      continue;
    }
    if (!('name' in def) || !def.name || def.kind === Kind.DIRECTIVE_DEFINITION) {
      definitions.push(def);
      continue;
    }
    const type = def.name.value;
    if (removedTypes.has(type)) continue;
    const d = { ...byName.get(type)! } as any;
    if (d.fields) {
      d.fields = live(d, d.fields).map((f: any) => (f.arguments ? { ...f, arguments: f.arguments.filter((a: any) => !removed.has(`${type}.${f.name.value}(${a.name.value}:)`)) } : f));
    }
    if (d.values) d.values = live(d, d.values);
    if (d.interfaces) d.interfaces = d.interfaces.filter((i: any) => !removedTypes.has(i.name.value));
    if (d.kind === Kind.UNION_TYPE_DEFINITION) d.types = d.types.filter((t: any) => !removedTypes.has(t.name.value));
    definitions.push(d);
  }
  const document: DocumentNode = { kind: Kind.DOCUMENT, definitions };
  const schema = buildASTSchema(document, { assumeValidSDL: true });
  if (errors.length === 0) for (const e of validateSchema(schema)) errors.push(`the contract schema is not valid: ${e.message}`);
  const fields = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type))) continue;
    for (const f of Object.keys(type.getFields())) fields.add(`${type.name}.${f}`);
  }
  return { document, schema, fields, errors };
}

function namedTypeOf(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type);
}

/** Types no root field leads to, through fields, arguments, input fields, union members and implementations. */
function unreachable(byName: Map<string, any>, removedTypes: Set<string>, removed: Set<string>): string[] {
  const implementations = new Map<string, string[]>();
  for (const [type, def] of byName) {
    for (const i of def.interfaces ?? []) implementations.set(i.name.value, [...(implementations.get(i.name.value) ?? []), type]);
  }
  const seen = new Set<string>();
  const visit = (type: string) => {
    if (seen.has(type) || removedTypes.has(type)) return;
    seen.add(type);
    const def = byName.get(type);
    if (!def) return;
    for (const f of def.fields ?? []) {
      if (removed.has(`${type}.${f.name.value}`)) continue;
      visit(namedTypeOf(f.type));
      for (const a of f.arguments ?? []) if (!removed.has(`${type}.${f.name.value}(${a.name.value}:)`)) visit(namedTypeOf(a.type));
    }
    for (const t of def.types ?? []) visit(t.name.value);
    for (const i of def.interfaces ?? []) visit(i.name.value);
    for (const impl of implementations.get(type) ?? []) visit(impl);
  };
  for (const root of ['Query', 'Mutation', 'Subscription']) visit(root);
  return [...byName.keys()].filter((t) => !seen.has(t) && !removedTypes.has(t));
}
