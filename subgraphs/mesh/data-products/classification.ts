import { Kind, valueFromASTUntyped, type ConstDirectiveNode, type DocumentNode, type FieldDefinitionNode } from 'graphql';
import { CLASSIFICATIONS, type Classification } from './descriptor.js';

/**
 * The mesh's governance spec, linked by every subgraph and composed into the supergraph:
 *
 *   extend schema
 *     @link(url: "https://data-mesh.example.com/governance/v1.0", import: ["@classification"])
 *     @composeDirective(name: "@classification")
 *   directive @classification(level: ClassificationLevel!, pii: Boolean! = false) on FIELD_DEFINITION
 *   enum ClassificationLevel { PUBLIC INTERNAL CONFIDENTIAL RESTRICTED }
 */
export const GOVERNANCE_SPEC_URL = 'https://data-mesh.example.com/governance/v1.0';
const SPEC_PREFIX = GOVERNANCE_SPEC_URL.replace(/v\d+\.\d+$/, '');

export interface FieldClassification {
  level: Classification;
  pii: boolean;
}

/** One field definition as a schema (subgraph or supergraph) declares it. */
export interface DeclaredField {
  type: string;
  field: string;
  node: FieldDefinitionNode;
  classification: FieldClassification | null;
  /** Set when the field carries @deprecated. */
  deprecationReason: string | null;
  /** `@external` in a subgraph: declared here, resolved by another subgraph. */
  external: boolean;
}

/** What the schema calls the classification directive (null when it does not link the spec). */
export function classificationDirectiveName(document: DocumentNode): string | null {
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const args = argumentsOf(link);
      if (typeof args.url !== 'string' || !args.url.startsWith(SPEC_PREFIX)) continue;
      const namespace = typeof args.as === 'string' ? args.as : 'governance';
      for (const imported of (args.import as unknown[]) ?? []) {
        if (imported === '@classification') return 'classification';
        if (typeof imported === 'object' && imported && (imported as { name?: string }).name === '@classification') {
          return String((imported as { as?: string }).as ?? '@classification').replace(/^@/, '');
        }
      }
      return `${namespace}__classification`;
    }
  }
  return null;
}

/** Every field definition of the document's object and interface types (definitions and extensions). */
export function declaredFields(document: DocumentNode): Map<string, DeclaredField> {
  const classification = classificationDirectiveName(document);
  const external = externalDirectiveName(document);
  const fields = new Map<string, DeclaredField>();
  for (const def of document.definitions) {
    if (
      def.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      def.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      def.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      def.kind !== Kind.INTERFACE_TYPE_EXTENSION
    ) {
      continue;
    }
    for (const node of def.fields ?? []) {
      const directives = node.directives ?? [];
      const c = classification ? directives.find((d) => d.name.value === classification) : undefined;
      const deprecated = directives.find((d) => d.name.value === 'deprecated');
      fields.set(`${def.name.value}.${node.name.value}`, {
        type: def.name.value,
        field: node.name.value,
        node,
        classification: c ? readClassification(c) : null,
        deprecationReason: deprecated ? String(argumentsOf(deprecated).reason ?? 'No longer supported') : null,
        external: directives.some((d) => d.name.value === external),
      });
    }
  }
  return fields;
}

function readClassification(directive: ConstDirectiveNode): FieldClassification | null {
  const args = argumentsOf(directive);
  const level = String(args.level ?? '').toLowerCase();
  if (!(CLASSIFICATIONS as readonly string[]).includes(level)) return null;
  return { level: level as Classification, pii: args.pii === true };
}

function externalDirectiveName(document: DocumentNode): string {
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      const args = argumentsOf(link);
      if (link.name.value !== 'link' || typeof args.url !== 'string' || !args.url.includes('specs.apollo.dev/federation/')) continue;
      for (const imported of (args.import as unknown[]) ?? []) {
        if (imported === '@external') return 'external';
        if (typeof imported === 'object' && imported && (imported as { name?: string }).name === '@external') {
          return String((imported as { as?: string }).as ?? '@external').replace(/^@/, '');
        }
      }
      return `${typeof args.as === 'string' ? args.as : 'federation'}__external`;
    }
  }
  return 'external';
}

function argumentsOf(directive: ConstDirectiveNode): Record<string, unknown> {
  return Object.fromEntries((directive.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
}

export const describeClassification = (c: FieldClassification | null): string => (c ? `${c.level}${c.pii ? ' (PII)' : ''}` : 'unclassified');
