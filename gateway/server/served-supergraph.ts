import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Logger } from '../../subgraphs/mesh/logger.js';
import { Authorizer } from '../authorization/authorizer.js';
import type { PolicyBook } from '../authorization/policy-book.js';
import { startCatalog, type Catalog, type CatalogOptions } from '../catalog/catalog.js';
import type { AuditLog } from '../audit/audit-log.js';
import { startPrivacy, type Privacy, type PrivacyOptions } from '../privacy/privacy.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { GatewaySettings } from '../config/gateway-settings.js';
import { DemandControl } from '../demand-control/demand-control.js';
import { RequestGuard } from '../limits/request-guard.js';
import { OperationCache } from '../operation/operation-cache.js';
import type { OperationCheck } from '../operation/prepared-operation-plugin.js';
import type { Supergraph } from '../supergraph/supergraph.js';
import { buildContracts, type Contract } from '../contracts/contracts.js';
import { CATALOG_IN_EVERY_CONTRACT } from '../contracts/gateway-owned.js';

/**
 * Everything the gateway builds for one supergraph: the catalog grafted onto it (the supergraph
 * served), the authorization index, the operation cache, the request guard, demand control. A
 * reload builds a new one and swaps it whole; a request keeps the one its schema came from.
 */
export interface ServedSupergraph {
  /** The supergraph as loaded (its hash is the one /health shows). */
  base: Supergraph;
  /** The supergraph served: `base` with the catalog's root fields. */
  supergraph: Supergraph;
  catalog: Catalog;
  /** Masking, the audit trail's plugin and subject access (their root fields join the graph). */
  privacy: Privacy;
  authorizer: Authorizer;
  operations: OperationCache;
  guard: RequestGuard;
  demandControl: DemandControl;
  /** Checks on each prepared operation, in order, before anything executes. */
  checks: readonly OperationCheck[];
  /** The contracts (gateway.yaml `contracts`), built over the supergraph served, by name. */
  contracts: ReadonlyMap<string, Contract>;
  loadedAt: Date;
}

export interface ServedSupergraphDeps {
  config: GatewayConfig;
  settings: GatewaySettings;
  policies: PolicyBook;
  catalogIdentity: () => Promise<string>;
  catalogOptions?: CatalogOptions;
  /** Checks that depend on settings only (introspection). */
  checks: readonly OperationCheck[];
  privacyOptions?: PrivacyOptions;
  /** The gateway's one audit log (null: off). */
  audit: AuditLog | null;
  log: Logger;
}

export async function serveSupergraph(base: Supergraph, deps: ServedSupergraphDeps): Promise<ServedSupergraph> {
  // The data product catalog joins the graph: its root fields are composed into the supergraph served.
  const catalog = await startCatalog({ supergraph: base, identityHeader: deps.catalogIdentity, options: deps.catalogOptions, log: deps.log });
  try {
    // Masking, the audit trail and subject access; their root fields join the graph too.
    const privacy = startPrivacy({
      supergraph: catalog.supergraph,
      catalog,
      policiesFile: deps.config.policiesFile,
      signingKey: deps.config.signingKey,
      settings: deps.settings,
      log: deps.log,
      options: deps.privacyOptions,
      audit: deps.audit,
    });
    const supergraph = privacy.supergraph;
    // Contracts: rebuilt with every supergraph; one that no longer holds fails the start or the reload.
    const contracts = buildContracts(supergraph, deps.settings.contracts, deps.settings.source ?? 'gateway settings', CATALOG_IN_EVERY_CONTRACT);
    // Built once per supergraph: the enforcement index, and the policies it names (all must exist).
    const authorizer = new Authorizer(supergraph.security, deps.config.authorizationMode, deps.policies, privacy.masking);
    const operations = new OperationCache(supergraph.schema);
    const guard = new RequestGuard(deps.settings.limits, () => operations, deps.log);
    // Demand control: @cost/@listSize read once per supergraph; refuses in didResolveOperation, before any subgraph.
    const demandControl = new DemandControl(supergraph, deps.settings.demand_control, deps.log);
    return { base, supergraph, catalog, privacy, authorizer, operations, guard, demandControl, checks: [...deps.checks, demandControl.check], contracts, loadedAt: new Date() };
  } catch (error) {
    catalog.close();
    throw error;
  }
}

/** A plugin whose hooks come from the request's own served supergraph (the catalog's, demand control's). */
export function perSupergraphPlugin<C extends BaseContext & { served?: ServedSupergraph }>(pick: (served: ServedSupergraph) => ApolloServerPlugin<any>): ApolloServerPlugin<C> {
  return {
    async requestDidStart(rc) {
      return rc.contextValue.served ? ((await pick(rc.contextValue.served).requestDidStart?.(rc)) ?? undefined) : undefined;
    },
  };
}

/** The same for a list of plugins (privacy's), as many plugins as the list has. */
export function perSupergraphPlugins<C extends BaseContext & { served?: ServedSupergraph }>(count: number, pick: (served: ServedSupergraph) => readonly ApolloServerPlugin<any>[]): ApolloServerPlugin<C>[] {
  return Array.from({ length: count }, (_, i) => perSupergraphPlugin<C>((served) => pick(served)[i] ?? {}));
}
