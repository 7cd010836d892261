import {
  getNamedType,
  isCompositeType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  Kind,
  valueFromASTUntyped,
  type DirectiveNode,
  type GraphQLCompositeType,
  type GraphQLInputType,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { FieldShape, OperationShape, SetShape } from '../operation/operation-shape.js';
import { add, CEILING, mul, returnsList, type CostIndex, type ListSizeRule, type SizedFields } from './cost-index.js';

/**
 * Router's `static_estimated` cost of an operation (the IBM GraphQL cost spec), computed in two
 * parts so that a request costs almost nothing:
 *
 * - per operation, once (memoized on the PreparedOperation): the operation's shape is compiled into
 *   a graph of cost nodes, one per selection set (and sizing context), constant parts folded. A
 *   fragment spread points at its fragment's one node, so the graph is the size of the document,
 *   never of its expansion (a fragment spread twice per level over 30 levels is 60 edges).
 * - per request: only what variables change (slicing arguments given as variables, argument
 *   costs) is evaluated, each node once; an operation without such variables is a constant.
 *
 * Semantics (Router's `StaticCostCalculator`): a query costs 0, a mutation 10, plus its fields; a
 * field costs `size × (weight + its selections) + its arguments + its @requires selection`, where
 * weight is the field's `@cost`, its type's `@cost`, or 1 for objects, interfaces and unions and 0
 * for scalars and enums; size is 1, or for a list the slicing argument's value from the request
 * (literal or variable; the argument's default when absent; the largest when several), else the
 * field's `assumedSize`, else the configured `list_size`. Fragments add their selections' cost,
 * inline or named, whatever their type condition: Router sums type branches too (an upper bound).
 * `@skip(if: true)` / `@include(if: false)` written literally cost nothing; with a variable they
 * count. `__typename` and introspection cost nothing. Sums saturate at 10^15.
 */
export interface CostEstimate {
  cost: number;
  /** A `@listSize(requireOneSlicingArgument: true)` field used without exactly one slicing argument. */
  violation: string | null;
}

export type Variables = Readonly<Record<string, unknown>>;

const MUTATION_COST = 10;

/** Where one slicing argument's value comes from when a variable decides it. */
interface VariableSource {
  name: string;
  /** Path into the variable's value (`input.pagination.first` given as `input: $input`). */
  path: readonly string[];
  /** The value when the request does not send the variable: its default, or the argument's. */
  absent: unknown;
}

/** One `@listSize`'s expected size at one field of the operation. */
interface SizeSpec {
  coordinate: string;
  /** Slicing arguments whose size is known now (literals, defaults): count and largest. */
  known: number;
  knownMax: number;
  variables: readonly VariableSource[];
  assumed: number | null;
  requireOne: boolean;
}

/** A list's size: candidates in order of precedence (the largest known in a group wins), then the fallback. */
type Factor = number | { groups: readonly (readonly SizeSpec[])[]; fallback: number };

interface ArgumentTerm {
  value: ValueNode;
  coordinate: string;
  type: GraphQLInputType;
}

interface CostNode {
  constant: number;
  terms: { factor: Factor; node: CostNode }[];
  args: ArgumentTerm[];
}

/** `sizedFields` in effect for a selection set: the size a list field below an ancestor takes. */
interface Scope {
  key: string;
  size: SizeSpec;
  sized: SizedFields;
  /** 0: set by the parent field; 1: inherited from further up (Router prefers the parent's). */
  rank: 0 | 1;
}

const isStatic = (node: CostNode) => node.terms.length === 0 && node.args.length === 0;

export class CostEstimator {
  private readonly requiresCosts = new Map<string, number>();

  constructor(
    readonly index: CostIndex,
    /** `static_estimated.list_size`: the size of a list no `@listSize` describes. */
    readonly listSize: number,
  ) {}

  /** Compiles an operation once; the plan estimates it per request. Linear in the document. */
  compile(shape: OperationShape): CostPlan {
    return new CostPlan(this, shape);
  }

  /** The cost of a field's `@requires` selection (fetched for it even when not asked): static, per field. */
  requiresCost(coordinate: string, parent: GraphQLCompositeType): number {
    let cost = this.requiresCosts.get(coordinate);
    if (cost === undefined) {
      const set = this.index.requires(coordinate);
      cost = set ? this.fieldSetCost(set, parent) : 0;
      this.requiresCosts.set(coordinate, cost);
    }
    return cost;
  }

  private fieldSetCost(set: SelectionSetNode, parent: GraphQLCompositeType): number {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? this.index.schema.getType(selection.typeCondition.name.value) : parent;
        if (condition && isCompositeType(condition)) total = add(total, this.fieldSetCost(selection.selectionSet, condition));
        continue;
      }
      if (selection.kind !== Kind.FIELD || !(isObjectType(parent) || isInterfaceType(parent))) continue;
      const field = parent.getFields()[selection.name.value];
      if (!field) continue;
      const type = getNamedType(field.type);
      const inner = selection.selectionSet && isCompositeType(type) ? this.fieldSetCost(selection.selectionSet, type) : 0;
      const rule = this.index.listSize(`${parent.name}.${field.name}`);
      let size = 1;
      if (returnsList(field)) {
        const defaults = (rule?.slicingArguments ?? []).map((path) => sizeOf(traverse(field.args.find((a) => a.name === path[0])?.defaultValue, path.slice(1))));
        const known = defaults.filter((n): n is number => n !== null);
        size = known.length ? Math.max(...known) : (rule?.assumedSize ?? this.listSize);
      }
      total = add(total, mul(size, add(this.index.fieldWeight(parent.name, field), inner)));
    }
    return total;
  }
}

