/**
 * The operations `npm run bench` sends. Each one is sent unchanged to every gateway, checked once
 * per gateway before load (no `errors`, the same `data` everywhere), then replayed under load.
 *
 * Keep them to fields that need no special purpose header (marketing behaviour needs
 * X-Data-Purpose): the benchmark token in bench/auth.ts carries every scope and claim they need.
 */

export interface BenchQuery {
  /** Short id used in results.json, the table and the chart. */
  id: string;
  title: string;
  /** A few words, for the chart's axis. */
  short: string;
  description: string;
  operationName: string;
  query: string;
  variables: Record<string, unknown>;
  /** Measured for SQL-per-operation scaling only (not part of the default load set). */
  scalingOnly?: boolean;
}

const LOOKUP = /* GraphQL */ `
  query Lookup($id: ID!) {
    customer(id: $id) {
      id
      fullName
      region
      country
      city
      signupDate
    }
  }
`;

/** customer → orders (sales) → lines → product (products) → salesTrend (sales) ; order → invoice (finance). */
const DEEP = /* GraphQL */ `
  query CustomerDeep($id: ID!) {
    customer(id: $id) {
      id
      fullName
      region
      orders(first: 5) {
        id
        placedAt
        status
        total
        lines {
          lineNumber
          quantity
          unitPrice
          product {
            id
            name
            category { name }
            price
            salesTrend(period: QUARTER, last: 4) {
              period
              units
              revenue
            }
          }
        }
        invoice {
          number
          status
          total
          paidAmount
        }
      }
    }
  }
`;

const WIDE = /* GraphQL */ `
  query WideList($first: Int!) {
    customers(first: $first) {
      id
      fullName
      region
      orders(first: 3) {
        id
        placedAt
        total
        lines {
          quantity
          amount
          product {
            id
            sku
            name
            price
          }
        }
      }
    }
  }
`;

export const QUERIES: BenchQuery[] = [
  {
    id: 'lookup',
    short: 'Lookup',
    title: 'Single-entity lookup',
    description: 'customer(id) with its own fields: one subgraph fetch',
    operationName: 'Lookup',
    query: LOOKUP,
    variables: { id: '42' },
  },
  {
    id: 'deep',
    short: 'Cross-domain, 4 hops',
    title: 'Cross-domain, 4 hops',
    description: 'customer → 5 orders → lines → product → salesTrend, and each order’s invoice (customers, sales, products, finance)',
    operationName: 'CustomerDeep',
    query: DEEP,
    variables: { id: '42' },
  },
  {
    id: 'wide',
    short: 'Wide, 100 rows',
    title: 'Wide list (100 customers)',
    description: '100 customers, 3 orders each, their lines and products (customers, sales, products)',
    operationName: 'WideList',
    query: WIDE,
    variables: { first: 100 },
  },
  {
    id: 'wide10',
    short: 'Wide, 10 rows',
    title: 'Wide list (10 customers)',
    description: 'the wide query with 10 customers: SQL statements per operation must equal the 100-customer figure',
    operationName: 'WideList',
    query: WIDE,
    variables: { first: 10 },
    scalingOnly: true,
  },
];

/** The JSON body a client POSTs for a query. */
export function requestBody(q: BenchQuery): string {
  return JSON.stringify({ query: q.query, variables: q.variables, operationName: q.operationName });
}

/**
 * The same request with an `extensions` entry no gateway reads, different for every `n`: bodies
 * that are never byte-identical but ask for the very same execution (the unique-body scenario).
 */
export function uniqueRequestBody(q: BenchQuery, n: number): string {
  return JSON.stringify({ query: q.query, variables: q.variables, operationName: q.operationName, extensions: { benchRequestId: n } });
}
