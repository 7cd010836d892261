import type { ApolloServerPlugin } from '@apollo/server';
import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { CatalogSnapshot } from './catalog-model.js';

/** One field an operation selects, and where its value lands in the response. */
interface UsedField {
  coordinate: string;
  /** Response keys from the root, joined by '.' (no list indices). */
  path: string;
}

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

/**
 * Every response with data from a product names, in `extensions.dataProducts`, the data products (id and version) whose
 * fields it contains, and warns in `extensions.warnings` when a deprecated product or field was
 * used, with its sunset date: consumers see their own lineage.
 *
 * The fields an operation selects are computed once per operation, and the extension once per
 * (catalog version, operation, fields authorization removed): a removed field (an
 * UNAUTHORIZED_FIELD_OR_TYPE error at its path) contributed nothing and is left out.
 */
export function dataProductsPlugin(current: () => CatalogSnapshot | null): ApolloServerPlugin<any> {
  const fieldsByOperation = new Map<string, UsedField[]>();
  const extensions = new Map<string, DataProductsExtension>();

  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, document, operationName, queryHash }) {
          if (response.body.kind !== 'single' || !document) return;
          const result = response.body.singleResult;
          const snapshot = current();
          let extension: DataProductsExtension | null = null;
          if (snapshot && result.data) {
            const operationKey = `${queryHash}\u0000${operationName ?? ''}`;
            let used = fieldsByOperation.get(operationKey);
            if (!used) {
              used = usedFields(snapshot.facts.schema, document, operationName);
              if (fieldsByOperation.size > 5_000) fieldsByOperation.clear();
              fieldsByOperation.set(operationKey, used);
            }
            const denied = unauthorizedPaths(result.errors);
            const key = `${snapshot.version}\u0000${operationKey}\u0000${denied.join('\n')}`;
            extension = extensions.get(key) ?? null;
            if (!extension) {
              const contributing = denied.length ? used.filter((f) => !denied.some((d) => f.path === d || f.path.startsWith(`${d}.`))) : used;
              extension = contributions(snapshot, contributing);
              if (extensions.size > 5_000) extensions.clear();
              extensions.set(key, extension);
            }
          }
          // Nothing to say (introspection, catalog queries, nothing authorized): no extension.
          if (extension && (extension.dataProducts.length || extension.warnings)) result.extensions = { ...result.extensions, ...extension };
        },
      };
    },
  };
}

function contributions(snapshot: CatalogSnapshot, used: UsedField[]): DataProductsExtension {
  const products = new Map<string, { id: string; version: string }>();
  const warnings: DataProductWarning[] = [];
  const warnedProducts = new Set<string>();
  const warnedFields = new Set<string>();
  for (const { coordinate } of used) {
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

/** Paths (response keys, no indices) of the fields authorization removed. */
function unauthorizedPaths(errors: readonly { path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[] | undefined): string[] {
  if (!errors?.length) return [];
  return errors
    .filter((e) => e.extensions?.code === 'UNAUTHORIZED_FIELD_OR_TYPE' && e.path)
    .map((e) => e.path!.filter((p) => typeof p === 'string' && p !== '@').join('.'));
}

/** The fields an operation selects (fragments followed), with their response paths. */
export function usedFields(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): UsedField[] {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return [];
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const found = new Map<string, UsedField>();
  const visit = (selectionSet: SelectionSetNode, parent: GraphQLNamedType | null | undefined, path: string, depth: number) => {
    if (!parent || depth > 64) return;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) continue;
        const field = parent.getFields()[name];
        if (!field) continue;
        const at = path ? `${path}.${selection.alias?.value ?? name}` : (selection.alias?.value ?? name);
        const coordinate = `${parent.name}.${name}`;
        found.set(`${coordinate}\u0000${at}`, { coordinate, path: at });
        if (selection.selectionSet) visit(selection.selectionSet, getNamedType(field.type), at, depth + 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent, path, depth + 1);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment) visit(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value), path, depth + 1);
      }
    }
  };
  visit(operation.selectionSet, root, '', 0);
  return [...found.values()];
}