export class CostPlan {
  private readonly root: CostNode;
  /** `requireOneSlicingArgument` checks that depend on variables. */
  private readonly checks: SizeSpec[] = [];
  /** A violation known without variables. */
  private readonly staticViolation: string | null = null;
  /** The estimate when no variable changes it. */
  readonly constant: number | null;
  private readonly memo = new Map<string, CostNode>();
  private readonly fieldKeys = new Map<FieldShape, number>();

  constructor(
    private readonly estimator: CostEstimator,
    private readonly shape: OperationShape,
  ) {
    const violations: string[] = [];
    const body = this.compileSet(shape.root, [], violations);
    this.root = shape.operation.operation === 'mutation' ? { constant: add(body.constant, MUTATION_COST), terms: body.terms, args: body.args } : body;
    this.staticViolation = violations[0] ?? null;
    this.constant = isStatic(this.root) && this.checks.length === 0 ? this.root.constant : null;
    this.memo.clear();
    this.fieldKeys.clear();
  }

  /** The estimate for one request's variables: each cost node evaluated once. */
  estimate(variables: Variables = {}): CostEstimate {
    let violation = this.staticViolation;
    for (const spec of this.checks) {
      if (violation) break;
      violation = requireOneViolation(spec, evaluateSpec(spec, variables).count);
    }
    if (this.constant !== null) return { cost: this.constant, violation };
    const values = new Map<CostNode, number>();
    const value = (node: CostNode): number => {
      const known = values.get(node);
      if (known !== undefined) return known;
      let total = node.constant;
      for (const term of node.terms) total = add(total, mul(factorValue(term.factor, variables), value(term.node)));
      for (const arg of node.args) total = add(total, this.argumentCost(arg.value, arg.coordinate, arg.type, variables));
      values.set(node, total);
      return total;
    };
    return { cost: value(this.root), violation };
  }

  private compileSet(set: SetShape, scopes: readonly Scope[], violations: string[]): CostNode {
    const key = scopes.length ? `${set.id}|${scopes.map((s) => s.key).join(',')}` : String(set.id);
    const known = this.memo.get(key);
    if (known) return known;
    const node: CostNode = { constant: 0, terms: [], args: [] };
    for (const selection of set.selections) {
      if (selection.kind === 'unknown' || skipped(selection.node.directives)) continue;
      if (selection.kind === 'fragment') {
        addTerm(node, 1, this.compileSet(selection.children, scopes, violations));
        continue;
      }
      if (!selection.field || !selection.coordinate) continue; // __typename, introspection: free
      const field = selection.field;
      const name = field.name;
      const rule = this.estimator.index.listSize(selection.coordinate);
      const own = rule ? this.sizeSpec(rule, selection, violations) : null;
      const descended: Scope[] = [];
      for (const s of scopes) {
        const inner = s.sized.children.get(name);
        if (inner) descended.push({ key: `${s.key}/${name}`, size: s.size, sized: inner, rank: 1 });
      }
      let children: CostNode = { constant: 0, terms: [], args: [] };
      if (selection.children) {
        const childScopes = own && rule?.sizedFields ? [{ key: `f${this.fieldKey(selection)}`, size: own, sized: rule.sizedFields, rank: 0 as const }, ...descended] : descended;
        children = this.compileSet(selection.children, childScopes, violations);
      }
      const weight = this.estimator.index.fieldWeight(set.parent.name, field);
      const perItem: CostNode = isStatic(children) ? { constant: add(weight, children.constant), terms: [], args: [] } : { constant: weight, terms: [{ factor: 1, node: children }], args: [] };
      let factor: Factor = 1;
      if (returnsList(field)) {
        const upstream = (rank: 0 | 1) => scopes.filter((s) => s.rank === rank && s.sized.leaves.has(name)).map((s) => s.size);
        const groups = [upstream(0), upstream(1), [...(own ? [own] : []), ...descended.map((s) => s.size)]].filter((g) => g.length > 0);
        factor = foldFactor(groups, this.estimator.listSize);
      }
      addTerm(node, factor, perItem);
      node.constant = add(node.constant, this.estimator.requiresCost(selection.coordinate, set.parent));
      this.compileArguments(node, selection);
    }
    this.memo.set(key, node);
    return node;
  }

