import type { CatalogProduct, LineageLink } from './catalog-model.js';

/** What the catalog needs of a contract: which fields it exposes. */
export interface ContractFields {
  fields: ReadonlySet<string>;
}

/**
 * A product as a contract's consumers see it: only the fields the contract exposes (its root
 * fields and output types follow), lineage only through those fields and to products they can see;
 * null when the contract exposes none of its fields. Without a contract: the product as it is.
 */
export function contractView(product: CatalogProduct, contract: ContractFields | undefined, all: ReadonlyMap<string, CatalogProduct>): CatalogProduct | null {
  if (!contract) return product;
  const has = (coordinate: string) => contract.fields.has(coordinate);
  const visible = (p: CatalogProduct | undefined) => !!p && p.fields.some((f) => has(f.coordinate));
  const fields = product.fields.filter((f) => has(f.coordinate));
  if (fields.length === 0) return null;
  const links = (list: LineageLink[]) =>
    list.filter((l) => visible(all.get(l.productId))).map((l) => ({ ...l, via: l.via.filter(has) })).filter((l) => l.via.length > 0 || l.kind === 'INPUT_PORT');
  return {
    ...product,
    fields,
    rootFields: product.rootFields.filter(has),
    outputTypes: [...new Set(fields.filter((f) => !f.rootField).map((f) => f.typeName))],
    lineage: { references: links(product.lineage.references), referencedBy: links(product.lineage.referencedBy) },
    inputPorts: product.inputPorts.map((port) => (port.contractId && !visible(all.get(port.contractId)) ? { ...port, contractId: null } : port)),
  };
}
