import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  valueFromASTUntyped,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { isEmpty, type Requirement } from './requirement.js';
import type { SecurityIndex } from './security-index.js';

/** One step from an object to a field of it, as it appears in the response. */
export interface Segment {
  responseKey: string;
  type: GraphQLOutputType;
  /** Set when the field sits under a type condition narrower than its parent's type. */
  onlyFor: ReadonlySet<string> | null;
}

/** Where the filtered operation's response must get a `null` (and its propagation). */
export interface NullSite {
  trail: readonly Segment[];
}

/** An object level where we added `__typename` to evaluate type conditions; removed afterwards. */
export interface TypenameSite {
  trail: readonly Segment[];
  /**
   * Types whose objects the client itself asked `__typename` of at this level, inside a type
   * condition (`... on Book { __typename }`): their `__typename` is the client's and stays.
   */
  keep: ReadonlySet<string>;
}

export interface FilterOutcome {
  /** The operation to plan and execute; the original when nothing was removed. */
  document: DocumentNode;
  changed: boolean;
  /** Paths of unauthorized fields and fragments (response keys, `@` for list items), one error each. */
  unauthorizedPaths: (string | number)[][];
  nullSites: NullSite[];
  typenameSites: TypenameSite[];
  /** Every root field was removed: nothing to execute. */
  empty: boolean;
}

/**
 * The identity-independent part of an operation, computed once per (document, operation name):
 * fragments inlined, and the distinct requirements it touches. Deciding for a request is then a
 * handful of set lookups; the filtered document itself is cached per decision pattern.
 */
export class OperationAnalysis {
  readonly operation: OperationDefinitionNode;
  readonly requirements: Requirement[] = [];
  /** Variables that @skip/@include depend on: their values are part of the decision key. */
  readonly conditionVariables = new Set<string>();
  /**
   * Default values of the operation's variables. A variable the request leaves out takes its
   * default (GraphQL's coercion rules), so `@include(if: $e)` with `$e: Boolean = false` and no
   * `e` excludes the field: it must not be checked (nor reported, nor refused in reject mode).
   */
  private readonly defaults = new Map<string, unknown>();
  private readonly requirementIds = new Map<Requirement, number>();
  private readonly outcomes = new Map<string, FilterOutcome>();

  constructor(
    readonly index: SecurityIndex,
    readonly original: DocumentNode,
    operationName: string | null | undefined,
  ) {
    const operations = original.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
    if (!operation) throw new Error(`Unknown operation ${operationName}`);
    const fragments = new Map(
      original.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
    );
    this.operation = inlineFragments(operation, fragments);
    for (const d of operation.variableDefinitions ?? []) {
      if (d.defaultValue) this.defaults.set(d.variable.name.value, valueFromASTUntyped(d.defaultValue));
    }
    this.collect(this.operation.selectionSet, this.rootType());
  }

  /** The requirements' ids in `requirements` order; a request's decisions are a boolean per id. */
  private idOf(r: Requirement): number {
    let id = this.requirementIds.get(r);
    if (id === undefined) {
      id = this.requirements.length;
      this.requirements.push(r);
      this.requirementIds.set(r, id);
    }
    return id;
  }

  rootType(): GraphQLCompositeType {
    const schema = this.index.schema;
    const root = this.operation.operation === 'mutation' ? schema.getMutationType() : this.operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
    if (!root) throw new Error(`The schema has no ${this.operation.operation} type`);
    return root;
  }

  private collect(selectionSet: SelectionSetNode, parent: GraphQLCompositeType): void {
    for (const selection of selectionSet.selections) {
      for (const d of selection.directives ?? []) {
        if (d.name.value !== 'skip' && d.name.value !== 'include') continue;
        const value = d.arguments?.find((a) => a.name.value === 'if')?.value;
        if (value?.kind === Kind.VARIABLE) this.conditionVariables.add(value.name.value);
      }
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__') || isUnionLike(parent)) continue;
        const field = (parent as any).getFields()[selection.name.value] as GraphQLField<unknown, unknown> | undefined;
        if (!field) continue;
        const r = this.index.fieldRequirement(parent.name, field);
        if (!isEmpty(r)) this.idOf(r);
        if (selection.selectionSet) this.collect(selection.selectionSet, getNamedType(field.type) as GraphQLCompositeType);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = conditionType(this.index, selection, parent);
        const r = this.index.typeRequirement(condition);
        if (!isEmpty(r) && condition !== parent) this.idOf(r);
        this.collect(selection.selectionSet, condition);
      }
    }
  }

  /** Decides for one request: `allowed[i]` says whether requirement i is satisfied. */
  decide(allowed: boolean[], requestVariables: Record<string, unknown> | undefined): FilterOutcome {
    // The values execution will see: what the request gives, else the definition's default.
    const names = [...this.conditionVariables];
    const values = names.map((v) => (requestVariables && Object.hasOwn(requestVariables, v) ? requestVariables[v] : this.defaults.get(v)));
    const key = allowed.map((a) => (a ? '1' : '0')).join('') + JSON.stringify(values);
    let outcome = this.outcomes.get(key);
    if (!outcome) {
      const variables = Object.fromEntries(names.map((v, i) => [v, values[i]]));
      outcome = allowed.every(Boolean) ? this.unchangedOutcome() : new Filter(this, allowed, variables).run();
      if (this.outcomes.size > 64) this.outcomes.clear();
      this.outcomes.set(key, outcome);
    }
    return outcome;
  }

  requirementId(r: Requirement): number {
    return this.requirementIds.get(r)!;
  }

  unchangedOutcome(): FilterOutcome {
    return { document: this.original, changed: false, unauthorizedPaths: [], nullSites: [], typenameSites: [], empty: false };
  }
}

