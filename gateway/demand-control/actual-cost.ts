import { getNamedType, isCompositeType } from 'graphql';
import type { FieldShape, OperationShape, SetShape } from '../operation/operation-shape.js';
import { add } from './cost-index.js';
import type { CostPlan, Variables } from './cost-estimator.js';
import { skipped } from './cost-estimator.js';
import type { CostIndex } from './cost-index.js';

/**
 * The actual cost of a response, per the IBM spec and Router's `by_response_shape`: the same
 * weights as the estimate, counted on what came back. Every object returned costs its field's
 * weight (its `@cost`, its type's, else 1) plus its fields; a list costs the sum of its items (its
 * real length, not the estimate's); a scalar costs its field's `@cost` (else 0); null costs
 * nothing; arguments count once per field, as in the estimate; a mutation adds 10. So the actual
 * cost never exceeds the estimate: only list lengths (at most the estimated sizes), merged
 * duplicate selections and nulls differ.
 *
 * The walk is linear in the response: the fields a response object may hold are collected once per
 * selection set (fragments flattened, memoized per set), never per object.
 */
interface Collected {
  /** The first selection with this response key: its schema field gives the weight. */
  field: FieldShape;
  parent: string;
  /** Every selection set selected under this key (merged, as execution merges them). */
  children: SetShape[];
}

type FieldMap = ReadonlyMap<string, Collected>;

export class ActualCost {
  private readonly flat = new Map<number, FieldMap>();
  private readonly merged = new Map<string, FieldMap>();

  constructor(
    private readonly index: CostIndex,
    private readonly shape: OperationShape,
    private readonly plan: CostPlan,
  ) {}

  of(data: Record<string, unknown> | null | undefined, variables: Variables = {}): number {
    if (!data) return 0;
    const base = this.shape.operation.operation === 'mutation' ? 10 : 0;
    return add(base, this.objectCost(data, [this.shape.root], variables));
  }

  private objectCost(object: Record<string, unknown>, sets: readonly SetShape[], variables: Variables): number {
    let total = 0;
    for (const [key, entry] of this.fieldsOf(sets)) {
      if (!Object.hasOwn(object, key)) continue;
      const field = entry.field.field!;
      total = add(total, this.valueCost(object[key], entry, variables));
      for (const argument of entry.field.node.arguments ?? []) {
        const definition = field.args.find((a) => a.name === argument.name.value);
        const coordinate = `${entry.field.coordinate}(${argument.name.value}:)`;
        if (definition && this.index.inputMayCost(coordinate, definition.type)) {
          total = add(total, this.plan.argumentCost(argument.value, coordinate, definition.type, variables));
        }
      }
    }
    return total;
  }

  private valueCost(value: unknown, entry: Collected, variables: Variables): number {
    if (value === null || value === undefined) return 0;
    if (Array.isArray(value)) return value.reduce((sum: number, item) => add(sum, this.valueCost(item, entry, variables)), 0);
    const weight = this.index.fieldWeight(entry.parent, entry.field.field!);
    if (typeof value === 'object' && isCompositeType(getNamedType(entry.field.field!.type))) {
      return add(weight, entry.children.length ? this.objectCost(value as Record<string, unknown>, entry.children, variables) : 0);
    }
    return weight;
  }

  /** The schema fields a response object selected by these sets may hold, by response key. */
  private fieldsOf(sets: readonly SetShape[]): FieldMap {
    if (sets.length === 1) return this.flatten(sets[0]!);
    const key = sets.map((s) => s.id).join(',');
    let map = this.merged.get(key);
    if (!map) {
      map = merge(sets.map((s) => this.flatten(s)));
      this.merged.set(key, map);
    }
    return map;
  }

  private flatten(set: SetShape): FieldMap {
    const known = this.flat.get(set.id);
    if (known) return known;
    const own = new Map<string, Collected>();
    const parts: FieldMap[] = [own];
    for (const selection of set.selections) {
      if (selection.kind === 'unknown' || skipped(selection.node.directives)) continue;
      if (selection.kind === 'fragment') {
        parts.push(this.flatten(selection.children));
        continue;
      }
      if (!selection.field) continue; // __typename, introspection: free
      const entry = own.get(selection.responseKey);
      if (!entry) own.set(selection.responseKey, { field: selection, parent: set.parent.name, children: selection.children ? [selection.children] : [] });
      else if (selection.children && !entry.children.includes(selection.children)) entry.children.push(selection.children);
    }
    const map = parts.length === 1 ? own : merge(parts);
    this.flat.set(set.id, map);
    return map;
  }
}

function merge(parts: readonly FieldMap[]): FieldMap {
  const out = new Map<string, Collected>();
  for (const part of parts) {
    for (const [key, entry] of part) {
      const existing = out.get(key);
      if (!existing) out.set(key, { ...entry, children: [...entry.children] });
      else for (const child of entry.children) if (!existing.children.includes(child)) existing.children.push(child);
    }
  }
  return out;
}
