import {
  getNamedType,
  isCompositeType,
  isInputObjectType,
  isListType,
  getNullableType,
  Kind,
  parse,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

/**
 * The demand-control facts of one supergraph, read once: the `@cost` weights and `@listSize` rules
 * the domains wrote in their subgraph schemas (Federation 2.9 directives, spec
 * https://specs.apollo.dev/cost/v0.1), and the `@requires` field sets a field's cost includes.
 *
 * The directives are found by their linked names: composition links the cost spec with
 * `@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])`, so `@cost` (the spec's
 * own-named directive) and the imported `@listSize` appear under those names, but a supergraph from
 * another composer may rename them (`as:`, `{name:, as:}` imports) or leave them qualified
 * (`@cost__listSize`); a subgraph schema links them through the federation spec
 * (`@federation__cost`). A schema with no such link at all (a plain IBM-spec schema) uses `@cost`
 * and `@listSize` as written.
 */
export interface ListSizeRule {
  /** Size when no slicing argument gives one. */
  assumedSize: number | null;
  /** Argument names or dot paths into input objects (`input.pagination.first`). */
  slicingArguments: readonly (readonly string[])[] | null;
  /** List fields of the returned object sized by this field's slicing arguments. */
  sizedFields: SizedFields | null;
  requireOneSlicingArgument: boolean;
}

/** `sizedFields` as a tree: `["page", "results { page }"]` sizes `page` here and `page` under `results`. */
export interface SizedFields {
  readonly leaves: ReadonlySet<string>;
  readonly children: ReadonlyMap<string, SizedFields>;
}

export const COST_SPEC = 'https://specs.apollo.dev/cost/';
const FEDERATION_SPEC = 'https://specs.apollo.dev/federation/';

/** Saturating arithmetic: past ±10^15 a cost is "more than any budget", and never Infinity or NaN. */
export const CEILING = 1e15;
export const clamp = (n: number): number => (n > CEILING ? CEILING : n < -CEILING ? -CEILING : Number.isNaN(n) ? CEILING : n);
export const add = (a: number, b: number): number => clamp(a + b);
export const mul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : clamp(a * b));

export class CostIndex {
  /** `Type.field` → weight. */
  private readonly fieldWeights = new Map<string, number>();
  /** Object, scalar and enum types → weight. */
  private readonly typeWeights = new Map<string, number>();
  /** `Type.field(arg:)` and `Input.field` → weight. */
  private readonly inputWeights = new Map<string, number>();
  private readonly listSizes = new Map<string, ListSizeRule>();
  private readonly requiresSets = new Map<string, SelectionSetNode>();
  /** The names the directives go by in this document. */
  readonly names: { cost: string; listSize: string };

  constructor(
    document: DocumentNode,
    readonly schema: GraphQLSchema,
  ) {
    this.names = directiveNames(document);
    for (const def of document.definitions) {
      switch (def.kind) {
        case Kind.OBJECT_TYPE_DEFINITION:
        case Kind.OBJECT_TYPE_EXTENSION:
        case Kind.INTERFACE_TYPE_DEFINITION:
        case Kind.INTERFACE_TYPE_EXTENSION:
          this.typeWeight(def.name.value, def.directives);
          for (const field of def.fields ?? []) {
            const coordinate = `${def.name.value}.${field.name.value}`;
            this.weight(this.fieldWeights, coordinate, field.directives);
            for (const arg of field.arguments ?? []) this.weight(this.inputWeights, `${coordinate}(${arg.name.value}:)`, arg.directives);
            const listSize = field.directives?.find((d) => d.name.value === this.names.listSize);
            if (listSize) this.listSizes.set(coordinate, this.readListSize(listSize, coordinate));
            const requires = field.directives?.find((d) => d.name.value === 'join__field' && d.arguments?.some((a) => a.name.value === 'requires'));
            const fields = requires && valueFromASTUntyped(requires.arguments!.find((a) => a.name.value === 'requires')!.value);
            if (typeof fields === 'string' && fields.trim()) this.requiresSets.set(coordinate, parseFieldSet(fields));
          }
          break;
        case Kind.INPUT_OBJECT_TYPE_DEFINITION:
        case Kind.INPUT_OBJECT_TYPE_EXTENSION:
          for (const field of def.fields ?? []) this.weight(this.inputWeights, `${def.name.value}.${field.name.value}`, field.directives);
          break;
        case Kind.SCALAR_TYPE_DEFINITION:
        case Kind.SCALAR_TYPE_EXTENSION:
        case Kind.ENUM_TYPE_DEFINITION:
        case Kind.ENUM_TYPE_EXTENSION:
          this.typeWeight(def.name.value, def.directives);
          break;
      }
    }
  }

  /**
   * A field's own weight: its `@cost`, else its type's `@cost`, else 1 for an object, interface or
   * union and 0 for a scalar or enum (Router's and the IBM spec's defaults).
   */
  fieldWeight(parentType: string, field: GraphQLField<unknown, unknown>): number {
    const own = this.fieldWeights.get(`${parentType}.${field.name}`);
    if (own !== undefined) return own;
    const type = getNamedType(field.type);
    return this.typeWeights.get(type.name) ?? (isCompositeType(type) ? 1 : 0);
  }