class Filter {
  private readonly unauthorizedPaths: (string | number)[][] = [];
  private readonly nullSites: NullSite[] = [];
  private readonly typenameSites: TypenameSite[] = [];

  constructor(
    private readonly analysis: OperationAnalysis,
    private readonly allowed: boolean[],
    private readonly variables: Record<string, unknown> | undefined,
  ) {}

  run(): FilterOutcome {
    const op = this.analysis.operation;
    const selections = this.selectionSet(op.selectionSet, this.analysis.rootType(), [], null);
    // Everything denied was left out by @skip/@include: nothing to change.
    if (selections === op.selectionSet.selections) return this.analysis.unchangedOutcome();
    const filteredOp: OperationDefinitionNode = { ...op, selectionSet: { kind: Kind.SELECTION_SET, selections } };
    const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [dropUnusedVariables(filteredOp)] };
    return {
      document,
      changed: true,
      unauthorizedPaths: this.unauthorizedPaths,
      nullSites: this.nullSites,
      typenameSites: this.typenameSites,
      empty: selections.length === 0,
    };
  }

  private isAllowed(r: Requirement): boolean {
    return isEmpty(r) || this.allowed[this.analysis.requirementId(r)]!;
  }

  /** Filters one object level. `trail` leads to it; `onlyFor` is the type condition in force. */
  private selectionSet(
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
    trail: Segment[],
    onlyFor: ReadonlySet<string> | null,
  ): SelectionNode[] {
    const out: SelectionNode[] = [];
    let needsTypename = false;
    for (const selection of selectionSet.selections) {
      // A selection that @skip/@include leaves out is neither checked nor reported.
      if (isExcluded(selection, this.variables)) {
        out.push(selection);
        continue;
      }
      if (selection.kind === Kind.FIELD) {
        const kept = this.field(selection, parent, trail, onlyFor);
        if (kept) out.push(kept);
        continue;
      }
      if (selection.kind !== Kind.INLINE_FRAGMENT) {
        out.push(selection);
        continue;
      }
      const condition = conditionType(this.analysis.index, selection, parent);
      if (!this.isAllowed(this.analysis.index.typeRequirement(condition)) && condition !== parent) {
        this.unauthorizedPaths.push(pathOf(trail, true));
        continue;
      }
      const narrowed = condition !== parent && isAbstractType(parent) ? intersect(onlyFor, possibleTypeNames(this.analysis, condition)) : onlyFor;
      const before = this.nullSites.length;
      const inner = this.selectionSet(selection.selectionSet, condition, trail, narrowed);
      if (narrowed !== onlyFor && this.nullSites.length > before) needsTypename = true;
      if (inner.length > 0) out.push(inner === selection.selectionSet.selections ? selection : { ...selection, selectionSet: { kind: Kind.SELECTION_SET, selections: inner } });
    }
    // Removed fields under a narrower type condition: the response must say each object's type.
    // A client's own __typename serves, unless @skip/@include leaves it out of the response.
    const hasTypename = out.some((s) => s.kind === Kind.FIELD && s.name.value === '__typename' && !s.alias && !isExcluded(s, this.variables));
    if (needsTypename && out.length > 0 && !hasTypename) {
      out.push({ kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } });
      this.typenameSites.push({ trail, keep: this.typenameAsked(selectionSet.selections, parent, possibleTypeNames(this.analysis, parent)) });
    }
    const unchanged = out.length === selectionSet.selections.length && out.every((s, i) => s === selectionSet.selections[i]);
    return unchanged ? (selectionSet.selections as SelectionNode[]) : out;
  }

  /** The types (within `within`) whose objects get a `__typename` the client selected under fragments here. */
  private typenameAsked(selections: readonly SelectionNode[], parent: GraphQLCompositeType, within: ReadonlySet<string>): Set<string> {
    const asked = new Set<string>();
    for (const s of selections) {
      if (isExcluded(s, this.variables)) continue;
      if (s.kind === Kind.FIELD && s.name.value === '__typename' && !s.alias) for (const t of within) asked.add(t);
      if (s.kind === Kind.INLINE_FRAGMENT) {
        const condition = conditionType(this.analysis.index, s, parent);
        for (const t of this.typenameAsked(s.selectionSet.selections, condition, intersect(within, possibleTypeNames(this.analysis, condition)))) asked.add(t);
      }
    }
    return asked;
  }

  private field(node: FieldNode, parent: GraphQLCompositeType, trail: Segment[], onlyFor: ReadonlySet<string> | null): FieldNode | null {
    const name = node.name.value;
    if (name.startsWith('__') || isUnionLike(parent)) return node; // __typename and introspection are never filtered
    const field = (parent as any).getFields()[name] as GraphQLField<unknown, unknown> | undefined;
    if (!field) return node;
    const segment: Segment = { responseKey: node.alias?.value ?? name, type: field.type, onlyFor };
    const here = [...trail, segment];
    if (!this.isAllowed(this.analysis.index.fieldRequirement(parent.name, field))) {
      this.unauthorizedPaths.push(pathOf(here));
      this.nullSites.push({ trail: here });
      return null;
    }
    if (!node.selectionSet) return node;
    const inner = this.selectionSet(node.selectionSet, getNamedType(field.type) as GraphQLCompositeType, here, null);
    if (inner.length === 0) {
      // Nothing left to ask for: the field itself goes, and comes back null.
      this.nullSites.push({ trail: here });
      return null;
    }
    return inner === node.selectionSet.selections ? node : { ...node, selectionSet: { kind: Kind.SELECTION_SET, selections: inner } };
  }
}

