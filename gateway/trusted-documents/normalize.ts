import { Lexer, Source, TokenKind, type Token } from 'graphql';

/**
 * A GraphQL document reduced to what the safelist compares, as Apollo Router does: ignored tokens
 * (whitespace, commas, comments, a byte-order mark) do not count, and top-level definitions are
 * sorted (operations by name, anonymous first, then fragments by name), because clients do not
 * always emit them in the order the manifest holds them. Selections are not reordered: a document
 * that selects the same fields in another order is another document.
 *
 * Router prints the parsed document; this works on the lexer's tokens instead, so a body is
 * compared **before** anything parses it: linear, no recursion, and it stops after `maxTokens`
 * tokens (nothing longer than the longest manifest body can match). Returns null when the text does
 * not lex or is longer than `maxTokens`: such a body matches nothing.
 */
export function normalizeDocument(text: string, maxTokens = Infinity): string | null {
  const definitions: { operation: boolean; name: string; tokens: string[] }[] = [];
  let current: (typeof definitions)[number] | null = null;
  let braces = 0;
  let parens = 0;
  let opened = false;
  let count = 0;
  try {
    const lexer = new Lexer(new Source(text));
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++count > maxTokens) return null;
      if (!current) {
        current = { operation: token.value !== 'fragment', name: '', tokens: [] };
        definitions.push(current);
        opened = false;
        // The name follows the keyword: `query Name`, `fragment Name on …`; `{ … }` is anonymous.
        if (token.kind === TokenKind.NAME) {
          const next = lexer.lookahead();
          if (next.kind === TokenKind.NAME) current.name = next.value;
        }
      }
      current.tokens.push(canonical(token));
      if (token.kind === TokenKind.PAREN_L || token.kind === TokenKind.BRACKET_L) parens++;
      else if (token.kind === TokenKind.PAREN_R || token.kind === TokenKind.BRACKET_R) parens--;
      else if (token.kind === TokenKind.BRACE_L) {
        // The definition's selection set: the first brace outside any argument or value.
        if (braces === 0 && parens === 0) opened = true;
        braces++;
      } else if (token.kind === TokenKind.BRACE_R) {
        braces--;
        if (braces === 0 && parens === 0 && opened) current = null;
      }
      if (braces < 0 || parens < 0) return null;
    }
  } catch {
    return null; // a lexical error (an unterminated string, a stray character)
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const operations = definitions.filter((d) => d.operation).sort(byName);
  const fragments = definitions.filter((d) => !d.operation).sort(byName);
  return [...operations, ...fragments].map((d) => d.tokens.join(' ')).join('\n');
}

/** One token as compared: names and numbers as written, strings by value, punctuators by kind. */
function canonical(token: Token): string {
  switch (token.kind) {
    case TokenKind.NAME:
    case TokenKind.INT:
    case TokenKind.FLOAT:
      return token.value;
    case TokenKind.STRING:
    case TokenKind.BLOCK_STRING:
      return JSON.stringify(token.value);
    default:
      return token.kind;
  }
}

/** How many tokens a document has (ignored tokens not counted); Infinity when it does not lex. */
export function tokenCount(text: string): number {
  let count = 0;
  try {
    const lexer = new Lexer(new Source(text));
    while (lexer.advance().kind !== TokenKind.EOF) count++;
  } catch {
    return Infinity;
  }
  return count;
}
