import { getNullableType, isListType, isNonNullType, type GraphQLOutputType } from 'graphql';
import type { NullPlan } from './operation-filter.js';

type Json = Record<string, unknown>;

/**
 * Puts back, as `null`, what the filter removed, with GraphQL's null propagation: a null in a
 * non-null position nulls the nearest nullable parent (or the whole `data`). Then removes the
 * `__typename`s the filter added. Walks the response once per plan level that applies to it: the
 * cost follows the response, not the operation's expansion.
 * Returns the new data (null when propagation reached the root).
 */
export function applyNulls(data: Json | null | undefined, plan: NullPlan | null): Json | null {
  if (data === null) return null;
  const root: Json = data ?? {};
  if (!plan) return root;
  if (nullsInObject(root, plan)) return null;
  stripInObject(root, plan);
  return root;
}

/** Returns true when `obj` itself must become null. */
function nullsInObject(obj: Json, plan: NullPlan): boolean {
  for (const entry of plan.nulls) {
    if (entry.onlyFor && !entry.onlyFor.has(obj.__typename as string)) continue;
    if (entry.next === null) {
      if (isNonNullType(entry.type)) return true;
      obj[entry.responseKey] = null;
      continue;
    }
    const value = obj[entry.responseKey];
    if (value === null || value === undefined) continue;
    if (nullsInValue(value, entry.type, entry.next)) {
      if (isNonNullType(entry.type)) return true;
      obj[entry.responseKey] = null;
    }
  }
  return false;
}

function nullsInValue(value: unknown, type: GraphQLOutputType, plan: NullPlan): boolean {
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    const items = value as unknown[];
    for (let j = 0; j < items.length; j++) {
      if (items[j] === null) continue;
      if (nullsInValue(items[j], nullable.ofType, plan)) {
        if (isNonNullType(nullable.ofType)) return true;
        items[j] = null;
      }
    }
    return false;
  }
  return nullsInObject(value as Json, plan);
}

function stripInObject(obj: Json, plan: NullPlan): void {
  for (const entry of plan.nulls) {
    if (entry.next === null || (entry.onlyFor && !entry.onlyFor.has(obj.__typename as string))) continue;
    stripInValue(obj[entry.responseKey], entry.next);
  }
  // Only the __typename the filter added: one the client selected under a fragment stays.
  if (plan.strip && !plan.strip.has(obj.__typename as string)) delete obj.__typename;
}

function stripInValue(value: unknown, plan: NullPlan): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) stripInValue(item, plan);
    return;
  }
  stripInObject(value as Json, plan);
}