  /** The weight of an argument (`coordinate` = `Type.field(arg:)`) or input field (`Input.field`), by itself or by its type. */
  inputWeight(coordinate: string, type: GraphQLInputType): number | undefined {
    return this.inputWeights.get(coordinate) ?? this.typeWeights.get(getNamedType(type).name);
  }

  /** Whether a value of this argument or input field may cost anything (else it is never scored). */
  inputMayCost(coordinate: string, type: GraphQLInputType): boolean {
    return this.inputWeight(coordinate, type) !== undefined || isInputObjectType(getNamedType(type));
  }

  listSize(coordinate: string): ListSizeRule | undefined {
    return this.listSizes.get(coordinate);
  }

  /** The selection a field's `@requires` adds to its subgraph fetch, or undefined. */
  requires(coordinate: string): SelectionSetNode | undefined {
    return this.requiresSets.get(coordinate);
  }

  /** Whether the schema declares any cost directive at all (for logs). */
  get declared(): { weights: number; listSizes: number } {
    return { weights: this.fieldWeights.size + this.typeWeights.size + this.inputWeights.size, listSizes: this.listSizes.size };
  }

  private weight(into: Map<string, number>, key: string, directives: readonly ConstDirectiveNode[] | undefined): void {
    const cost = directives?.find((d) => d.name.value === this.names.cost);
    const weight = cost && valueFromASTUntyped(cost.arguments?.find((a) => a.name.value === 'weight')?.value ?? { kind: Kind.NULL });
    if (typeof weight === 'number' && Number.isFinite(weight)) into.set(key, clamp(weight));
  }

  private typeWeight(name: string, directives: readonly ConstDirectiveNode[] | undefined): void {
    this.weight(this.typeWeights, name, directives);
  }

  private readListSize(directive: ConstDirectiveNode, coordinate: string): ListSizeRule {
    const arg = (name: string) => {
      const node = directive.arguments?.find((a) => a.name.value === name);
      return node ? valueFromASTUntyped(node.value) : undefined;
    };
    const assumed = arg('assumedSize');
    const slicing = arg('slicingArguments');
    const sized = arg('sizedFields');
    const requireOne = arg('requireOneSlicingArgument');
    return {
      assumedSize: typeof assumed === 'number' ? Math.max(0, assumed) : null,
      slicingArguments: Array.isArray(slicing) ? slicing.filter((s): s is string => typeof s === 'string').map((s) => s.split('.')) : null,
      sizedFields: Array.isArray(sized) && sized.length ? sizedFieldsOf(sized.filter((s): s is string => typeof s === 'string'), coordinate) : null,
      requireOneSlicingArgument: requireOne === undefined ? true : requireOne === true,
    };
  }
}

/** Whether a field returns a list (nested lists count once, as in Router). */
export const returnsList = (field: GraphQLField<unknown, unknown>): boolean => isListType(getNullableType(field.type));

function parseFieldSet(fields: string): SelectionSetNode {
  const document = parse(`{ ${fields} }`, { noLocation: true });
  return (document.definitions[0] as { selectionSet: SelectionSetNode }).selectionSet;
}

function sizedFieldsOf(entries: string[], coordinate: string): SizedFields {
  const build = (sets: readonly SelectionSetNode[]): SizedFields => {
    const leaves = new Set<string>();
    const nested = new Map<string, SelectionSetNode[]>();
    for (const set of sets) {
      for (const selection of set.selections) {
        if (selection.kind !== Kind.FIELD) continue;
        const name = selection.name.value;
        if (selection.selectionSet) (nested.get(name) ?? nested.set(name, []).get(name)!).push(selection.selectionSet);
        else leaves.add(name);
      }
    }
    const children = new Map<string, SizedFields>();
    for (const [name, inner] of nested) children.set(name, build(inner));
    return { leaves, children };
  };
  try {
    return build(entries.map(parseFieldSet));
  } catch (error) {
    throw new Error(`@listSize(sizedFields:) on ${coordinate} is not a field set: ${(error as Error).message}`);
  }
}

/** The names `@cost` and `@listSize` go by in a document, from its `@link`s. */
export function directiveNames(document: DocumentNode): { cost: string; listSize: string } {
  const links: { url: string; as: string | null; imports: unknown[] }[] = [];
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'link') continue;
      const args = Object.fromEntries((d.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
      if (typeof args.url === 'string') links.push({ url: args.url, as: typeof args.as === 'string' ? args.as : null, imports: Array.isArray(args.import) ? args.import : [] });
    }
  }
  const link = links.find((l) => l.url.startsWith(COST_SPEC)) ?? links.find((l) => l.url.startsWith(FEDERATION_SPEC));
  if (!link) return { cost: 'cost', listSize: 'listSize' };
  const specName = link.url.startsWith(COST_SPEC) ? 'cost' : 'federation';
  const prefix = link.as ?? specName;
  const nameOf = (directive: string): string => {
    for (const entry of link.imports) {
      if (entry === `@${directive}`) return directive;
      if (typeof entry === 'object' && entry !== null && (entry as { name?: unknown }).name === `@${directive}`) {
        const as = (entry as { as?: unknown }).as;
        return typeof as === 'string' ? as.replace(/^@/, '') : directive;
      }
    }
    // Link spec: a directive named like its spec is used by the spec's (local) name itself.
    return directive === specName ? prefix : `${prefix}__${directive}`;
  };
  return { cost: nameOf('cost'), listSize: nameOf('listSize') };
}
