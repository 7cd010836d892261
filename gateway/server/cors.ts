import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../../subgraphs/mesh/http.js';
import { ConfigError } from '../config/config-error.js';
import { parseDuration, type GatewaySettings } from '../config/gateway-settings.js';

/**
 * Cross-origin access, configured like Apollo Router's `cors` section. The default allows no other
 * origin at all (Router's default allows Apollo Studio; ours deliberately allows nothing): the
 * gateway's own explorer is same-origin and needs no CORS header.
 *
 * - A preflight (OPTIONS with Origin and Access-Control-Request-Method) from an allowed origin for
 *   an allowed method is answered 204 with the Access-Control-Allow-* headers; any other preflight
 *   is a 403 without them (`CORS_ORIGIN_NOT_ALLOWED`, `CORS_METHOD_NOT_ALLOWED`).
 * - Any other request from an allowed origin gets Access-Control-Allow-Origin (and credentials,
 *   exposed headers); from another origin, no CORS header: the browser keeps the answer from the page.
 */
export class Cors {
  private readonly origins: ReadonlySet<string>;
  private readonly patterns: readonly RegExp[];
  private readonly methods: string;
  private readonly allowedMethods: ReadonlySet<string>;
  private readonly maxAge: string | null;
  /** Some origin may be allowed (otherwise actual requests need no header at all). */
  private readonly enabled: boolean;

  constructor(private readonly settings: GatewaySettings['cors']) {
    if (settings.allow_any_origin && settings.allow_credentials) {
      // Browsers refuse `*` with credentials; Router refuses this combination at start too.
      throw new ConfigError('gateway settings', 'cors.allow_credentials', 'cannot be combined with cors.allow_any_origin: list the origins instead');
    }
    for (const origin of settings.origins) {
      if (origin === '*') throw new ConfigError('gateway settings', 'cors.origins', 'use cors.allow_any_origin: true instead of "*"');
      if (origin.endsWith('/')) throw new ConfigError('gateway settings', 'cors.origins', `"${origin}": an origin has no path (no trailing slash)`);
    }
    this.origins = new Set(settings.origins);
    // Anchored: `https://.*\.example\.com` must not match `https://evil.com/?https://a.example.com`.
    this.patterns = settings.match_origins.map((p) => new RegExp(`^(?:${p})$`));
    this.allowedMethods = new Set(settings.methods.map((m) => m.toUpperCase()));
    this.methods = [...this.allowedMethods].join(', ');
    this.enabled = settings.allow_any_origin || this.origins.size > 0 || this.patterns.length > 0;
    this.maxAge = settings.max_age === null ? null : String(Math.floor(parseDuration(settings.max_age, 'gateway settings', 'cors.max_age') / 1000));
  }

  /** True when `origin` may read the gateway's answers. */
  allows(origin: string): boolean {
    return this.settings.allow_any_origin || this.origins.has(origin) || this.patterns.some((p) => p.test(origin));
  }

  /**
   * Applies CORS to one request. Returns true when the request was a preflight and has been answered;
   * otherwise sets the headers an allowed origin's response needs (they survive `writeHead`).
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    const requestedMethod = req.headers['access-control-request-method'];
    if (req.method === 'OPTIONS' && origin !== undefined && typeof requestedMethod === 'string') {
      this.preflight(origin, requestedMethod, req, res);
      return true;
    }
    if (origin !== undefined && this.enabled) this.actual(origin, res);
    return false;
  }

  private preflight(origin: string, method: string, req: IncomingMessage, res: ServerResponse): void {
    if (!this.allows(origin)) throw new HttpError(403, 'CORS_ORIGIN_NOT_ALLOWED', `Origin ${origin} is not allowed (cors)`);
    if (!this.allowedMethods.has(method.toUpperCase())) throw new HttpError(403, 'CORS_METHOD_NOT_ALLOWED', `Method ${method} is not allowed (cors.methods: ${this.methods})`);
    const s = this.settings;
    const vary = ['Origin', 'Access-Control-Request-Method'];
    const headers: Record<string, string> = {
      'access-control-allow-origin': this.allowOrigin(origin),
      'access-control-allow-methods': this.methods,
    };
    if (s.allow_headers.length > 0) headers['access-control-allow-headers'] = s.allow_headers.join(', ');
    else {
      // Empty list: mirror what the browser asks for (Router's behaviour).
      const requested = req.headers['access-control-request-headers'];
      if (requested) headers['access-control-allow-headers'] = requested;
      vary.push('Access-Control-Request-Headers');
    }
    if (s.allow_credentials) headers['access-control-allow-credentials'] = 'true';
    if (this.maxAge !== null) headers['access-control-max-age'] = this.maxAge;
    headers.vary = vary.join(', ');
    headers['content-length'] = '0';
    res.writeHead(204, headers);
    res.end();
  }

  private actual(origin: string, res: ServerResponse): void {
    // Whatever the answer, it depends on Origin: caches must keep one per origin.
    if (!this.settings.allow_any_origin) res.setHeader('vary', 'Origin');
    if (!this.allows(origin)) return;
    res.setHeader('access-control-allow-origin', this.allowOrigin(origin));
    if (this.settings.allow_credentials) res.setHeader('access-control-allow-credentials', 'true');
    if (this.settings.expose_headers.length > 0) res.setHeader('access-control-expose-headers', this.settings.expose_headers.join(', '));
  }

  private allowOrigin(origin: string): string {
    return this.settings.allow_any_origin ? '*' : origin;
  }
}
