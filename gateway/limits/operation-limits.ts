import type { OperationShape, SetShape } from '../operation/operation-shape.js';

/** What Apollo Router measures of an operation, with its names. */
export interface OperationMeasures {
  /** Deepest nesting of fields (a root field is depth 1), fragments included. */
  depth: number;
  /** Fields counted once per distinct response key in each selection set, fragments included as often as spread. */
  height: number;
  /** Aliased fields, fragments included as often as spread. */
  aliases: number;
  /** Root fields, root fragments included. */
  rootFields: number;
  /**
   * Most selections of one response key in one selection set. Not a Router limit: graphql-js's
   * validation compares such selections pairwise, so 1,400 copies of one field (well within 15,000
   * tokens) cost a second of validation. Ours: `max_field_repetitions`.
   */
  repetitions: number;
}

export interface LimitSettings {
  max_depth: number;
  max_height: number;
  max_aliases: number;
  max_root_fields: number;
  max_field_repetitions: number;
}

export interface LimitViolation {
  code: 'MAX_DEPTH_LIMIT' | 'MAX_HEIGHT_LIMIT' | 'MAX_ALIASES_LIMIT' | 'MAX_ROOT_FIELDS_LIMIT' | 'MAX_FIELD_REPETITIONS_LIMIT';
  message: string;
  measured: number;
  limit: number;
}

/** Past this, a count is "more than any limit": sums stay exact and finite however fragments multiply. */
const CEILING = 1e15;
const add = (a: number, b: number) => Math.min(a + b, CEILING);

/**
 * Measures an operation as Router does, without expanding fragments: each selection set is
 * measured once and a spread adds its fragment's totals, so a fragment spread 2^30 times costs one
 * addition per spread, and the totals are what the expansion would count.
 */
export function measureOperation(shape: OperationShape): OperationMeasures {
  const memo = new Map<number, OperationMeasures>();
  const measure = (set: SetShape): OperationMeasures => {
    const known = memo.get(set.id);
    if (known) return known;
    const totals: OperationMeasures = { depth: 0, height: 0, aliases: 0, rootFields: 0, repetitions: 0 };
    const keys = new Map<string, number>();
    for (const selection of set.selections) {
      if (selection.kind === 'unknown') continue;
      if (selection.kind === 'field') {
        if (selection.node.alias) totals.aliases = add(totals.aliases, 1);
        const seen = (keys.get(selection.responseKey) ?? 0) + 1;
        keys.set(selection.responseKey, seen);
        totals.repetitions = Math.max(totals.repetitions, seen);
        if (seen === 1) {
          totals.height = add(totals.height, 1);
          totals.rootFields = add(totals.rootFields, 1);
        }
        const inner = selection.children ? measure(selection.children) : null;
        totals.depth = Math.max(totals.depth, 1 + (inner?.depth ?? 0));
        if (inner) {
          totals.height = add(totals.height, inner.height);
          totals.aliases = add(totals.aliases, inner.aliases);
          totals.repetitions = Math.max(totals.repetitions, inner.repetitions);
        }
      } else {
        const inner = measure(selection.children);
        totals.depth = Math.max(totals.depth, inner.depth);
        totals.height = add(totals.height, inner.height);
        totals.aliases = add(totals.aliases, inner.aliases);
        totals.rootFields = add(totals.rootFields, inner.rootFields);
        totals.repetitions = Math.max(totals.repetitions, inner.repetitions);
      }
    }
    memo.set(set.id, totals);
    return totals;
  };
  return measure(shape.root);
}

/** The limits an operation exceeds (0 disables a limit). */
export function limitViolations(measures: OperationMeasures, limits: LimitSettings): LimitViolation[] {
  const checks: [LimitViolation['code'], number, number, string][] = [
    ['MAX_DEPTH_LIMIT', measures.depth, limits.max_depth, 'Maximum depth limit exceeded in this operation'],
    ['MAX_HEIGHT_LIMIT', measures.height, limits.max_height, 'Maximum height (field count) limit exceeded in this operation'],
    ['MAX_ALIASES_LIMIT', measures.aliases, limits.max_aliases, 'Maximum aliases limit exceeded in this operation'],
    ['MAX_ROOT_FIELDS_LIMIT', measures.rootFields, limits.max_root_fields, 'Maximum root fields limit exceeded in this operation'],
    ['MAX_FIELD_REPETITIONS_LIMIT', measures.repetitions, limits.max_field_repetitions, 'The same field is selected too many times in one selection set'],
  ];
  return checks
    .filter(([, measured, limit]) => limit > 0 && measured > limit)
    .map(([code, measured, limit, message]) => ({ code, measured, limit, message: `${message} (${measured >= CEILING ? 'more than 10^15' : measured} > ${limit})` }));
}
