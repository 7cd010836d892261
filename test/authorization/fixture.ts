import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { composeSubgraphs } from '../../gateway/composition/compose-supergraph.js';
import type { AuthorizationMode } from '../../gateway/config/gateway-config.js';
import { startGateway, type RunningGateway } from '../../gateway/server/gateway-server.js';
import { executeGraphQL, readBody } from '../../subgraphs/mesh/http.js';
import { postGraphQL, testConfig } from '../helpers/mesh.js';

/**
 * A small supergraph with every shape authorization must handle, in the spirit of Apollo Router's
 * own authorization tests: interfaces, unions, entities split across two subgraphs, non-null
 * fields, protected scalars and enums, OR/AND scopes, policies, a mutation, a protected key.
 * Two real subgraphs over HTTP; each records the operations it was asked.
 */
const ACCOUNTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes", "@policy"])

  type Query {
    publicInfo: String
    me: User @authenticated
    user(id: ID!): User
    users: [User!]!
    node(id: ID!): Node
    items: [Item!]!
    search: [SearchResult!]!
    secretNumber: SecretNumber
    level: Level
    warehouses: [Warehouse]
  }
  type Mutation {
    updateEmail(id: ID!, email: String!): User @requiresScopes(scopes: [["user:write"]])
    ping: String
  }
  interface Node { id: ID! }
  type User implements Node @key(fields: "id") {
    id: ID!
    name: String!
    email: String @requiresScopes(scopes: [["user:read:email"]])
    ssn: String! @requiresScopes(scopes: [["pii:read", "ssn:read"]])
    salary: Int @policy(policies: [["hr"]])
    internalNote: String @requiresScopes(scopes: [["admin"], ["support"]])
  }
  type Document implements Node @key(fields: "id") @authenticated {
    id: ID!
    title: String
  }
  union SearchResult = User | Document
  interface Item { id: ID! label: String }
  type Book implements Item { id: ID! label: String }
  type Secret implements Item { id: ID! label: String @requiresScopes(scopes: [["secret:read"]]) }
  scalar SecretNumber @requiresScopes(scopes: [["secret:read"]])
  enum Level @authenticated { LOW HIGH }
  type Warehouse @key(fields: "code") {
    code: String! @requiresScopes(scopes: [["ops:read"]])
    city: String
  }
`;

const REVIEWS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes"])

  type User @key(fields: "id") {
    id: ID!
    reviews: [Review!] @authenticated
    karma: Int @requiresScopes(scopes: [["karma:read"]])
  }
  type Review {
    id: ID!
    body: String!
    rating: Int @requiresScopes(scopes: [["rating:read"]])
  }
  type Warehouse @key(fields: "code") {
    code: String!
    stock: Int
  }
`;

export const POLICIES = `
policies:
  hr:
    expression: 'has(claims.department) && claims.department == "hr"'
forwardedClaims: [department]
`;

function accountsData() {
  return {
    users: [
      { id: '1', name: 'Ada', email: 'ada@example.com', ssn: '111-11', salary: 100, internalNote: 'vip' },
      { id: '2', name: 'Bob', email: 'bob@example.com', ssn: '222-22', salary: 90, internalNote: 'new' },
    ],
    documents: [{ id: 'd1', title: 'Merger plan' }],
  };
}

