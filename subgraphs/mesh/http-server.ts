import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpError, sendGraphQLError } from './http.js';
import type { Logger } from './logger.js';

export interface ListeningServer {
  server: Server;
  port: number;
  /** `http://host:port` (127.0.0.1 when listening on every interface). */
  origin: string;
  /** Stops accepting, drops idle keep-alive connections and resolves when the server is closed. */
  close(): Promise<void>;
}

/**
 * The HTTP listener the gateway and every subgraph share: one handler per request, a thrown
 * HttpError becomes its coded GraphQL-shaped answer, anything else a logged 500 with no details.
 */
export async function listen(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>,
  options: { port: number; host?: string; log: Logger; errorHeaders?: (error: HttpError) => Record<string, string> },
): Promise<ListeningServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof HttpError) return sendGraphQLError(res, error, options.errorHeaders?.(error) ?? {});
      options.log.error('request failed', { error: String(error) });
      sendGraphQLError(res, new HttpError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'));
    });
  });
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    origin: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A request Node's HTTP parser refuses before any handler sees it (headers over 16 KB, a malformed
 * request line, Content-Length and Transfer-Encoding together, a bad Content-Length): Node would
 * answer a bare 400/431 with no body; this answers the same status with a coded GraphQL error.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'REQUEST_HEADER_FIELDS_TOO_LARGE', 'Request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT', 'The request was not received in time']
        : [400, 'BAD_REQUEST', 'Malformed HTTP request'];
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
