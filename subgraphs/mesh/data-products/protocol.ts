import type { DataProduct } from './descriptor.js';
import type { QualityReport } from './quality-report.js';

/**
 * The `/data-products` protocol: every governed subgraph serves, beside `/graphql`, the document
 * below (signed identity required, like any gateway request); the gateway's catalog is built from it.
 */
export const DATA_PRODUCTS_PATH = '/data-products';

/** What a subgraph serves at `GET /data-products`. */
export interface DataProductsDocument {
  subgraph: string;
  /** The descriptor file, relative to the subgraph's working directory (null when it has none). */
  descriptorFile: string | null;
  dataProducts: DataProduct[];
  /** The latest quality run (null until the first one finished). */
  quality: QualityReport | null;
}

/** `http://host:4003/graphql` → `http://host:4003/data-products` (relative, so a path prefix is kept). */
export function endpointOf(routingUrl: string): string {
  try {
    return new URL(`.${DATA_PRODUCTS_PATH}`, routingUrl).toString();
  } catch {
    return routingUrl;
  }
}
