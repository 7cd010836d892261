import type { ApolloServerPlugin } from '@apollo/server';
import type { AuthorizationContext } from '../authorization/authorizing-gateway.js';
import { allSelections, type OperationShape } from '../operation/operation-shape.js';
import type { CatalogSnapshot } from './catalog-model.js';

export interface DataProductsExtension {
  dataProducts: { id: string; version: string }[];
  warnings?: DataProductWarning[];
}

export interface DataProductWarning {
  code: 'DEPRECATED_DATA_PRODUCT' | 'DEPRECATED_FIELD';
  message: string;
  dataProduct?: string;
  coordinate?: string;
  sunset: string | null;
}

const ALL_COORDINATES = Symbol('coordinates selected');

/**
 * Every response with data from a product names, in `extensions.dataProducts`, the data products (id and version) whose
 * fields it contains, and warns in `extensions.warnings` when a deprecated product or field was
 * used, with its sunset date: consumers see their own lineage.
 *
 * The fields come from the operation as executed: the prepared operation's shape, or what
 * authorization left of it (it hands them over on the context; a removed field contributed
 * nothing). The extension is computed once per (catalog version, set of fields).
 */
export function dataProductsPlugin(current: () => CatalogSnapshot | null): ApolloServerPlugin<AuthorizationContext> {
  const extensions = new WeakMap<ReadonlySet<string>, { version: number; extension: DataProductsExtension }>();

  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single' || !contextValue.operation) return;
          const result = response.body.singleResult;
          const snapshot = current();
          if (!snapshot || !result.data) return;
          const used = contextValue.lineage ?? contextValue.operation.derive(ALL_COORDINATES, selectedCoordinates);
          let cached = extensions.get(used);
          if (!cached || cached.version !== snapshot.version) {
            cached = { version: snapshot.version, extension: contributions(snapshot, used) };
            extensions.set(used, cached);
          }
          const { extension } = cached;
          // Nothing to say (introspection, catalog queries, nothing authorized): no extension.
          if (extension.dataProducts.length || extension.warnings) result.extensions = { ...result.extensions, ...extension };
        },
      };
    },
  };
}

/** Every schema field an operation selects, fragments included (each selection set once). */
function selectedCoordinates(shape: OperationShape): ReadonlySet<string> {
  const coordinates = new Set<string>();
  for (const [, selection] of allSelections(shape)) if (selection.kind === 'field' && selection.coordinate) coordinates.add(selection.coordinate);
  return coordinates;
}

function contributions(snapshot: CatalogSnapshot, used: ReadonlySet<string>): DataProductsExtension {
  const products = new Map<string, { id: string; version: string }>();
  const warnings: DataProductWarning[] = [];
  const warnedProducts = new Set<string>();
  const warnedFields = new Set<string>();
  for (const coordinate of used) {
    const usage = snapshot.usage.get(coordinate);
    if (!usage) continue;
    for (const p of usage.products) {
      products.set(p.id, { id: p.id, version: p.version });
      if (p.status === 'DEPRECATED' && !warnedProducts.has(p.id)) {
        warnedProducts.add(p.id);
        warnings.push({
          code: 'DEPRECATED_DATA_PRODUCT',
          message: `Data product ${p.id} ${p.version} is deprecated${p.sunset ? ` and will be removed on ${p.sunset}` : ''}.`,
          dataProduct: p.id,
          sunset: p.sunset,
        });
      }
    }
    if (usage.deprecationReason !== null && !warnedFields.has(coordinate)) {
      warnedFields.add(coordinate);
      warnings.push({
        code: 'DEPRECATED_FIELD',
        message: `${coordinate} is deprecated (${usage.deprecationReason})${usage.sunset ? ` and will be removed on ${usage.sunset}` : ''}.`,
        coordinate,
        ...(usage.products[0] ? { dataProduct: usage.products[0].id } : {}),
        sunset: usage.sunset,
      });
    }
  }
  const dataProducts = [...products.values()].sort((a, b) => a.id.localeCompare(b.id));
  return warnings.length ? { dataProducts, warnings } : { dataProducts };
}
