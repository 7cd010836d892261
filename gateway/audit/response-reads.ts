import { isObjectType } from 'graphql';
import type { OperationShape, SetShape } from '../operation/operation-shape.js';

/**
 * What an operation can read that the audit trail cares about, computed once per prepared
 * operation: which selections are sensitive fields, and which selection sets lead to any (the
 * others are never walked).
 */
export interface ReadPlan {
  /** By set id: the set, or something below it, selects a sensitive field. */
  readonly relevant: readonly boolean[];
  readonly sensitive: (coordinate: string) => boolean;
  readonly root: SetShape;
  /** Nothing sensitive is selected anywhere: no response of this operation is audited. */
  readonly empty: boolean;
}

export function readPlan(shape: OperationShape, sensitive: (coordinate: string) => boolean): ReadPlan {
  const relevant: boolean[] = new Array(shape.sets.length);
  const visiting = new Set<number>();
  const visit = (set: SetShape): boolean => {
    if (relevant[set.id] !== undefined) return relevant[set.id]!;
    // Sets form a DAG (fragments cannot cycle); the guard only protects against the impossible.
    if (visiting.has(set.id)) return false;
    visiting.add(set.id);
    let any = false;
    for (const s of set.selections) {
      if (s.kind === 'field') {
        if (s.coordinate && sensitive(s.coordinate)) any = true;
        if (s.children && visit(s.children)) any = true;
      } else if (s.kind === 'fragment' && visit(s.children)) {
        any = true;
      }
    }
    visiting.delete(set.id);
    relevant[set.id] = any;
    return any;
  };
  const empty = !visit(shape.root);
  for (const set of shape.sets) visit(set);
  return { relevant, sensitive, root: shape.root, empty };
}

/**
 * Walks a response's data along the operation's shape (only into sets that lead to sensitive
 * fields): the sensitive coordinates whose values it returned (non-null), and how many objects
 * carried at least one of them. Linear in the part of the response it walks.
 */
export function readValues(plan: ReadPlan, data: Record<string, unknown>): { coordinates: string[]; rows: number } {
  const coordinates = new Set<string>();
  let rows = 0;

  const inObject = (set: SetShape, object: Record<string, unknown>): boolean => {
    let sensitiveHere = false;
    for (const s of set.selections) {
      if (s.kind === 'field') {
        const value = object[s.responseKey];
        if (value === null || value === undefined) continue;
        if (s.coordinate && plan.sensitive(s.coordinate)) {
          coordinates.add(s.coordinate);
          sensitiveHere = true;
        }
        if (s.children && plan.relevant[s.children.id]) walk(s.children, value);
      } else if (s.kind === 'fragment' && plan.relevant[s.children.id]) {
        // A type condition that this object does not meet (when the response says its type).
        const typename = object.__typename;
        if (typeof typename === 'string' && isObjectType(s.condition) && s.condition.name !== typename) continue;
        if (inObject(s.children, object)) sensitiveHere = true;
      }
    }
    return sensitiveHere;
  };

  const walk = (set: SetShape, value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(set, item);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (inObject(set, value as Record<string, unknown>)) rows++;
  };

  walk(plan.root, data);
  return { coordinates: [...coordinates].sort(), rows };
}
