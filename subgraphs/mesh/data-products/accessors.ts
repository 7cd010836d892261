import type { DataProduct, OutputObject, OutputProperty, QualityRule, SlaProperty } from './descriptor.js';

// The questions every consumer of a descriptor (gateway, kit, quality runner) asks about a product.

/** Every output field of a product, as `Type.field` coordinates with their declaration. */
export function outputFields(product: DataProduct): { coordinate: string; object: OutputObject; property: OutputProperty }[] {
  return product.outputPorts.flatMap((port) =>
    port.schema.flatMap((object) => object.properties.map((property) => ({ coordinate: `${object.name}.${property.name}`, object, property }))),
  );
}

/** Every quality rule of a product. */
export function qualityRules(product: DataProduct): QualityRule[] {
  return product.outputPorts.flatMap((port) => port.schema.flatMap((o) => [...o.quality, ...o.properties.flatMap((p) => p.quality)]));
}

/** The product's sunset date: its `endOfLife` SLA property. */
export const sunsetOf = (product: DataProduct): string | null =>
  (product.slaProperties.find((s) => s.property === 'endOfLife')?.value as string | undefined) ?? null;

export const slaOf = (product: DataProduct, property: SlaProperty['property']): SlaProperty | undefined =>
  product.slaProperties.find((s) => s.property === property);
