import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { purposesDirectiveName, readPurposes } from '../../subgraphs/mesh/data-products/purposes.js';
import { and, isUnrestricted, NO_REQUIREMENT, type Requirement } from './requirement.js';

/** The security specs Router understands; their directives may be renamed with `@link(as:)` or `import`. */
const SPECS = {
  authenticated: 'https://specs.apollo.dev/authenticated/',
  requiresScopes: 'https://specs.apollo.dev/requiresScopes/',
  policy: 'https://specs.apollo.dev/policy/',
} as const;

/**
 * Every authorization requirement of a supergraph, resolved once per supergraph so that checking
 * an operation is only lookups:
 * - a field's effective requirement = its own AND its return type's (object, interface, scalar, enum);
 * - a field selected on an interface also needs what each implementation needs for it (any may
 *   be returned); inline fragments on protected types are dropped where they are used.
 */
export class SecurityIndex {
  /** Requirement of each type, by name (only protected types are present). */
  readonly types = new Map<string, Requirement>();
  /** Effective requirement of each field, `Type.field` (only protected fields are present). */
  readonly fields = new Map<string, Requirement>();
  /** Policy names used anywhere: each must be defined, or the gateway refuses to start. */
  readonly policyNames = new Set<string>();

  /** Built from the supergraph's one parsed document and schema (see gateway/supergraph). */
  constructor(
    document: DocumentNode,
    readonly schema: GraphQLSchema,
  ) {
    const names = { ...directiveNames(document), purposes: purposesDirectiveName(document) };
    const own = (node: { directives?: readonly ConstDirectiveNode[] } | undefined | null) => this.read(node?.directives ?? [], names);

    // 1. Requirements as written on each type and field.
    const ownField = new Map<string, Requirement>();
    for (const type of Object.values(this.schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      const nodes = [type.astNode, ...(type.extensionASTNodes ?? [])];
      const typeRequirement = nodes.reduce((r, n) => and(r, own(n)), NO_REQUIREMENT);
      if (!isUnrestricted(typeRequirement)) this.types.set(type.name, typeRequirement);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          const r = own(field.astNode);
          if (!isUnrestricted(r)) ownField.set(`${type.name}.${field.name}`, r);
        }
      }
    }
    // 2. Effective field requirements: own AND return type AND, for a field selected on an
    //    interface, what each implementation needs for it (its field and the type itself), since
    //    any of them may be returned. Selecting through `... on PublicType` avoids that.
    for (const type of Object.values(this.schema.getTypeMap())) {
      if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type))) continue;
      for (const field of Object.values(type.getFields())) {
        let r = and(ownField.get(`${type.name}.${field.name}`) ?? NO_REQUIREMENT, this.typeRequirement(getNamedType(field.type)));
        if (isInterfaceType(type)) {
          for (const impl of this.schema.getPossibleTypes(type)) {
            r = and(r, ownField.get(`${impl.name}.${field.name}`) ?? NO_REQUIREMENT);
            r = and(r, this.types.get(impl.name) ?? NO_REQUIREMENT);
          }
        }
        if (!isUnrestricted(r)) this.fields.set(`${type.name}.${field.name}`, r);
      }
    }
  }

  typeRequirement(type: GraphQLNamedType): Requirement {
    return this.types.get(type.name) ?? NO_REQUIREMENT;
  }

  fieldRequirement(typeName: string, field: GraphQLField<unknown, unknown>): Requirement {
    return this.fields.get(`${typeName}.${field.name}`) ?? NO_REQUIREMENT;
  }

  private read(directives: readonly ConstDirectiveNode[], names: DirectiveNames & { purposes: string | null }): Requirement {
    let r = NO_REQUIREMENT;
    // Purpose limitation (@purposes): checked with authorization, refused with its own code.
    const purposes = readPurposes(directives, names.purposes);
    if (purposes) r = and(r, { authenticated: false, scopes: null, policies: null, purposes });
    for (const d of directives) {
      const name = d.name.value;
      if (name === names.authenticated) r = and(r, { authenticated: true, scopes: null, policies: null });
      else if (name === names.requiresScopes) r = and(r, { authenticated: false, scopes: listArg(d, 'scopes'), policies: null });
      else if (name === names.policy) {
        const policies = listArg(d, 'policies');
        for (const all of policies) for (const p of all) this.policyNames.add(p);
        r = and(r, { authenticated: false, scopes: null, policies });
      }
    }
    return r;
  }
}

interface DirectiveNames {
  authenticated: string | null;
  requiresScopes: string | null;
  policy: string | null;
}

/** Finds what the supergraph calls each security directive, from its `@link`s. */
function directiveNames(document: DocumentNode): DirectiveNames {
  const names: DirectiveNames = { authenticated: null, requiresScopes: null, policy: null };
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const args = Object.fromEntries((link.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
      const url = String(args.url ?? '');
      for (const [spec, prefix] of Object.entries(SPECS) as [keyof DirectiveNames, string][]) {
        if (!url.startsWith(prefix)) continue;
        // Default: the spec's own directive is imported under its name (or `as`), unless `import` renames it.
        let name = typeof args.as === 'string' ? args.as : spec;
        for (const imported of (args.import as unknown[]) ?? []) {
          if (typeof imported === 'object' && imported && (imported as { name?: string }).name === `@${spec}`) {
            name = String((imported as { as?: string }).as ?? `@${spec}`).replace(/^@/, '');
          }
        }
        names[spec] = name;
      }
    }
  }
  return names;
}

function listArg(d: ConstDirectiveNode, name: string): string[][] {
  const arg = d.arguments?.find((a) => a.name.value === name);
  const value = arg ? valueFromASTUntyped(arg.value) : [];
  return (Array.isArray(value) ? value : [value]).map((inner) => (Array.isArray(inner) ? inner.map(String) : [String(inner)]));
}