  private fieldKey(selection: FieldShape): number {
    let key = this.fieldKeys.get(selection);
    if (key === undefined) this.fieldKeys.set(selection, (key = this.fieldKeys.size));
    return key;
  }

  /** The expected size a field's `@listSize` gives here: literals and defaults now, variables per request. */
  private sizeSpec(rule: ListSizeRule, selection: FieldShape, violations: string[]): SizeSpec {
    const spec: SizeSpec = { coordinate: selection.coordinate!, known: 0, knownMax: 0, variables: [], assumed: rule.assumedSize, requireOne: false };
    if (!rule.slicingArguments) return spec;
    const variables: VariableSource[] = [];
    for (const path of rule.slicingArguments) {
      const source = slicingSource(selection, path, this.shape);
      if (typeof source === 'object' && source !== null) variables.push(source);
      else if (typeof source === 'number') {
        spec.known++;
        spec.knownMax = Math.max(spec.knownMax, source);
      }
    }
    spec.variables = variables;
    spec.requireOne = rule.requireOneSlicingArgument;
    if (spec.requireOne) {
      if (variables.length === 0) {
        const violation = requireOneViolation(spec, spec.known);
        if (violation) violations.push(violation);
      } else if (!this.checks.includes(spec)) this.checks.push(spec);
    }
    return spec;
  }

  private compileArguments(node: CostNode, selection: FieldShape): void {
    for (const argument of selection.node.arguments ?? []) {
      const definition = selection.field!.args.find((a) => a.name === argument.name.value);
      if (!definition) continue;
      const coordinate = `${selection.coordinate}(${definition.name}:)`;
      if (!this.estimator.index.inputMayCost(coordinate, definition.type)) continue;
      if (hasVariable(argument.value)) node.args.push({ value: argument.value, coordinate, type: definition.type });
      else node.constant = add(node.constant, this.argumentCost(argument.value, coordinate, definition.type, {}));
    }
  }

  /**
   * Router's argument cost: an input object costs its `@cost` (else 1) plus its fields, a list its
   * `@cost` (else 0) plus its items, any other value its `@cost` (else 0); null and absent variables 0.
   */
  argumentCost(value: ValueNode, coordinate: string, type: GraphQLInputType, variables: Variables): number {
    const weight = this.estimator.index.inputWeight(coordinate, type);
    const named = getNamedType(type);
    switch (value.kind) {
      case Kind.VARIABLE:
        return Object.hasOwn(variables, value.name.value) ? this.variableCost(variables[value.name.value], coordinate, type) : 0;
      case Kind.NULL:
        return 0;
      case Kind.LIST:
        return value.values.reduce((sum, item) => add(sum, this.argumentCost(item, coordinate, type, variables)), weight ?? 0);
      case Kind.OBJECT: {
        if (!isInputObjectType(named)) return weight ?? 0;
        const fields = named.getFields();
        let total = weight ?? 1;
        for (const f of value.fields) {
          const def = fields[f.name.value];
          if (def) total = add(total, this.argumentCost(f.value, `${named.name}.${def.name}`, def.type, variables));
        }
        return total;
      }
      default:
        return weight ?? 0;
    }
  }

  /** The same for a variable's JSON value. */
  private variableCost(value: unknown, coordinate: string, type: GraphQLInputType): number {
    const weight = this.estimator.index.inputWeight(coordinate, type);
    const named = getNamedType(type);
    if (value === null || value === undefined) return 0;
    if (Array.isArray(value)) return value.reduce((sum: number, item) => add(sum, this.variableCost(item, coordinate, type)), weight ?? 0);
    if (typeof value === 'object' && isInputObjectType(named)) {
      const fields = named.getFields();
      let total = weight ?? 1;
      for (const [name, inner] of Object.entries(value)) {
        const def = fields[name];
        if (def) total = add(total, this.variableCost(inner, `${named.name}.${def.name}`, def.type));
      }
      return total;
    }
    return weight ?? 0;
  }
}

