import { Kind, valueFromASTUntyped, type ConstDirectiveNode, type DocumentNode, type TypeNode } from 'graphql';
import { outputFields } from './accessors.js';
import { GOVERNANCE_SPEC_URL } from './classification.js';
import type { DataProduct } from './descriptor.js';
import type { Contradiction } from './schema-check.js';

/**
 * Purpose limitation, the governance spec's second directive. A product lists the purposes it may
 * be used for in its descriptor (`purposes: [operations, marketing]`); its schema carries them into
 * the supergraph with `@purposes`, composed like `@classification`:
 *
 *   @link(url: "https://data-mesh.example.com/governance/v1.0", import: ["@classification", "@purposes"])
 *   @composeDirective(name: "@purposes")
 *   type Invoice @purposes(allowed: ["operations", "finance"]) { … }      # the product's own types
 *   type Customer @key(fields: "id") { outstandingBalance: Float @purposes(allowed: […]) }  # its fields elsewhere
 *
 * The gateway reads them as it reads `@requiresScopes`: a field needs its own purposes and its
 * return type's, and one outside the request's purpose is refused (PURPOSE_NOT_ALLOWED).
 */
export const PURPOSES_DEFINITION_SDL = `
"The purposes a data product may be used for (its descriptor's \`purposes\`): a request declaring another purpose (X-Data-Purpose) is refused the type or field."
directive @purposes(allowed: [String!]!) on OBJECT | FIELD_DEFINITION
`;

/** A purpose: lowercase words joined by `-` (operations, marketing, customer-service). */
export const PURPOSE = /^[a-z][a-z0-9-]*$/;

const SPEC_PREFIX = GOVERNANCE_SPEC_URL.replace(/v\d+\.\d+$/, '');

/**
 * What the document calls `@purposes`: its imported name, or the spec's namespaced name when the
 * spec is linked without importing it (`explicit`: only an import counts); null when not linked.
 */
export function purposesDirectiveName(document: DocumentNode, explicit = false): string | null {
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const args = argumentsOf(link);
      if (typeof args.url !== 'string' || !args.url.startsWith(SPEC_PREFIX)) continue;
      for (const imported of (args.import as unknown[]) ?? []) {
        if (imported === '@purposes') return 'purposes';
        if (typeof imported === 'object' && imported && (imported as { name?: string }).name === '@purposes') {
          return String((imported as { as?: string }).as ?? '@purposes').replace(/^@/, '');
        }
      }
      return explicit ? null : `${typeof args.as === 'string' ? args.as : 'governance'}__purposes`;
    }
  }
  return null;
}

/** The purposes a directive list allows (sorted), or null when none of them is `@purposes`. */
export function readPurposes(directives: readonly ConstDirectiveNode[] | undefined, name: string | null): string[] | null {
  if (name === null) return null;
  const d = directives?.find((x) => x.name.value === name);
  if (!d) return null;
  const allowed = argumentsOf(d).allowed;
  return [...new Set((Array.isArray(allowed) ? allowed : [allowed]).map(String))].sort();
}

const same = (a: readonly string[] | null, b: readonly string[]) => a !== null && a.length === b.length && a.every((p, i) => p === b[i]);

/**
 * Descriptor and schema agree on purposes: every output field of a product that lists purposes is
 * guarded by exactly them (its own `@purposes`, its type's, or its return type's), a product that
 * lists none has no `@purposes` on its fields, and a type's `@purposes` is that of a product
 * outputting it.
 */
export function checkPurposes(products: DataProduct[], schema: DocumentNode): Contradiction[] {
  const name = purposesDirectiveName(schema);
  const typePurposes = new Map<string, string[]>();
  const fieldPurposes = new Map<string, { own: string[] | null; returns: string }>();
  for (const def of schema.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const own = readPurposes(def.directives, name);
    if (own) typePurposes.set(def.name.value, own);
    for (const f of def.fields ?? []) fieldPurposes.set(`${def.name.value}.${f.name.value}`, { own: readPurposes(f.directives, name), returns: namedType(f.type) });
  }
  const out: Contradiction[] = [];
  const typesOf = new Map<string, string[][]>();
  for (const product of products) {
    if (product.status === 'retired') continue;
    const wanted = [...product.purposes].sort();
    const at = (path: string) => `${product.source.file}: ${product.id}.${path}`;
    const shown = `[${wanted.join(', ')}]`;
    for (const { coordinate, object, property } of outputFields(product)) {
      (typesOf.get(object.name) ?? typesOf.set(object.name, []).get(object.name)!).push(wanted);
      const field = fieldPurposes.get(coordinate);
      if (!field) continue; // a missing field is reported by the schema check
      if (wanted.length === 0) {
        if (field.own) {
          out.push({ product: product.id, coordinate, location: at(property.path), problem: `the schema's @purposes allows [${field.own.join(', ')}] but the product declares no purposes`, fix: `add purposes: [${field.own.join(', ')}] to the product, or remove @purposes from ${coordinate}` });
        }
        continue;
      }
      const guarded = same(field.own, wanted) || same(typePurposes.get(object.name) ?? null, wanted) || same(typePurposes.get(field.returns) ?? null, wanted);
      if (!guarded) {
        out.push({
          product: product.id,
          coordinate,
          location: at(property.path),
          problem: field.own ? `the schema's @purposes allows [${field.own.join(', ')}], the descriptor's purposes are ${shown}` : `the product declares purposes ${shown} but nothing in the schema carries them to ${coordinate}`,
          fix: `put @purposes(allowed: ${JSON.stringify(wanted)}) on ${object.name} (a type of this product) or on ${coordinate}`,
        });
      }
    }
  }
  for (const [type, allowed] of typePurposes) {
    if ((typesOf.get(type) ?? []).some((p) => same(allowed, p))) continue;
    out.push({ product: '(none)', coordinate: type, location: `schema: type ${type}`, problem: `@purposes allows [${allowed.join(', ')}] but no product outputting ${type} declares those purposes`, fix: `make the @purposes of ${type} equal its product's purposes` });
  }
  return out;
}

function namedType(type: TypeNode): string {
  let t = type;
  while (t.kind !== Kind.NAMED_TYPE) t = t.type;
  return t.name.value;
}

function argumentsOf(directive: ConstDirectiveNode): Record<string, unknown> {
  return Object.fromEntries((directive.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
}

