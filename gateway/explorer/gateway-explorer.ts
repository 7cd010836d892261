import type { Authorizer } from '../authorization/authorizer.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { GatewaySettings } from '../config/gateway-settings.js';
import { ExplorerPage } from './explorer-page.js';
import { DEFAULT_PERSONA, developmentPersonas, personasEnabled } from './personas.js';

export interface GatewayExplorerOptions {
  /** Where the page sends GraphQL requests (e.g. /graphql, or a contract's path). */
  endpoint: string;
  title: string;
  config: GatewayConfig;
  settings: GatewaySettings;
  /** The served supergraph's authorizer, for what each persona grants (read at each rebuild). */
  authorizer: () => Authorizer;
  /** The query a browser without stored tabs opens with (default: the cross-domain example). */
  defaultQuery?: string;
}

/** Personas' tokens are re-minted this long before they expire, so a page never hands out a dead one. */
const RENEW_BEFORE_MS = 60 * 60 * 1000;

/**
 * The explorer page a gateway serves on one endpoint. With development personas, the page holds
 * their tokens and what they grant on the served supergraph, so it is rebuilt when that supergraph
 * is reloaded and before the tokens expire; without them it never changes (the docs notes are read
 * live from the catalog).
 */
export class GatewayExplorer {
  private page: ExplorerPage;
  private expiresAt: number;
  private rebuilding: Promise<void> | null = null;

  private constructor(
    private readonly options: GatewayExplorerOptions,
    built: { page: ExplorerPage; expiresAt: number },
  ) {
    this.page = built.page;
    this.expiresAt = built.expiresAt;
  }

  static async start(options: GatewayExplorerOptions): Promise<GatewayExplorer> {
    return new GatewayExplorer(options, await GatewayExplorer.build(options));
  }

  private static async build(options: GatewayExplorerOptions): Promise<{ page: ExplorerPage; expiresAt: number }> {
    const demand = options.settings.demand_control;
    const personas = personasEnabled(options.config) ? await developmentPersonas(options.config, options.authorizer()) : undefined;
    const page = new ExplorerPage({
      endpoint: options.endpoint,
      title: options.title,
      personas,
      defaultPersona: DEFAULT_PERSONA,
      demandControl: { enabled: demand.enabled, mode: demand.mode, max: demand.strategy.static_estimated.max },
      defaultQuery: options.defaultQuery,
    });
    const expiresAt = personas?.length ? Math.min(...personas.map((p) => Date.parse(p.expiresAt))) : Infinity;
    return { page, expiresAt };
  }

  get hasPersonas(): boolean {
    return this.expiresAt !== Infinity;
  }

  /** The page to send; renewed first when its personas' tokens are about to expire. */
  async current(): Promise<ExplorerPage> {
    // A failed renewal keeps the page it has: the explorer is never why a request fails.
    if (this.hasPersonas && Date.now() > this.expiresAt - RENEW_BEFORE_MS) await this.rebuild().catch(() => {});
    return this.page;
  }

  /** After a supergraph reload: the personas' grants are recomputed (requests meanwhile get the previous page). */
  refresh(): Promise<void> {
    return this.hasPersonas ? this.rebuild() : Promise.resolve();
  }

  private rebuild(): Promise<void> {
    this.rebuilding ??= GatewayExplorer.build(this.options)
      .then((built) => {
        this.page = built.page;
        this.expiresAt = built.expiresAt;
      })
      .finally(() => {
        this.rebuilding = null;
      });
    return this.rebuilding;
  }
}
