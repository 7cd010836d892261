import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A thin bridge from node:http to Apollo Server, shared by the gateway and every subgraph.
 * No framework in between: the gateway sits on every request, and this path is hot.
 */

export const MAX_BODY_BYTES = 1_000_000;

/** An error that becomes a GraphQL-shaped HTTP response instead of a crash. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Strict UTF-8: `buffer.toString('utf8')` would replace invalid bytes with U+FFFD, silently changing
 * what the client sent (and what a signature or a hash covered); a body that is not UTF-8 is a 400.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  // Plain 'data' events: measurably cheaper than `for await` on the gateway's hot path.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      try {
        resolve(UTF8.decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
      } catch {
        reject(new HttpError(400, 'BAD_REQUEST', 'Request body is not valid UTF-8'));
      }
    });
    req.once('error', reject);
  });
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'Request body is not valid JSON');
  }
}

export function sendGraphQLError(res: ServerResponse, error: HttpError, extraHeaders: Record<string, string> = {}): void {
  const body = JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code } }] });
  res.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', ...extraHeaders });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value));
}

export function toHeaderMap(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/** An executed HTTP GraphQL request, ready to be written to one or more responses. */
export interface GraphQLHttpResult {
  status: number;
  headers: Record<string, string>;
  /** The whole body, or a stream (incremental delivery), which cannot be shared. */
  body: string | AsyncIterable<string>;
}

/** The request's query string (`?…`, or ''), without parsing a whole URL on the hot path. */
export function searchOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at);
}

/** Runs one HTTP GraphQL request (GET or POST) through Apollo Server. */
export async function runGraphQL<C extends BaseContext>(
  server: ApolloServer<C>,
  req: IncomingMessage,
  context: () => Promise<C>,
  bodyText?: string,
  /** The POST body already parsed (the gateway reads it before Apollo does): not parsed twice. */
  parsedBody?: unknown,
): Promise<GraphQLHttpResult> {
  const body = req.method === 'POST' ? (parsedBody ?? parseJsonBody(bodyText ?? (await readBody(req)))) : undefined;
  const response = await server.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? 'GET', headers: toHeaderMap(req), search: searchOf(req), body },
    context,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  return {
    status: response.status ?? 200,
    headers,
    body: response.body.kind === 'complete' ? response.body.string : response.body.asyncIterator,
  };
}

export async function writeGraphQL(res: ServerResponse, result: GraphQLHttpResult): Promise<void> {
  res.writeHead(result.status, result.headers);
  if (typeof result.body === 'string') {
    res.end(result.body);
    return;
  }
  for await (const chunk of result.body) res.write(chunk);
  res.end();
}

/** Executes one HTTP GraphQL request with Apollo Server and writes the response. */
export async function executeGraphQL<C extends BaseContext>(
  server: ApolloServer<C>,
  req: IncomingMessage,
  res: ServerResponse,
  context: () => Promise<C>,
  bodyText?: string,
): Promise<void> {
  await writeGraphQL(res, await runGraphQL(server, req, context, bodyText));
}
