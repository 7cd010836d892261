import { getNullableType, isListType, type GraphQLOutputType } from 'graphql';

/** At most this many unauthorized paths are listed (one more error says there were more). */
export const MAX_REPORTED_PATHS = 1_000;

/** Unauthorized fields and fragments, by level, like `NullPlan`; expanded into paths only to report them. */
export interface ErrorLevel {
  readonly id: number;
  readonly entries: readonly ErrorEntry[];
}
export interface ErrorEntry {
  /** null: an unauthorized fragment dropped at this level (reported at the level's path). */
  readonly responseKey: string | null;
  readonly type: GraphQLOutputType | null;
  readonly next: ErrorLevel | null;
}

/**
 * The paths Router reports: response keys, and `@` for each list level crossed. A dropped fragment
 * is reported at its parent's items; a field at the field itself. Walks the error levels once per
 * (level, path), so a fragment spread many times at one place costs once.
 */
export function errorPaths(root: ErrorLevel | null): { unauthorizedPaths: (string | number)[][]; truncated: boolean } {
  const paths: (string | number)[][] = [];
  if (!root) return { unauthorizedPaths: paths, truncated: false };
  const visited = new Set<string>();
  let truncated = false;
  const walk = (level: ErrorLevel, prefix: (string | number)[]) => {
    const key = `${level.id}:${prefix.join('\u0000')}`;
    if (visited.has(key)) return;
    visited.add(key);
    for (const entry of level.entries) {
      if (paths.length >= MAX_REPORTED_PATHS) {
        truncated = true;
        return;
      }
      if (entry.responseKey === null) paths.push(prefix);
      else if (entry.next === null) paths.push([...prefix, entry.responseKey]);
      else walk(entry.next, [...prefix, entry.responseKey, ...listLevels(entry.type!)]);
    }
  };
  walk(root, []);
  return { unauthorizedPaths: paths, truncated };
}

function listLevels(type: GraphQLOutputType): '@'[] {
  const levels: '@'[] = [];
  let t = getNullableType(type);
  while (isListType(t)) {
    levels.push('@');
    t = getNullableType(t.ofType);
  }
  return levels;
}
