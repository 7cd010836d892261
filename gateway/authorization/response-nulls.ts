import { getNullableType, isListType, isNonNullType, type GraphQLOutputType } from 'graphql';
import type { FilterOutcome, Segment } from './operation-filter.js';

type Json = Record<string, unknown>;

/**
 * Puts back, as `null`, what the filter removed, with GraphQL's null propagation: a null in a
 * non-null position nulls the nearest nullable parent (or the whole `data`).
 * Returns the new data (null when propagation reached the root).
 */
export function applyNulls(data: Json | null | undefined, outcome: FilterOutcome): Json | null {
  if (data === null) return null;
  let root: Json = data ?? {};
  for (const site of outcome.nullSites) {
    if (nullInObject(root, site.trail, 0)) return null;
  }
  for (const site of outcome.typenameSites) stripTypename(root, site.trail, 0, site.keep);
  return root;
}

/** Returns true when `obj` itself must become null. */
function nullInObject(obj: Json, trail: readonly Segment[], i: number): boolean {
  const segment = trail[i]!;
  if (segment.onlyFor && !segment.onlyFor.has(obj.__typename as string)) return false;
  if (i === trail.length - 1) {
    if (isNonNullType(segment.type)) return true;
    obj[segment.responseKey] = null;
    return false;
  }
  const value = obj[segment.responseKey];
  if (value === null || value === undefined) return false;
  if (nullInValue(value, segment.type, trail, i + 1)) {
    if (isNonNullType(segment.type)) return true;
    obj[segment.responseKey] = null;
  }
  return false;
}

function nullInValue(value: unknown, type: GraphQLOutputType, trail: readonly Segment[], next: number): boolean {
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    const items = value as unknown[];
    for (let j = 0; j < items.length; j++) {
      if (items[j] === null) continue;
      if (nullInValue(items[j], nullable.ofType, trail, next)) {
        if (isNonNullType(nullable.ofType)) return true;
        items[j] = null;
      }
    }
    return false;
  }
  return nullInObject(value as Json, trail, next);
}

function stripTypename(value: unknown, trail: readonly Segment[], i: number, keep: ReadonlySet<string>): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) return value.forEach((item) => stripTypename(item, trail, i, keep));
  const obj = value as Json;
  if (i === trail.length) {
    // Only the __typename the filter added: one the client selected under a fragment stays.
    if (!keep.has(obj.__typename as string)) delete obj.__typename;
    return;
  }
  const segment = trail[i]!;
  stripTypename(obj[segment.responseKey], trail, i + 1, keep);
}
