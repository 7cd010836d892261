import { GraphQLError } from 'graphql';

/**
 * Relay cursor connections (https://relay.dev/graphql/connections.htm), forward paging with
 * `first` / `after`, by keyset: a page is `WHERE (sort key) > (cursor's key) ORDER BY sort key
 * LIMIT first + 1`, the extra row only telling whether there is a next page. Keyset rather than
 * OFFSET: a page costs the same at row 10 and row 100,000, and a row added or removed before the
 * cursor does not shift the next page.
 *
 * A cursor is opaque to clients (base64url of a JSON array: the connection's name, then the sort
 * key of the last row the page returned) and read strictly: anything that does not decode to this
 * connection's key shape is a BAD_USER_INPUT error, never a silent restart. A cursor holds only the
 * sort key of a row the caller was shown (row-level rules already applied), so it reveals no hidden
 * row; classify a connection at least as high as the fields its sort key comes from.
 *
 * `first` is checked too: negative, or above the connection's stated maximum, is BAD_USER_INPUT,
 * never a silently shorter page. The schema states the maximum in the field's description and as
 * its `@listSize(assumedSize:)`, and test/paging.test.ts checks the three agree.
 */

/** The kinds of value a sort key column holds: integer ids, or text (ISO dates and timestamps). */
export type KeyKind = 'int' | 'text';
export type KeyValue = number | string;

export interface KeysetOptions<Row> {
  /** The connection's coordinate, e.g. `Customer.ordersConnection`: a cursor is valid only here. */
  name: string;
  /** The sort key's columns, in ORDER BY order. */
  kinds: readonly KeyKind[];
  /** The sort key of a row, as the SQL orders it. */
  keyOf(row: Row): readonly KeyValue[];
  /** `first` when the client gives none (or null). */
  defaultFirst: number;
  /** The largest `first` accepted: the size the schema states and `@listSize` assumes. */
  maxFirst: number;
}

/** One validated page request: bind `limit` and `after` (one parameter per key column, nulls for the first page). */
export interface Page {
  first: number;
  /** Rows to fetch: one more than `first`, to know whether a next page exists. */
  limit: number;
  /** The cursor's sort key, or one null per key column on the first page. */
  after: readonly (KeyValue | null)[];
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<Row> {
  edges: { cursor: string; node: Row }[];
  nodes: Row[];
  pageInfo: PageInfo;
}

/** Arguments of a connection field as GraphQL hands them to the resolver. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** The longest cursor read: far above any real one, so decoding work stays bounded. */
const MAX_CURSOR_LENGTH = 512;
const MAX_TEXT_KEY = 100;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A client mistake in paging arguments: Apollo's code for invalid argument values. */
export function badUserInput(message: string, argumentName: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argumentName } });
}

/** `first` checked against `[0, max]`; absent or null means `fallback`. */
export function checkedFirst(requested: number | null | undefined, fallback: number, max: number, argumentName = 'first'): number {
  if (requested === null || requested === undefined) return fallback;
  if (!Number.isSafeInteger(requested) || requested < 0) throw badUserInput(`\`${argumentName}\` must be between 0 and ${max}; got ${requested}`, argumentName);
  if (requested > max) throw badUserInput(`\`${argumentName}\` must be between 0 and ${max}; got ${requested} (page with the connection's \`after\` to read more)`, argumentName);
  return requested;
}

/** A connection's keyset: validates its arguments and builds its pages. */
export class Keyset<Row> {
  constructor(private readonly options: KeysetOptions<Row>) {}

  get maxFirst(): number {
    return this.options.maxFirst;
  }

  /** Validates `first` and `after`; throws BAD_USER_INPUT on anything else. */
  page(args: PageArgs): Page {
    const first = checkedFirst(args.first, this.options.defaultFirst, this.options.maxFirst);
    const after = args.after === null || args.after === undefined ? this.options.kinds.map(() => null) : this.decode(args.after);
    return { first, limit: first + 1, after };
  }

  /** The page from the rows fetched for it (up to `page.limit`, in key order). */
  connection(rows: readonly Row[], page: Page): Connection<Row> {
    const hasNextPage = rows.length > page.first;
    const nodes = hasNextPage ? rows.slice(0, page.first) : [...rows];
    const edges = nodes.map((node) => ({ cursor: this.encode(this.options.keyOf(node)), node }));
    return {
      edges,
      nodes,
      pageInfo: {
        hasNextPage,
        // Forward-only paging: the Relay spec lets `first`/`after` paging answer false here.
        hasPreviousPage: false,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  }

  encode(key: readonly KeyValue[]): string {
    return Buffer.from(JSON.stringify([this.options.name, ...key])).toString('base64url');
  }

  private decode(cursor: string): KeyValue[] {
    const invalid = () => badUserInput(`\`after\` is not a cursor of ${this.options.name}: pass a pageInfo.endCursor (or an edge's cursor) it returned`, 'after');
    if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw invalid();
    const bytes = Buffer.from(cursor, 'base64url');
    // One spelling per cursor: trailing bits or padding variants are not the cursor we issued.
    if (bytes.toString('base64url') !== cursor) throw invalid();
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw invalid();
    }
    const { name, kinds } = this.options;
    if (!Array.isArray(value) || value.length !== kinds.length + 1 || value[0] !== name) throw invalid();
    const key = value.slice(1) as unknown[];
    for (let i = 0; i < kinds.length; i++) {
      const part = key[i];
      const ok = kinds[i] === 'int' ? Number.isSafeInteger(part) : typeof part === 'string' && part.length <= MAX_TEXT_KEY;
      if (!ok) throw invalid();
    }
    return key as KeyValue[];
  }
}

export const keyset = <Row>(options: KeysetOptions<Row>): Keyset<Row> => new Keyset(options);

/**
 * The SQL condition "after the cursor" for a keyset ordered by `columns` (all ASC or all DESC),
 * using numbered parameters `?n`, `?n+1`…, bound to `page.after` (nulls: every row). Row-value
 * comparison, valid in SQLite and PostgreSQL alike.
 */
export function afterCursor(columns: readonly string[], order: 'ASC' | 'DESC', n: number): string {
  const op = order === 'ASC' ? '>' : '<';
  const params = columns.map((_, i) => `?${n + i}`);
  if (columns.length === 1) return `(?${n} IS NULL OR ${columns[0]} ${op} ?${n})`;
  return `(?${n} IS NULL OR (${columns.join(', ')}) ${op} (${params.join(', ')}))`;
}

/** An `after: ID` of the plain lists (the last id seen): an integer id, else BAD_USER_INPUT; absent means the start. */
export function checkedAfterId(after: string | number | null | undefined): number {
  if (after === null || after === undefined) return 0;
  const text = String(after);
  if (!/^(0|[1-9]\d{0,15})$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw badUserInput(`\`after\` must be the id of the last row seen (a non-negative integer); got ${JSON.stringify(text.slice(0, 40))}`, 'after');
  }
  return Number(text);
}
