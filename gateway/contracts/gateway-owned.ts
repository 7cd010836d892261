import { Kind, parse } from 'graphql';
import { CATALOG_TYPE_DEFS } from '../catalog/catalog-schema.js';
import type { AlwaysIncluded } from './contract-filter.js';

/**
 * The catalog's root fields and types are in every contract: they describe the graph, carry no
 * data product's data, and a contract's catalog view shows only the contract's fields.
 */
export const CATALOG_IN_EVERY_CONTRACT: AlwaysIncluded = (() => {
  const types = new Set<string>();
  const fields = new Set<string>();
  for (const def of parse(CATALOG_TYPE_DEFS).definitions) {
    if (!('name' in def) || !def.name || def.kind === Kind.DIRECTIVE_DEFINITION) continue;
    if (def.name.value === 'Query' && def.kind === Kind.OBJECT_TYPE_DEFINITION) for (const f of def.fields ?? []) fields.add(`Query.${f.name.value}`);
    else types.add(def.name.value);
  }
  return { types, fields };
})();
