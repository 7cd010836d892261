import { composeServices } from './compose-services.js';
import type { CompositionHint } from '@apollo/composition/dist/hints.js';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { GraphQLError, parse, type DocumentNode } from 'graphql';
import { ConfigError } from '../config/config-error.js';
import type { SupergraphConfig } from '../config/supergraph-config.js';
import { ANONYMOUS_IDENTITY, IDENTITY_HEADER, IdentitySigner, signingKeyFromEnv } from '../../subgraphs/mesh/identity.js';
import { withGovernanceDefinitions } from '../../subgraphs/mesh/data-products/governance-directives.js';

/**
 * Composition of the subgraphs listed in supergraph.yaml, in-process with @apollo/composition
 * (the library Rover itself runs), so no binary download is needed.
 */

export interface CompositionMessage {
  severity: 'error' | 'hint';
  code: string;
  subgraphs: string[];
  /** Schema coordinate, e.g. `Customer.email`, when the library or the message names one. */
  coordinate: string | null;
  message: string;
}

export class CompositionFailed extends Error {
  constructor(readonly messages: CompositionMessage[]) {
    super(`composition failed with ${messages.length} error(s):\n${messages.map(formatCompositionMessage).join('\n')}`);
  }
}

export interface ComposedSupergraph {
  supergraphSdl: string;
  hints: CompositionMessage[];
}

interface LoadedSubgraph {
  name: string;
  url: string;
  typeDefs: DocumentNode;
}

/** Reads every subgraph's SDL (from its file or by introspecting `_service { sdl }`). */
export async function loadSubgraphSchemas(
  config: SupergraphConfig,
  options: { routingUrls?: Record<string, string>; introspectionHeaders?: Record<string, string> } = {},
): Promise<LoadedSubgraph[]> {
  return Promise.all(
    config.subgraphs.map(async (entry) => {
      const at = `subgraphs.${entry.name}.schema`;
      let sdl: string;
      let source: string;
      if (entry.schema.kind === 'file') {
        source = relative(process.cwd(), entry.schema.path);
        try {
          sdl = readFileSync(entry.schema.path, 'utf8');
        } catch {
          throw new ConfigError(config.file, `${at}.file`, `schema file not found: ${source}`);
        }
      } else {
        source = entry.schema.url;
        sdl = await introspectSubgraph(entry.schema.url, { ...options.introspectionHeaders, ...entry.schema.headers }).catch(
          (error: Error) => {
            throw new ConfigError(config.file, `${at}.subgraph_url`, `could not introspect ${entry.schema.kind === 'introspection' ? entry.schema.url : ''}: ${error.message}`);
          },
        );
      }
      let typeDefs: DocumentNode;
      try {
        // A schema that links the mesh's governance spec gets its definitions from the contract.
        typeDefs = withGovernanceDefinitions(parse(sdl, { noLocation: false }));
      } catch (error) {
        const location = error instanceof GraphQLError && error.locations?.[0];
        const where = location ? `${source}:${location.line}:${location.column}` : source;
        throw new ConfigError(config.file, at, `invalid GraphQL in ${where}: ${(error as Error).message}`);
      }
      return { name: entry.name, url: options.routingUrls?.[entry.name] ?? entry.routingUrl, typeDefs };
    }),
  );
}

/**
 * Our subgraphs answer only the gateway's signed identity; introspecting them for composition
 * sends an anonymous one signed with MESH_SIGNING_KEY, unless the config's introspection_headers
 * bring their own. Other subgraphs ignore the header.
 */
export async function withMeshIdentity(headers: Record<string, string>): Promise<Record<string, string>> {
  if (Object.keys(headers).some((h) => h.toLowerCase() === IDENTITY_HEADER)) return headers;
  const signer = new IdentitySigner(signingKeyFromEnv(process.env, () => {}));
  return { ...headers, [IDENTITY_HEADER]: await signer.header(ANONYMOUS_IDENTITY) };
}

async function introspectSubgraph(url: string, headers: Record<string, string>): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await withMeshIdentity(headers)) },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json().catch(() => null)) as { data?: { _service?: { sdl?: string } }; errors?: { message: string }[] } | null;
  const sdl = body?.data?._service?.sdl;
  if (!response.ok || !sdl) throw new Error(body?.errors?.[0]?.message ?? `HTTP ${response.status}`);
  return sdl;
}

export function composeSubgraphs(subgraphs: LoadedSubgraph[]): ComposedSupergraph {
  const result = composeServices(subgraphs.map((s) => ({ ...s, typeDefs: withGovernanceDefinitions(s.typeDefs) })));
  if (result.errors) throw new CompositionFailed(result.errors.map(fromError));
  return { supergraphSdl: result.supergraphSdl, hints: result.hints.map(fromHint) };
}

const COORDINATE = /"([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)?(?:\([A-Za-z_]\w*:\))?)"/;

function subgraphsOf(nodes: readonly unknown[] | undefined, message: string): string[] {
  const names = new Set<string>();
  for (const node of nodes ?? []) {
    const subgraph = (node as { subgraph?: string }).subgraph;
    if (subgraph) names.add(subgraph);
  }
  for (const match of message.matchAll(/\[([A-Za-z][\w-]*)\]/g)) names.add(match[1]!);
  // Some errors (e.g. INVALID_FIELD_SHARING) carry nodes without a subgraph and only name them in
  // the text: `… from subgraphs "a" and "b"`, `… in subgraph "a"`.
  for (const match of message.matchAll(/\bsubgraphs? ((?:"[A-Za-z][\w-]*"(?:, | and |, and )?)+)/g)) {
    for (const quoted of match[1]!.matchAll(/"([A-Za-z][\w-]*)"/g)) names.add(quoted[1]!);
  }
  return [...names];
}

function fromError(error: GraphQLError): CompositionMessage {
  return {
    severity: 'error',
    code: String(error.extensions?.code ?? 'COMPOSITION_ERROR'),
    subgraphs: subgraphsOf(error.nodes, error.message),
    coordinate: error.message.match(COORDINATE)?.[1] ?? null,
    message: error.message,
  };
}

function fromHint(hint: CompositionHint): CompositionMessage {
  return {
    severity: 'hint',
    code: hint.definition.code,
    subgraphs: subgraphsOf(hint.nodes, hint.message),
    coordinate: hint.coordinate ?? hint.message.match(COORDINATE)?.[1] ?? null,
    message: hint.message,
  };
}

export function formatCompositionMessage(m: CompositionMessage): string {
  const where = [m.subgraphs.length ? `subgraph ${m.subgraphs.join(', ')}` : null, m.coordinate ? `at ${m.coordinate}` : null]
    .filter(Boolean)
    .join(' ');
  return `${m.severity} [${m.code}]${where ? ` ${where}` : ''}: ${m.message}`;
}
