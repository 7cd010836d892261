import { isObjectType } from 'graphql';
import type { OperationShape, SetShape } from '../operation/operation-shape.js';

/**
 * What an operation can read that the audit trail cares about, compiled once per prepared
 * operation: for each selection set that leads to a sensitive field, only the selections that
 * matter (a sensitive field, or a way down to one). Everything else in a response is never looked at.
 */
export interface ReadPlan {
  readonly root: PlanSet | null;
  /** Nothing sensitive is selected anywhere: no response of this operation is audited. */
  readonly empty: boolean;
}

interface PlanSet {
  readonly fields: readonly PlanField[];
  readonly fragments: readonly { readonly condition: string | null; readonly set: PlanSet }[];
}

interface PlanField {
  readonly key: string;
  /** The coordinate, when the field itself is sensitive. */
  readonly sensitive: string | null;
  readonly below: PlanSet | null;
}

export function readPlan(shape: OperationShape, sensitive: (coordinate: string) => boolean): ReadPlan {
  const compiled = new Map<number, PlanSet | null>();
  const visiting = new Set<number>();
  const compile = (set: SetShape): PlanSet | null => {
    if (compiled.has(set.id)) return compiled.get(set.id)!;
    // Sets form a DAG (fragments cannot cycle); the guard only protects against the impossible.
    if (visiting.has(set.id)) return null;
    visiting.add(set.id);
    const fields: PlanField[] = [];
    const fragments: PlanSet['fragments'][number][] = [];
    for (const s of set.selections) {
      if (s.kind === 'field') {
        const below = s.children ? compile(s.children) : null;
        const own = s.coordinate && sensitive(s.coordinate) ? s.coordinate : null;
        if (own || below) fields.push({ key: s.responseKey, sensitive: own, below });
      } else if (s.kind === 'fragment') {
        const below = compile(s.children);
        if (below) fragments.push({ condition: isObjectType(s.condition) ? s.condition.name : null, set: below });
      }
    }
    visiting.delete(set.id);
    const result = fields.length || fragments.length ? { fields, fragments } : null;
    compiled.set(set.id, result);
    return result;
  };
  const root = compile(shape.root);
  return { root, empty: root === null };
}

/**
 * Walks a response's data along the plan: the sensitive coordinates whose values it returned
 * (non-null), and how many objects carried at least one of them. Linear in the part of the
 * response the plan leads to; no allocation per object (it runs for every audited response).
 */
export function readValues(plan: ReadPlan, data: Record<string, unknown>): { coordinates: string[]; rows: number } {
  const state: WalkState = { coordinates: [], rows: 0 };
  if (plan.root) walk(plan.root, data, state);
  const { coordinates } = state;
  return { coordinates: coordinates.length > 1 ? coordinates.sort() : coordinates, rows: state.rows };
}

interface WalkState {
  coordinates: string[];
  rows: number;
}

function walk(set: PlanSet, value: unknown, state: WalkState): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(set, value[i], state);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (inObject(set, value as Record<string, unknown>, state)) state.rows++;
}

function inObject(set: PlanSet, object: Record<string, unknown>, state: WalkState): boolean {
  let sensitiveHere = false;
  const fields = set.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const value = object[f.key];
    if (value === null || value === undefined) continue;
    if (f.sensitive !== null) {
      // A handful of distinct coordinates: a list beats a Set here.
      if (!state.coordinates.includes(f.sensitive)) state.coordinates.push(f.sensitive);
      sensitiveHere = true;
    }
    if (f.below !== null) walk(f.below, value, state);
  }
  const fragments = set.fragments;
  for (let i = 0; i < fragments.length; i++) {
    const fragment = fragments[i]!;
    // A type condition this object does not meet (when the response says its type).
    const typename = object.__typename;
    if (fragment.condition !== null && typeof typename === 'string' && fragment.condition !== typename) continue;
    if (inObject(fragment.set, object, state)) sensitiveHere = true;
  }
  return sensitiveHere;
}