/**
 * The path Router reports: response keys, and `@` for each list level crossed. A dropped fragment
 * is reported at its parent's items (`intoItems`); a field at the field itself.
 */
function pathOf(trail: readonly Segment[], intoItems = false): (string | number)[] {
  const path: (string | number)[] = [];
  for (const segment of trail) {
    path.push(segment.responseKey);
    let type = getNullableType(segment.type);
    while (isListType(type)) {
      path.push('@');
      type = getNullableType(type.ofType);
    }
  }
  // The last segment's own list levels are not crossed: the field itself is what's reported.
  const last = trail[trail.length - 1];
  if (last && !intoItems) {
    let type = getNullableType(last.type);
    while (isListType(type)) {
      path.pop();
      type = getNullableType(type.ofType);
    }
  }
  return path;
}

const isUnionLike = (t: GraphQLCompositeType) => !isObjectType(t) && !isInterfaceType(t);

function conditionType(index: SecurityIndex, fragment: InlineFragmentNode, parent: GraphQLCompositeType): GraphQLCompositeType {
  if (!fragment.typeCondition) return parent;
  return (index.schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined) ?? parent;
}

function possibleTypeNames(analysis: OperationAnalysis, type: GraphQLCompositeType): Set<string> {
  return new Set(isAbstractType(type) ? analysis.index.schema.getPossibleTypes(type).map((t) => t.name) : [type.name]);
}

function intersect(a: ReadonlySet<string> | null, b: Set<string>): ReadonlySet<string> {
  return a === null ? b : new Set([...b].filter((x) => a.has(x)));
}

function isExcluded(selection: SelectionNode, variables: Record<string, unknown> | undefined): boolean {
  for (const d of selection.directives ?? []) {
    if (d.name.value !== 'skip' && d.name.value !== 'include') continue;
    const value = conditionValue(d.arguments?.find((a) => a.name.value === 'if')?.value, variables);
    if (d.name.value === 'skip' && value === true) return true;
    if (d.name.value === 'include' && value === false) return true;
  }
  return false;
}

function conditionValue(value: ValueNode | undefined, variables: Record<string, unknown> | undefined): unknown {
  if (!value) return undefined;
  if (value.kind === Kind.BOOLEAN) return value.value;
  if (value.kind === Kind.VARIABLE) return variables?.[value.name.value];
  return undefined;
}

/** Replaces every fragment spread by an equivalent inline fragment, so each use is filtered in its own context. */
function inlineFragments(operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>): OperationDefinitionNode {
  const inline = (selectionSet: SelectionSetNode, seen: Set<string>): SelectionSetNode => ({
    ...selectionSet,
    selections: selectionSet.selections.map((s): SelectionNode => {
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(s.name.value);
        if (!fragment || seen.has(s.name.value)) return s;
        return {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition,
          directives: s.directives,
          selectionSet: inline(fragment.selectionSet, new Set([...seen, s.name.value])),
        };
      }
      if (s.selectionSet) return { ...s, selectionSet: inline(s.selectionSet, seen) } as SelectionNode;
      return s;
    }),
  });
  return { ...operation, selectionSet: inline(operation.selectionSet, new Set()) };
}

/** Variables used only by removed fields must go too, or the filtered operation would be invalid. */
function dropUnusedVariables(operation: OperationDefinitionNode): OperationDefinitionNode {
  const used = new Set<string>();
  visit(operation.selectionSet, { Variable: (v) => void used.add(v.name.value) });
  const definitions = operation.variableDefinitions?.filter((d) => used.has(d.variable.name.value));
  return definitions?.length === operation.variableDefinitions?.length ? operation : { ...operation, variableDefinitions: definitions };
}