function accountsResolvers(state: ReturnType<typeof accountsData>) {
  const user = (id: string) => state.users.find((u) => u.id === id) ?? null;
  return {
    Query: {
      publicInfo: () => 'hello',
      me: () => state.users[0],
      user: (_: unknown, { id }: { id: string }) => user(id),
      users: () => state.users,
      node: (_: unknown, { id }: { id: string }) => user(id) ?? state.documents.find((d) => d.id === id) ?? null,
      items: () => [
        { __typename: 'Book', id: 'b1', label: 'A public book' },
        { __typename: 'Secret', id: 's1', label: 'The secret' },
      ],
      search: () => [...state.users, ...state.documents],
      secretNumber: () => 42,
      level: () => 'HIGH',
      warehouses: () => [{ code: 'W1', city: 'Lyon' }],
    },
    Mutation: {
      updateEmail: (_: unknown, { id, email }: { id: string; email: string }) => {
        const u = user(id);
        if (u) u.email = email;
        return u;
      },
      ping: () => 'pong',
    },
    User: { __resolveReference: (ref: { id: string }) => user(ref.id) },
    Document: { __resolveReference: (ref: { id: string }) => state.documents.find((d) => d.id === ref.id) ?? null },
    Warehouse: { __resolveReference: (ref: { code: string }) => ({ code: ref.code, city: 'Lyon' }) },
    Node: { __resolveType: (o: object) => ('name' in o ? 'User' : 'Document') },
    Item: { __resolveType: (o: { __typename: string }) => o.__typename },
    SearchResult: { __resolveType: (o: object) => ('name' in o ? 'User' : 'Document') },
  };
}

const reviewsResolvers = {
  User: {
    __resolveReference: (ref: { id: string }) => ref,
    reviews: (u: { id: string }) => [{ id: `r-${u.id}`, body: `Review by ${u.id}`, rating: 5 }],
    karma: () => 7,
  },
  Warehouse: { __resolveReference: (ref: { code: string }) => ({ code: ref.code, stock: 12 }) },
};

interface FixtureSubgraph {
  name: string;
  url: string;
  /** Every operation text this subgraph received. */
  received: string[];
  server: Server;
  apollo: ApolloServer;
}

async function serve(name: string, sdl: string, resolvers: any): Promise<FixtureSubgraph> {
  const apollo = new ApolloServer({ schema: buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]) });
  await apollo.start();
  const received: string[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const query = JSON.parse(body).query;
    // The gateways' readiness probes (every 5 s, at any moment) are not what a test asked for.
    if (!String(query).startsWith('query __ApolloServiceHealthCheck__')) received.push(query);
    await executeGraphQL(apollo, req, res, async () => ({}), body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { name, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, received, server, apollo };
}

export interface AuthzFixture {
  accounts: FixtureSubgraph;
  reviews: FixtureSubgraph;
  supergraphSdl: string;
  policiesFile: string;
  state: ReturnType<typeof accountsData>;
  gateways: Record<AuthorizationMode, RunningGateway>;
  query(mode: AuthorizationMode, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): ReturnType<typeof postGraphQL>;
  /** Operations the subgraphs received since the last call. */
  takeReceived(): string[];
  close(): Promise<void>;
}

export async function startAuthzFixture(): Promise<AuthzFixture> {
  const state = accountsData();
  const accounts = await serve('accounts', ACCOUNTS, accountsResolvers(state));
  const reviews = await serve('reviews', REVIEWS, reviewsResolvers);
  const { supergraphSdl } = composeSubgraphs([
    { name: 'accounts', url: accounts.url, typeDefs: parse(ACCOUNTS) },
    { name: 'reviews', url: reviews.url, typeDefs: parse(REVIEWS) },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'authz-fixture-'));
  const policiesFile = join(dir, 'policies.yaml');
  writeFileSync(policiesFile, POLICIES);
  const gateways = {} as Record<AuthorizationMode, RunningGateway>;
  for (const mode of ['filter', 'reject', 'dry_run'] as const) {
    gateways[mode] = await startGateway({ supergraphSdl, port: 0, config: testConfig({ authorizationMode: mode, policiesFile }) });
  }
  return {
    accounts,
    reviews,
    supergraphSdl,
    policiesFile,
    state,
    gateways,
    query: (mode, query, variables, headers) => postGraphQL(gateways[mode].graphqlUrl, query, variables, headers),
    takeReceived() {
      const all = [...accounts.received, ...reviews.received];
      accounts.received.length = 0;
      reviews.received.length = 0;
      return all;
    },
    async close() {
      for (const g of Object.values(gateways)) await g.close();
      for (const s of [accounts, reviews]) {
        s.server.closeAllConnections();
        await new Promise((r) => s.server.close(r));
        await s.apollo.stop();
      }
    },
  };
}