function addTerm(node: CostNode, factor: Factor, child: CostNode): void {
  if (typeof factor === 'number' && isStatic(child)) node.constant = add(node.constant, mul(factor, child.constant));
  else node.terms.push({ factor, node: child });
}

/** A factor whose sizes are all known now is a number. */
function foldFactor(groups: SizeSpec[][], fallback: number): Factor {
  if (groups.some((g) => g.some((s) => s.variables.length > 0))) return { groups, fallback };
  for (const group of groups) {
    const sizes = group.map((s) => evaluateSpec(s, {}).size).filter((n): n is number => n !== null);
    if (sizes.length) return Math.max(...sizes);
  }
  return fallback;
}

function factorValue(factor: Factor, variables: Variables): number {
  if (typeof factor === 'number') return factor;
  for (const group of factor.groups) {
    let best: number | null = null;
    for (const spec of group) {
      const size = evaluateSpec(spec, variables).size;
      if (size !== null && (best === null || size > best)) best = size;
    }
    if (best !== null) return best;
  }
  return factor.fallback;
}

/** A size spec's value: the largest slicing argument given, else the assumed size (null: neither). */
function evaluateSpec(spec: SizeSpec, variables: Variables): { size: number | null; count: number } {
  let count = spec.known;
  let max = spec.knownMax;
  for (const v of spec.variables) {
    const size = sizeOf(traverse(Object.hasOwn(variables, v.name) ? variables[v.name] : v.absent, v.path));
    if (size === null) continue;
    count++;
    max = Math.max(max, size);
  }
  return { size: count > 0 ? max : spec.assumed, count };
}

function requireOneViolation(spec: SizeSpec, count: number): string | null {
  return spec.requireOne && count !== 1 ? `Exactly one slicing argument is required on ${spec.coordinate}, but found ${count}` : null;
}

/**
 * Where a slicing argument's value comes from at this field: a number (a literal, or the
 * argument's default when it is absent), null (no size: null, or not a size), or a variable.
 */
function slicingSource(selection: FieldShape, path: readonly string[], shape: OperationShape): number | null | VariableSource {
  const [name, ...rest] = path;
  const definition = selection.field!.args.find((a) => a.name === name);
  const argument = selection.node.arguments?.find((a) => a.name.value === name);
  if (!argument) return sizeOf(traverse(definition?.defaultValue, rest));
  let value: ValueNode = argument.value;
  let at = 0;
  while (value.kind === Kind.OBJECT && at < rest.length) {
    const inner = value.fields.find((f) => f.name.value === rest[at]);
    if (!inner) return null;
    value = inner.value;
    at++;
  }
  if (value.kind === Kind.VARIABLE) {
    const variable = shape.operation.variableDefinitions?.find((d) => d.variable.name.value === (value as { name: { value: string } }).name.value);
    const absent = variable?.defaultValue ? valueFromASTUntyped(variable.defaultValue) : at === 0 ? definition?.defaultValue : undefined;
    return { name: value.name.value, path: rest.slice(at), absent };
  }
  if (at < rest.length) return null;
  if (value.kind === Kind.INT) return sizeOf(Number(value.value));
  if (value.kind === Kind.LIST) return value.values.length;
  return null;
}

function traverse(value: unknown, path: readonly string[]): unknown {
  let at = value;
  for (const segment of path) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[segment];
  }
  return at;
}

/** A number is a size (never negative, never past the ceiling); a list's size is its length. */
function sizeOf(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return Math.min(Math.max(0, value), CEILING);
  if (Array.isArray(value)) return value.length;
  return null;
}

/** `@skip(if: true)` or `@include(if: false)`, written literally. */
export function skipped(directives: readonly DirectiveNode[] | undefined): boolean {
  for (const d of directives ?? []) {
    const condition = d.arguments?.find((a) => a.name.value === 'if')?.value;
    if (condition?.kind !== Kind.BOOLEAN) continue;
    if ((d.name.value === 'skip' && condition.value) || (d.name.value === 'include' && !condition.value)) return true;
  }
  return false;
}

function hasVariable(value: ValueNode): boolean {
  if (value.kind === Kind.VARIABLE) return true;
  if (value.kind === Kind.LIST) return value.values.some(hasVariable);
  if (value.kind === Kind.OBJECT) return value.fields.some((f) => hasVariable(f.value));
  return false;
}

