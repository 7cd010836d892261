import { getNamedType, isEnumType, isInterfaceType, isObjectType, isUnionType, type GraphQLNamedType } from 'graphql';
import { isEmpty } from '../authorization/requirement.js';
import type { SupergraphFacts } from '../supergraph/supergraph-facts.js';
import type { Supergraph } from '../supergraph/supergraph.js';
import { outputFields, slaOf, sunsetOf } from '../../subgraphs/mesh/data-products/accessors.js';
import type { DataProduct } from '../../subgraphs/mesh/data-products/descriptor.js';
import { checkDescriptorsAgainstSchema } from '../../subgraphs/mesh/data-products/schema-check.js';
import type { DocumentNode } from 'graphql';

/**
 * The mesh's global rules, as code, in one place (computational governance). `npm run compose`
 * runs them on every composition; gateway/governance/rules.yaml sets each one to fail (the
 * composition fails), warn (reported) or off.
 */

export type RuleSeverity = 'fail' | 'warn' | 'off';

export interface GovernedSubgraph {
  name: string;
  typeDefs: DocumentNode;
  /** The descriptor file (null when the subgraph has none). */
  descriptorFile: string | null;
  products: DataProduct[];
}

export interface GovernanceInput {
  /** The composed supergraph, parsed once (gateway/supergraph). */
  supergraph: Supergraph;
  subgraphs: GovernedSubgraph[];
  /** "Today", for sunset dates (YYYY-MM-DD); default the current date. */
  today?: string;
}

/** One finding: where (coordinate, subgraph, product), what is wrong, how to fix it. */
export interface Finding {
  coordinate: string | null;
  subgraph: string | null;
  product: string | null;
  message: string;
  fix: string;
}

export interface Rule {
  id: string;
  /** One sentence: what the rule demands. */
  description: string;
  defaultSeverity: Exclude<RuleSeverity, 'off'>;
  check(context: GovernanceContext): Finding[];
}

/** What the rules look at, computed once per composition. */
export class GovernanceContext {
  readonly facts: SupergraphFacts;
  /** Every declared product with the subgraph that declares it. */
  readonly products: { product: DataProduct; subgraph: GovernedSubgraph }[];
  /** Output coordinate → the (non-retired) products that output it. */
  readonly owners = new Map<string, DataProduct[]>();
  readonly today: string;

  constructor(readonly input: GovernanceInput) {
    this.facts = input.supergraph.facts;
    this.products = input.subgraphs.flatMap((subgraph) => subgraph.products.map((product) => ({ product, subgraph })));
    for (const { product } of this.products) {
      if (product.status === 'retired') continue;
      for (const { coordinate } of outputFields(product)) (this.owners.get(coordinate) ?? this.owners.set(coordinate, []).get(coordinate)!).push(product);
    }
    this.today = input.today ?? new Date().toISOString().slice(0, 10);
  }

  /** Every field the supergraph serves to clients, as `Type.field`, with its type. */
  *servedFields(): Generator<{ coordinate: string; typeName: string; fieldName: string }> {
    for (const type of apiTypes(this.facts)) {
      if (!isObjectType(type) && !isInterfaceType(type)) continue;
      for (const field of Object.values(type.getFields())) yield { coordinate: `${type.name}.${field.name}`, typeName: type.name, fieldName: field.name };
    }
  }

  subgraphOf(product: DataProduct): string {
    return this.products.find((p) => p.product === product)?.subgraph.name ?? product.domain;
  }
}

/**
 * Types of the platform, not of one product: Relay's PageInfo is every connection's page metadata
 * (subgraphs/kit/paging.ts), shared by all subgraphs; the connection fields that return it are
 * owned, classified and purpose-guarded by their products.
 */
const PLATFORM_TYPES = new Set(['PageInfo']);

