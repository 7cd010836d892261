import { Kind, parse, type DefinitionNode, type DocumentNode } from 'graphql';
import { classificationDirectiveName } from './classification.js';
import { PURPOSES_DEFINITION_SDL, purposesDirectiveName } from './purposes.js';

/**
 * The definitions of the mesh's governance spec (GOVERNANCE_SPEC_URL), owned here, once. A subgraph
 * schema only links the spec and uses the directive:
 *
 *   extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@composeDirective"])
 *     @link(url: "https://data-mesh.example.com/governance/v1.0", import: ["@classification"])
 *     @composeDirective(name: "@classification")
 *
 * and whatever reads a subgraph schema for the mesh (composition, the kit's subgraph server, hence
 * its `_service { sdl }`) completes it with withGovernanceDefinitions(). A schema that still
 * defines them itself keeps its own definitions.
 */
export const GOVERNANCE_DEFINITIONS_SDL = `
"How sensitive a field's data is, per the mesh's governance spec (docs/data-products.md); \`pii\` marks personal data."
directive @classification(level: ClassificationLevel!, pii: Boolean! = false) on FIELD_DEFINITION

"Sensitivity levels of the mesh's data classification, from least to most sensitive."
enum ClassificationLevel {
  PUBLIC
  INTERNAL
  CONFIDENTIAL
  RESTRICTED
}
`;

const DEFINITIONS = parse(GOVERNANCE_DEFINITIONS_SDL, { noLocation: true }).definitions;
/** `@purposes` (purposes.ts) is added only to a schema that imports it. */
const PURPOSES_DEFINITION = parse(PURPOSES_DEFINITION_SDL, { noLocation: true }).definitions[0]!;

/**
 * The document with the governance spec's definitions it lacks: only when it links the spec, and
 * under the name it imports the directive as. Placed right after the schema's `@link`s, where
 * hand-written schemas put them. Idempotent; returns the same document when nothing is missing.
 */
export function withGovernanceDefinitions(document: DocumentNode): DocumentNode {
  const directiveName = classificationDirectiveName(document);
  if (directiveName === null) return document;
  const definedDirectives = new Set<string>();
  const definedTypes = new Set<string>();
  for (const def of document.definitions) {
    if (def.kind === Kind.DIRECTIVE_DEFINITION) definedDirectives.add(def.name.value);
    else if ('name' in def && def.name && def.kind !== Kind.OPERATION_DEFINITION && def.kind !== Kind.FRAGMENT_DEFINITION) definedTypes.add(def.name.value);
  }
  const missing: DefinitionNode[] = [];
  for (const def of DEFINITIONS) {
    if (def.kind === Kind.DIRECTIVE_DEFINITION) {
      if (!definedDirectives.has(directiveName)) missing.push({ ...def, name: { ...def.name, value: directiveName } });
    } else if ('name' in def && def.name && !definedTypes.has(def.name.value)) {
      missing.push(def);
    }
  }
  const purposes = purposesDirectiveName(document, true);
  if (purposes !== null && !definedDirectives.has(purposes) && PURPOSES_DEFINITION.kind === Kind.DIRECTIVE_DEFINITION) {
    missing.push({ ...PURPOSES_DEFINITION, name: { ...PURPOSES_DEFINITION.name, value: purposes } });
  }
  if (missing.length === 0) return document;
  const definitions = [...document.definitions];
  let at = 0;
  for (let i = 0; i < definitions.length; i++) {
    const kind = definitions[i]!.kind;
    if (kind === Kind.SCHEMA_DEFINITION || kind === Kind.SCHEMA_EXTENSION) at = i + 1;
  }
  definitions.splice(at, 0, ...missing);
  return { ...document, definitions };
}
