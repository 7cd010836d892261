import { LocalGraphQLDataSource } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { Supergraph } from '../supergraph/supergraph.js';
import { ANONYMOUS_IDENTITY, IdentitySigner } from '../../subgraphs/mesh/identity.js';
import type { Logger } from '../../subgraphs/mesh/logger.js';
import { CATALOG_SUBGRAPH_NAME, CATALOG_TYPE_DEFS } from './catalog-schema.js';
import { CatalogSnapshot, type CatalogProduct, type LineageLink } from './catalog-model.js';
import { CatalogSource, type CatalogSourceOptions } from './catalog-source.js';
import { graftSubgraph } from './merge-supergraph.js';
import { dataProductsPlugin } from './response-extensions.js';
import { contractView, type ContractFields } from './contract-view.js';

/** The request's contract, when it came in on a contract's path (the catalog then shows only its fields). */
type CatalogContext = { contract?: ContractFields } | undefined;

export type CatalogOptions = CatalogSourceOptions;

export interface Catalog {
  /** The supergraph with the catalog's root fields added: what the gateway serves. */
  readonly supergraph: Supergraph;
  /** The in-process data source for the catalog subgraph (undefined for any other name). */
  dataSource(name: string): LocalGraphQLDataSource | undefined;
  /** Adds `extensions.dataProducts` (and deprecation warnings) to every response. */
  readonly plugin: ApolloServerPlugin<any>;
  /** The catalog as it is now (rebuilt when a subgraph's descriptors or quality results change). */
  snapshot(): CatalogSnapshot;
  /**
   * Resolves once every subgraph's `/data-products` answered (or failed): the gateway serves only
   * after it, but builds everything else meanwhile (the fetches overlap its start-up work).
   */
  readonly ready: Promise<void>;
  close(): void;
}

/**
 * The data product catalog, in the graph: composes the in-process catalog subgraph into the
 * supergraph, reads product metadata and quality results from each subgraph (`GET
 * /data-products`), and joins them with what the supergraph says (types, descriptions,
 * classification, authorization requirements, entity keys).
 */
export async function startCatalog(args: {
  supergraph: Supergraph;
  /** A signed identity header for the gateway's own calls to subgraphs. */
  identityHeader: () => Promise<string>;
  options?: CatalogOptions;
  log: Logger;
}): Promise<Catalog> {
  const started = performance.now();
  const typeDefs = parse(CATALOG_TYPE_DEFS);
  // Parsed once: the served supergraph's facts, schema and security index are the ones every layer uses.
  const supergraph = Supergraph.fromDocument(graftSubgraph(args.supergraph.document, { name: CATALOG_SUBGRAPH_NAME, url: `in-process://${CATALOG_SUBGRAPH_NAME}`, typeDefs }));
  const facts = supergraph.facts;
  const subgraphs = args.supergraph.subgraphs;

  let version = 0;
  let snapshot: CatalogSnapshot;
  const rebuild = () => {
    snapshot = new CatalogSnapshot(facts, source.docs, source.sources, ++version);
  };
  const source = new CatalogSource(subgraphs, facts.governedSubgraphs, args.identityHeader, args.options ?? {}, () => rebuild());
  snapshot = new CatalogSnapshot(facts, [], source.sources, ++version);
  let closed = false;
  const ready = source.refresh().then(() => {
    rebuild();
    if (!closed) source.start();
    const unreachable = source.sources.filter((s) => s.reachable === false);
    args.log[unreachable.length ? 'warn' : 'info']('data product catalog ready', {
      products: snapshot.products.size,
      unreachable: unreachable.map((s) => `${s.subgraph}: ${s.error}`),
      ms: Math.round(performance.now() - started),
    });
  });

  const current = () => snapshot;
  const fresh = async () => {
    await source.fresh();
    return snapshot;
  };
  const schema = buildSubgraphSchema([
    {
      typeDefs,
      resolvers: {
        Query: {
          dataProducts: async (_: unknown, filter: { domain?: string; status?: string; search?: string }, context: CatalogContext) => {
            const s = await fresh();
            return s.list(filter, (p) => contractView(p, context?.contract, s.products));
          },
          dataProduct: async (_: unknown, { id }: { id: string }, context: CatalogContext) => {
            const s = await fresh();
            const product = s.products.get(id);
            return product ? contractView(product, context?.contract, s.products) : null;
          },
          dataProductSources: async () => {
            await fresh();
            return source.sources;
          },
        },
        DataProduct: {
          fields: (p: CatalogProduct, { classification, pii }: { classification?: string; pii?: boolean }) =>
            p.fields.filter((f) => (classification == null || f.classification === classification) && (pii == null || f.pii === pii)),
        },
        LineageLink: {
          product: (link: LineageLink, _: unknown, context: CatalogContext) => contractView(snapshot.products.get(link.productId)!, context?.contract, snapshot.products),
        },
        DataProductInputPort: {
          product: (port: { contractId: string | null }, _: unknown, context: CatalogContext) => {
            const product = port.contractId ? snapshot.products.get(port.contractId) : undefined;
            return product ? contractView(product, context?.contract, snapshot.products) : null;
          },
        },
      } as any,
    },
  ]);
  const dataSource = new LocalGraphQLDataSource(schema);

  return {
    supergraph,
    dataSource: (name) => (name === CATALOG_SUBGRAPH_NAME ? dataSource : undefined),
    plugin: dataProductsPlugin(current),
    snapshot: current,
    ready,
    close: () => {
      closed = true;
      source.stop();
    },
  };
}

/** The identity the gateway signs for its own catalog calls: anonymous (the catalog needs no rights). */
export function catalogIdentity(signingKey: string): () => Promise<string> {
  const signer = new IdentitySigner(signingKey);
  return () => signer.header(ANONYMOUS_IDENTITY);
}