const PASCAL = /^[A-Z][A-Za-z0-9]*$/;
const CAMEL = /^[a-z][A-Za-z0-9]*$/;
const SCREAMING = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export const RULES: Rule[] = [
  {
    id: 'descriptor-matches-schema',
    description: 'A product descriptor and its subgraph schema agree: every declared output exists there, with the same classification, PII flag and deprecation.',
    defaultSeverity: 'fail',
    check: (ctx) =>
      ctx.input.subgraphs.flatMap((s) =>
        checkDescriptorsAgainstSchema(s.name, s.products, s.typeDefs).map((c) => ({
          coordinate: c.coordinate,
          subgraph: s.name,
          product: c.product,
          message: `${c.problem} (${c.location})`,
          fix: c.fix,
        })),
      ),
  },
  {
    id: 'output-classified',
    description: 'Every output field of a data product carries a classification (@classification in the supergraph).',
    defaultSeverity: 'fail',
    check: (ctx) => {
      const out: Finding[] = [];
      for (const { product, subgraph } of ctx.products) {
        if (product.status === 'retired') continue;
        for (const { coordinate } of outputFields(product)) {
          if (!ctx.facts.field(coordinate) || ctx.facts.classifications.has(coordinate)) continue;
          out.push({
            coordinate,
            subgraph: subgraph.name,
            product: product.id,
            message: `output of ${product.id}, but not classified`,
            fix: `add @classification(level: PUBLIC|INTERNAL|CONFIDENTIAL|RESTRICTED) to ${coordinate} in subgraphs/${subgraph.name}/schema.graphql and the same classification to the property in its data-products.yaml`,
          });
        }
      }
      return out;
    },
  },
  {
    id: 'sensitive-fields-protected',
    description: 'Every PII or restricted field needs authorization: it, its type, or every path to it carries @authenticated, @requiresScopes or @policy.',
    defaultSeverity: 'fail',
    check: (ctx) => {
      const exposure = openPaths(ctx);
      const out: Finding[] = [];
      for (const [coordinate, c] of ctx.facts.classifications) {
        if (!c.pii && c.level !== 'restricted') continue;
        const [typeName] = coordinate.split('.') as [string];
        if (!isEmpty(ctx.facts.requirement(coordinate))) continue;
        const path = exposure.get(typeName);
        if (path === undefined) continue; // only reachable through protected fields
        const owner = ctx.owners.get(coordinate)?.[0];
        out.push({
          coordinate,
          subgraph: owner ? ctx.subgraphOf(owner) : null,
          product: owner?.id ?? null,
          message: `${c.pii ? 'PII' : 'restricted'} field readable without any authorization (via ${[...path, coordinate].join(' → ')})`,
          fix: `add @authenticated, @requiresScopes or @policy to ${coordinate} (or to ${typeName}, or to a field on the way to it), or lower its classification if it is not sensitive`,
        });
      }
      return out;
    },
  },
  {
    id: 'pii-not-public',
    description: 'Personal data is never classified public.',
    defaultSeverity: 'fail',
    check: (ctx) =>
      [...ctx.facts.classifications]
        .filter(([, c]) => c.pii && c.level === 'public')
        .map(([coordinate]) => {
          const owner = ctx.owners.get(coordinate)?.[0];
          return {
            coordinate,
            subgraph: owner ? ctx.subgraphOf(owner) : null,
            product: owner?.id ?? null,
            message: 'marked pii: true but classified public',
            fix: 'classify it internal, confidential or restricted (schema and descriptor), or drop pii if it is not personal data',
          };
        }),
  },
  {
    id: 'product-has-owner',
    description: 'Every data product names its owning team and a contact (a support channel or an owner with an e-mail).',
    defaultSeverity: 'fail',
    check: (ctx) =>
      ctx.products.flatMap(({ product, subgraph }) => {
        const problems: string[] = [];
        if (!product.team?.name) problems.push('no owning team (team.name)');
        if (product.support.length === 0 && !product.team?.members.some((m) => m.email)) problems.push('no contact (support channel or a team member with an e-mail)');
        return problems.map((problem) => ({
          coordinate: null,
          subgraph: subgraph.name,
          product: product.id,
          message: `${problem} (${product.source.file}:${product.source.line})`,
          fix: 'add team: { name: …, members: [{ username: …, role: owner, email: … }] } and support: [{ channel: …, tool: email }] to the product',
        }));
      }),
  },
  {
    id: 'product-has-sla',
    description: 'Every data product declares service levels: at least one freshness, availability or latency target (slaProperties).',
    defaultSeverity: 'fail',
    check: (ctx) =>
      ctx.products
        .filter(({ product }) => product.status !== 'retired' && !(['freshness', 'availability', 'latency'] as const).some((p) => slaOf(product, p)))
        .map(({ product, subgraph }) => ({
          coordinate: null,
          subgraph: subgraph.name,
          product: product.id,
          message: `declares no freshness, availability or latency target (${product.source.file}:${product.source.line})`,
          fix: 'add slaProperties, e.g. - { property: availability, value: 99.5, unit: percent } and - { property: freshness, value: 1, unit: d, element: table.column }',
        })),
  },
  {
    id: 'product-has-status',
    description: 'Every data product states its lifecycle status: proposed, draft, active, deprecated or retired.',
    defaultSeverity: 'fail',
    check: (ctx) =>
      ctx.products
        .filter(({ product }) => product.status === null)
        .map(({ product, subgraph }) => ({
          coordinate: null,
          subgraph: subgraph.name,
          product: product.id,
          message: `has no status (${product.source.file}:${product.source.line})`,
          fix: 'add status: active (or proposed, draft, deprecated, retired)',
        })),
  },
  {
    id: 'retired-not-served',
    description: 'A retired data product is not in the supergraph: none of its outputs is served.',
    defaultSeverity: 'fail',
    check: (ctx) =>
      ctx.products
        .filter(({ product }) => product.status === 'retired')
        .flatMap(({ product, subgraph }) =>
          outputFields(product)
            .filter(({ coordinate }) => ctx.facts.field(coordinate) && !ctx.owners.has(coordinate))
            .map(({ coordinate }) => ({
              coordinate,
              subgraph: subgraph.name,
              product: product.id,
              message: `still served, but ${product.id} is retired`,
              fix: `remove ${coordinate} from subgraphs/${subgraph.name}/schema.graphql (consumers were warned by its deprecation), or set the product back to deprecated`,
            })),
        ),
  },
  {
    id: 'deprecated-has-sunset',
    description: 'A deprecated product has a sunset date (an endOfLife SLA property); a deprecated output field has one too (sunset on the property).',
    defaultSeverity: 'fail',
    check: (ctx) => {
      const out: Finding[] = [];
      for (const { product, subgraph } of ctx.products) {
        if (product.status === 'deprecated' && !sunsetOf(product)) {
          out.push({
            coordinate: null,
            subgraph: subgraph.name,
            product: product.id,
            message: `deprecated without a sunset date (${product.source.file}:${product.source.line})`,
            fix: 'add - { property: endOfLife, value: YYYY-MM-DD } to slaProperties, so consumers know when it goes',
          });
        }
        if (product.status === 'retired') continue;
        for (const { coordinate, property } of outputFields(product)) {
          if (ctx.facts.field(coordinate)?.deprecationReason && !property.sunset) {
            out.push({
              coordinate,
              subgraph: subgraph.name,
              product: product.id,
              message: 'deprecated in the schema but the descriptor gives no sunset date',
              fix: `add sunset: YYYY-MM-DD to the ${coordinate} property in subgraphs/${subgraph.name}/data-products.yaml`,
            });
          }
        }
      }
      return out;
    },
  },
  {
    id: 'sunset-not-passed',
    description: 'Nothing is served past its sunset date: a deprecated product or field whose date has passed is removed.',
    defaultSeverity: 'warn',
    check: (ctx) => {
      const out: Finding[] = [];
      for (const { product, subgraph } of ctx.products) {
        if (product.status === 'retired') continue;
        const sunset = sunsetOf(product);
        if (sunset && sunset < ctx.today && outputFields(product).some(({ coordinate }) => ctx.facts.field(coordinate))) {
          out.push({ coordinate: null, subgraph: subgraph.name, product: product.id, message: `sunset date ${sunset} has passed but the product is still served`, fix: 'retire it (status: retired) and remove its fields from the schema, or move the date' });
        }
        for (const { coordinate, property } of outputFields(product)) {
          if (property.sunset && property.sunset < ctx.today && ctx.facts.field(coordinate)) {
            out.push({ coordinate, subgraph: subgraph.name, product: product.id, message: `sunset date ${property.sunset} has passed but the field is still served`, fix: `remove ${coordinate} from the schema and the descriptor, or move the date` });
          }
        }
      }
      return out;
    },
  },
  {
    id: 'naming-convention',
    description: 'Product ids are kebab-case and unique across the mesh; GraphQL types are PascalCase, fields and arguments camelCase, enum values SCREAMING_SNAKE_CASE.',
    defaultSeverity: 'fail',
    check: (ctx) => {
      const out: Finding[] = [];
      const seen = new Map<string, string>();
      for (const { product, subgraph } of ctx.products) {
        if (!KEBAB.test(product.id)) {
          out.push({ coordinate: null, subgraph: subgraph.name, product: product.id, message: `product id "${product.id}" is not kebab-case`, fix: `rename it, e.g. ${kebab(product.id)}` });
        }
        const other = seen.get(product.id);
        if (other) out.push({ coordinate: null, subgraph: subgraph.name, product: product.id, message: `product id "${product.id}" is also declared by subgraph ${other}`, fix: 'product ids are unique across the mesh: rename one' });
        seen.set(product.id, subgraph.name);
      }
      for (const type of apiTypes(ctx.facts)) {
        if (!PASCAL.test(type.name)) out.push(nameFinding(ctx, type.name, `type ${type.name} is not PascalCase`));
        if (isObjectType(type) || isInterfaceType(type)) {
          for (const field of Object.values(type.getFields())) {
            const coordinate = `${type.name}.${field.name}`;
            if (!CAMEL.test(field.name)) out.push(nameFinding(ctx, coordinate, `field ${field.name} is not camelCase`));
            for (const arg of field.args) if (!CAMEL.test(arg.name)) out.push(nameFinding(ctx, `${coordinate}(${arg.name}:)`, `argument ${arg.name} is not camelCase`));
          }
        }
        if (isEnumType(type)) {
          for (const value of type.getValues()) if (!SCREAMING.test(value.name)) out.push(nameFinding(ctx, `${type.name}.${value.name}`, `enum value ${value.name} is not SCREAMING_SNAKE_CASE`));
        }
      }
      return out;
    },
  },
  {
    id: 'output-owned',
    description: 'Every field a governed subgraph serves belongs to a data product: nothing reaches consumers without an owner, a contract and quality rules.',
    defaultSeverity: 'fail',
    check: (ctx) => {
      const declaring = new Set(ctx.input.subgraphs.filter((s) => s.products.length).map((s) => s.name));
      const out: Finding[] = [];
      for (const { coordinate, typeName } of ctx.servedFields()) {
        if (ctx.owners.has(coordinate) || PLATFORM_TYPES.has(typeName)) continue;
        const resolvers = ctx.facts.resolvingSubgraphs(coordinate).filter((s) => declaring.has(s));
        if (resolvers.length === 0) continue; // served only by subgraphs without descriptors: subgraph-declares-products reports them
        out.push({
          coordinate,
          subgraph: resolvers.join(', '),
          product: null,
          message: 'served by the supergraph but in no (non-retired) data product',
          fix: `list it as a property of a product's output in subgraphs/${resolvers[0]}/data-products.yaml (with its classification)`,
        });
      }
      return out;
    },
  },
  {
    id: 'subgraph-declares-products',
    description: 'Every subgraph declares its data products (data-products.yaml beside its schema).',
    defaultSeverity: 'warn',
    check: (ctx) =>
      ctx.input.subgraphs
        .filter((s) => s.products.length === 0)
        .map((s) => ({
          coordinate: null,
          subgraph: s.name,
          product: null,
          message: s.descriptorFile ? `${s.descriptorFile} declares no data product` : 'declares no data products: its fields are ungoverned',
          fix: `add data-products.yaml beside the subgraph's schema (see docs/data-products.md)`,
        })),
  },
];

