/**
 * How deeply a GraphQL document nests (selection sets, argument lists, list and object values),
 * read from the text in one pass without parsing it: graphql-js parses recursively, so a document
 * nested thousands of levels deep would exhaust the stack before any limit could look at it.
 * Strings, block strings and comments are skipped. Stops as soon as `limit` is exceeded.
 */
export function nestingExceeds(source: string, limit: number): boolean {
  let depth = 0;
  const n = source.length;
  for (let i = 0; i < n; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x28 /* ( */ || c === 0x5b /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 0x7d /* } */ || c === 0x29 /* ) */ || c === 0x5d /* ] */) {
      if (depth > 0) depth--;
    } else if (c === 0x23 /* # */) {
      while (i < n && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22 /* " */) {
      if (source.startsWith('"""', i)) {
        const end = source.indexOf('"""', i + 3);
        // A block string's `\"""` escape does not close it.
        let close = end;
        while (close !== -1 && source.charCodeAt(close - 1) === 0x5c) close = source.indexOf('"""', close + 3);
        i = close === -1 ? n : close + 2;
      } else {
        for (i++; i < n; i++) {
          const d = source.charCodeAt(i);
          if (d === 0x5c /* \ */) i++;
          else if (d === 0x22 || d === 0x0a) break;
        }
      }
    }
  }
  return false;
}
