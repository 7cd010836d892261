import { Kind, type DocumentNode, type FieldDefinitionNode, type TypeNode } from 'graphql';
import { declaredFields, describeClassification } from './classification.js';
import { outputFields } from './accessors.js';
import type { DataProduct } from './descriptor.js';
import { checkPurposes } from './purposes.js';
import { MASK_KINDS, maskFitsType, TEXT_MASKS, type MaskSpec } from './masks.js';

/** A place where a descriptor and its subgraph's schema disagree. */
export interface Contradiction {
  product: string;
  /** `Type.field`, or the type alone. */
  coordinate: string;
  /** Where in the descriptor (file:line key path). */
  location: string;
  problem: string;
  fix: string;
}

/**
 * Descriptor and schema must tell the same story: every output a product declares exists in the
 * subgraph (and is resolved there, not `@external`), with the classification, PII flag and
 * deprecation the schema's directives carry. Retired products are skipped: they must not be served
 * at all, which the mesh's governance rules check on the supergraph.
 */
export function checkDescriptorsAgainstSchema(subgraph: string, products: DataProduct[], schema: DocumentNode): Contradiction[] {
  const fields = declaredFields(schema);
  const types = new Set([...fields.values()].map((f) => f.type));
  const keys = keyFields(schema);
  const out: Contradiction[] = [];
  const claimed = new Map<string, { product: string; label: string }>();

  for (const product of products) {
    const at = (path: string) => `${product.source.file}: ${product.id}.${path}`;
    if (product.domain !== subgraph) {
      out.push({
        product: product.id,
        coordinate: '(product)',
        location: at('domain'),
        problem: `declares domain "${product.domain}" but is served by subgraph "${subgraph}"`,
        fix: `set domain: ${subgraph}, or move the product to the ${product.domain} subgraph's descriptor`,
      });
    }
    if (product.status === 'retired') continue;
    for (const { coordinate, object, property } of outputFields(product)) {
      const location = at(property.path);
      if (!types.has(object.name)) {
        out.push({
          product: product.id,
          coordinate: object.name,
          location: at(object.path),
          problem: `type ${object.name} is not defined in subgraph ${subgraph}`,
          fix: `define ${object.name} in subgraphs/${subgraph}/schema.graphql, or remove it from the descriptor`,
        });
        break;
      }
      const declared = fields.get(coordinate);
      if (!declared) {
        out.push({ product: product.id, coordinate, location, problem: `subgraph ${subgraph} does not define ${coordinate}`, fix: `add the field to the schema or remove it from the descriptor` });
        continue;
      }
      if (declared.external) {
        out.push({ product: product.id, coordinate, location, problem: `${coordinate} is @external in ${subgraph}: another subgraph resolves it`, fix: 'list it in the product of the subgraph that resolves it' });
        continue;
      }
      const wanted = property.classification ? { level: property.classification, pii: property.pii } : null;
      const actual = declared.classification;
      if (wanted && !actual) {
        out.push({
          product: product.id,
          coordinate,
          location,
          problem: `the descriptor classifies it ${describeClassification(wanted)} but the schema has no @classification`,
          fix: `add @classification(level: ${wanted.level.toUpperCase()}${wanted.pii ? ', pii: true' : ''}) to ${coordinate}`,
        });
      } else if (!wanted && actual) {
        out.push({
          product: product.id,
          coordinate,
          location,
          problem: `the schema classifies it ${describeClassification(actual)} but the descriptor does not`,
          fix: `add classification: ${actual.level}${actual.pii ? ' and pii: true' : ''} to the property`,
        });
      } else if (wanted && actual && (wanted.level !== actual.level || wanted.pii !== actual.pii)) {
        out.push({
          product: product.id,
          coordinate,
          location,
          problem: `the descriptor says ${describeClassification(wanted)}, the schema's @classification says ${describeClassification(actual)}`,
          fix: 'make them agree: change the descriptor or the directive',
        });
      }
      if (property.sunset && declared.deprecationReason === null) {
        out.push({
          product: product.id,
          coordinate,
          location,
          problem: `the descriptor gives a sunset date (${property.sunset}) but the schema does not deprecate the field`,
          fix: `add @deprecated(reason: "…") to ${coordinate}, or remove sunset`,
        });
      }
      if (property.mask) {
        const problem = maskProblem(property.mask, declared.node, keys.get(object.name), property.primaryKey);
        if (problem) out.push({ product: product.id, coordinate, location, ...problem });
      }
      const label = describeClassification(wanted ?? actual);
      const other = claimed.get(coordinate);
      if (other && other.label !== label) {
        out.push({
          product: product.id,
          coordinate,
          location,
          problem: `product ${other.product} classifies it ${other.label}, this product ${label}`,
          fix: 'a field has one classification: make the descriptors agree',
        });
      }
      claimed.set(coordinate, { product: product.id, label });
    }
  }
  out.push(...checkPurposes(products, schema));
  return out;
}

/** A mask must fit the field's type (masks.ts), and never hide a key: entities are joined by it. */
function maskProblem(mask: MaskSpec, node: FieldDefinitionNode, keys: Set<string> | undefined, primaryKey: boolean): { problem: string; fix: string } | null {
  let type: TypeNode = node.type;
  while (type.kind !== Kind.NAMED_TYPE) type = type.type;
  if (primaryKey || keys?.has(node.name.value)) {
    return { problem: `mask ${mask.kind} on a key field: other subgraphs join the entity by it`, fix: 'remove the mask (mask the fields that are sensitive, not the key)' };
  }
  if (!maskFitsType(mask, type.name.value)) {
    const fits = (TEXT_MASKS as readonly string[]).includes(mask.kind) ? 'String or ID' : 'Float or Int';
    return { problem: `mask ${mask.kind} fits ${fits} fields, but the field's type is ${type.name.value}`, fix: `use a mask for ${type.name.value} (${MASK_KINDS.join(', ')}) or none` };
  }
  return null;
}

/** The fields named by each type's `@key(fields: …)` in a subgraph schema. */
function keyFields(schema: DocumentNode): Map<string, Set<string>> {
  const keys = new Map<string, Set<string>>();
  for (const def of schema.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'key' && !d.name.value.endsWith('__key')) continue;
      const fields = d.arguments?.find((a) => a.name.value === 'fields')?.value;
      if (fields?.kind !== Kind.STRING) continue;
      const set = keys.get(def.name.value) ?? keys.set(def.name.value, new Set()).get(def.name.value)!;
      for (const name of fields.value.match(/[_A-Za-z][_0-9A-Za-z]*/g) ?? []) set.add(name);
    }
  }
  return keys;
}

export const formatContradiction = (c: Contradiction): string => `${c.location}: ${c.coordinate}: ${c.problem} (fix: ${c.fix})`;