function nameFinding(ctx: GovernanceContext, coordinate: string, message: string): Finding {
  const owner = ctx.owners.get(coordinate)?.[0];
  const subgraphs = ctx.facts.resolvingSubgraphs(coordinate.replace(/\(.*$/, ''));
  return {
    coordinate,
    subgraph: owner ? ctx.subgraphOf(owner) : subgraphs.join(', ') || null,
    product: owner?.id ?? null,
    message,
    fix: 'rename it to follow the convention (a breaking change for consumers: deprecate the old name first)',
  };
}

/** The supergraph's client-facing types (no federation or link machinery, no introspection). */
function apiTypes(facts: SupergraphFacts): GraphQLNamedType[] {
  return Object.values(facts.schema.getTypeMap()).filter(
    // `__` marks introspection and linked specs' own types (join__Graph, link__Import, policy__Policy…).
    (t) => !t.name.includes('__') && !['String', 'Int', 'Float', 'Boolean', 'ID'].includes(t.name),
  );
}

/**
 * Types a client can reach from the root without any authorization, each with the path that gets
 * there. Traversal stops at any field that needs something (its own requirement, its return
 * type's, or its parent type's).
 */
function openPaths(ctx: GovernanceContext): Map<string, string[]> {
  const schema = ctx.facts.schema;
  const open = new Map<string, string[]>();
  const queue: string[] = [];
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (root && isEmpty(ctx.facts.security.types.get(root.name) ?? { authenticated: false, scopes: null, policies: null })) {
      open.set(root.name, []);
      queue.push(root.name);
    }
  }
  while (queue.length) {
    const typeName = queue.shift()!;
    const type = schema.getType(typeName);
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${typeName}.${field.name}`;
      if (!isEmpty(ctx.facts.requirement(coordinate))) continue;
      const target = getNamedType(field.type);
      const targets = isUnionType(target) || isInterfaceType(target) ? [target, ...schema.getPossibleTypes(target)] : [target];
      for (const t of targets) {
        if (open.has(t.name) || !(isObjectType(t) || isInterfaceType(t) || isUnionType(t))) continue;
        if (!isEmpty(ctx.facts.security.types.get(t.name) ?? { authenticated: false, scopes: null, policies: null })) continue;
        open.set(t.name, [...open.get(typeName)!, coordinate]);
        queue.push(t.name);
      }
    }
  }
  return open;
}

function kebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}
