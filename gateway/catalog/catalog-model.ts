import {
  getNamedType,
  isObjectType,
  Kind,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { and, describeRequirement, isEmpty, NO_REQUIREMENT, type Requirement } from '../authorization/requirement.js';
import type { SupergraphFacts } from '../supergraph/supergraph-facts.js';
import type { SecurityIndex } from '../authorization/security-index.js';
import { declaredFields, type FieldClassification } from '../../subgraphs/mesh/data-products/classification.js';
import { outputFields, slaOf, sunsetOf } from '../../subgraphs/mesh/data-products/accessors.js';
import type { DataProduct, SlaProperty } from '../../subgraphs/mesh/data-products/descriptor.js';
import { verdict, type QualityReport } from '../../subgraphs/mesh/data-products/quality-report.js';
import type { DataProductsDocument } from '../../subgraphs/mesh/data-products/protocol.js';
import { describeMask, parseMask, type MaskSpec } from '../../subgraphs/mesh/data-products/masks.js';


export interface CatalogField {
  coordinate: string;
  typeName: string;
  fieldName: string;
  type: string;
  description: string | null;
  classification: string | null;
  pii: boolean;
  rootField: boolean;
  authorization: { summary: string; public: boolean; authenticated: boolean; scopes: string[][] | null; policies: string[][] | null };
  /** The purposes a request may declare to read it (the supergraph's @purposes); null = any. */
  purposes: string[] | null;
  deprecated: boolean;
  deprecationReason: string | null;
  sunset: string | null;
  served: boolean;
  /** What a caller who may only see the field masked gets (the descriptor's `mask`); null = no mask. */
  mask: { kind: string; description: string; example: string } | null;
}

export type LineageKind = 'RETURNS' | 'EXTENDS' | 'INPUT_PORT';
export interface LineageLink {
  productId: string;
  kind: LineageKind;
  entity: string | null;
  key: string | null;
  via: string[];
}

export interface CatalogProduct {
  id: string;
  name: string;
  version: string;
  status: string | null;
  domain: string;
  subgraph: string;
  tags: string[];
  description: DataProduct['description'];
  /** The purposes it may be used for (the descriptor's `purposes`); empty = any. */
  purposes: string[];
  owner: { team: string | null; contact: string | null; members: NonNullable<DataProduct['team']>['members'] };
  support: DataProduct['support'];
  sla: { freshness: SlaTarget | null; availability: SlaTarget | null; latency: SlaTarget | null; endOfLife: string | null };
  sunset: string | null;
  outputTypes: string[];
  rootFields: string[];
  fields: CatalogField[];
  freshness: {
    element: string;
    lastUpdated: string | null;
    ageSeconds: number | null;
    targetSeconds: number;
    withinSla: boolean | null;
    asOf: string;
    checkedAt: string;
  } | null;
  quality: {
    status: 'PASSED' | 'WARNING' | 'FAILED' | 'UNKNOWN';
    checkedAt: string | null;
    asOf: string | null;
    rules: number;
    passed: number;
    failed: number;
    results: (Omit<QualityReport['results'][number], 'severity' | 'status'> & { severity: string; status: string })[];
  };
  lineage: { references: LineageLink[]; referencedBy: LineageLink[] };
  inputPorts: DataProduct['inputPorts'];
  descriptor: { file: string; line: number };
}

interface SlaTarget {
  value: number;
  unit: string;
  element: string | null;
  description: string | null;
}

export interface SourceStatus {
  subgraph: string;
  url: string;
  /** Resolves classified fields (follows the governance spec); only these are asked for a catalog. */
  governed: boolean;
  /** Null when not asked. */
  reachable: boolean | null;
  products: number;
  fetchedAt: string | null;
  error: string | null;
}

/** Per-field usage facts the response extensions need, by `Type.field`. */
export interface FieldUsage {
  products: { id: string; version: string; status: string | null; sunset: string | null }[];
  deprecationReason: string | null;
  sunset: string | null;
}

/** One consistent view of the catalog: rebuilt when the subgraphs' documents change. */
export class CatalogSnapshot {
  readonly products = new Map<string, CatalogProduct>();
  readonly usage = new Map<string, FieldUsage>();
  /** The masks the (non-retired) products declare, by coordinate: what masking may serve. */
  readonly masks = new Map<string, MaskSpec>();

  constructor(
    readonly facts: SupergraphFacts,
    documents: DataProductsDocument[],
    readonly sources: SourceStatus[],
    readonly version: number,
  ) {
    for (const doc of documents) {
      for (const descriptor of doc.dataProducts) {
        if (this.products.has(descriptor.id)) continue; // a duplicate id across subgraphs: governance reports it, first one wins here
        this.products.set(descriptor.id, this.product(descriptor, doc.subgraph, doc.quality));
      }
    }
    this.link();
    this.indexUsage();
  }

  /** `view`: the product as the caller sees it (a contract's view), null to leave it out; searched as seen. */
  list(filter: { domain?: string | null; status?: string | null; search?: string | null } = {}, view: (p: CatalogProduct) => CatalogProduct | null = (p) => p): CatalogProduct[] {
    const search = filter.search?.trim().toLowerCase();
    return [...this.products.values()].map(view).filter((p): p is CatalogProduct => p !== null).filter((p) => {
      if (filter.domain && p.domain !== filter.domain) return false;
      if (filter.status ? p.status !== filter.status : p.status === 'RETIRED') return false;
      if (!search) return true;
      const text = [p.id, p.name, p.domain, p.description.purpose, p.description.usage, p.description.limitations, ...p.tags, ...p.fields.map((f) => f.coordinate)].join('\n').toLowerCase();
      return text.includes(search);
    });
  }

  private product(d: DataProduct, subgraph: string, report: QualityReport | null): CatalogProduct {
    const fields = outputFields(d).map(({ coordinate, object, property }): CatalogField => {
      const field = this.facts.field(coordinate);
      const classification = this.facts.classifications.get(coordinate) ?? (property.classification ? { level: property.classification, pii: property.pii } : null);
      const requirement = this.facts.requirement(coordinate);
      return {
        coordinate,
        typeName: object.name,
        fieldName: property.name,
        type: field ? String(field.type) : 'unknown',
        description: field?.description ?? property.description,
        classification: classification ? classification.level.toUpperCase() : null,
        pii: classification?.pii ?? false,
        rootField: object.name === (this.facts.schema.getQueryType()?.name ?? 'Query'),
        authorization: {
          summary: describeRequirement(requirement),
          public: isEmpty(requirement),
          authenticated: !isEmpty(requirement),
          scopes: requirement.scopes,
          policies: requirement.policies,
        },
        purposes: requirement.purposes ? [...requirement.purposes] : null,
        deprecated: Boolean(field?.deprecationReason) || property.sunset !== null,
        deprecationReason: field?.deprecationReason ?? null,
        sunset: property.sunset,
        served: field !== undefined,
        mask: this.mask(coordinate, property.mask, d.status),
      };
    });
    const results = report?.results.filter((r) => r.product === d.id) ?? [];
    const fresh = report?.freshness.find((f) => f.product === d.id) ?? null;
    const failed = results.filter((r) => r.status !== 'passed').length;
    const manager = d.team?.members.find((m) => m.role === 'owner') ?? d.team?.members[0];
    return {
      id: d.id,
      name: d.name,
      version: d.version,
      status: d.status?.toUpperCase() ?? null,
      domain: d.domain,
      subgraph,
      tags: d.tags,
      description: d.description,
      // Served by the subgraph: one that predates purposes sends none.
      purposes: d.purposes ?? [],
      owner: { team: d.team?.name ?? null, contact: d.support[0]?.channel ?? manager?.email ?? null, members: d.team?.members ?? [] },
      support: d.support,
      sla: {
        freshness: target(slaOf(d, 'freshness')),
        availability: target(slaOf(d, 'availability')),
        latency: target(slaOf(d, 'latency')),
        endOfLife: sunsetOf(d),
      },
      sunset: sunsetOf(d),
      outputTypes: [...new Set(fields.filter((f) => !f.rootField).map((f) => f.typeName))],
      rootFields: fields.filter((f) => f.rootField).map((f) => f.coordinate),
      fields,
      freshness: fresh && report ? { ...fresh, asOf: report.asOf, checkedAt: report.checkedAt } : null,
      quality: {
        status: !report || d.status === 'retired' ? 'UNKNOWN' : (verdict(results).toUpperCase() as 'PASSED' | 'WARNING' | 'FAILED'),
        checkedAt: report?.checkedAt ?? null,
        asOf: report?.asOf ?? null,
        rules: results.length,
        passed: results.length - failed,
        failed,
        results: results.map((r) => ({ ...r, severity: r.severity.toUpperCase(), status: r.status.toUpperCase() })),
      },
      lineage: { references: [], referencedBy: [] },
      inputPorts: d.inputPorts,
      descriptor: d.source,
    };
  }

  /** A declared mask, as the subgraph served it (re-read: a shape this gateway does not know is no mask). */
  private mask(coordinate: string, raw: unknown, status: DataProduct['status']): CatalogField['mask'] {
    if (raw === undefined || raw === null) return null;
    const parsed = parseMask(raw);
    if (!('spec' in parsed)) return null;
    if (status !== 'retired') this.masks.set(coordinate, parsed.spec);
    return { kind: parsed.spec.kind, ...describeMask(parsed.spec) };
  }

  /**
   * Lineage through entity keys. A type's owners are the products that output its key fields (an
   * entity) or any of its fields (a plain type). A product that returns a type owned by another
   * product references it (RETURNS); one that adds fields to another product's entity EXTENDS it;
   * input ports are declared references.
   */
  private link() {
    const queryType = this.facts.schema.getQueryType()?.name ?? 'Query';
    const owners = new Map<string, Set<string>>();
    for (const p of this.products.values()) {
      if (p.status === 'RETIRED') continue;
      for (const f of p.fields) {
        if (f.rootField) continue;
        const key = this.facts.entityKeys.get(f.typeName);
        if (key && !key.split(/\s+/).includes(f.fieldName)) continue;
        (owners.get(f.typeName) ?? owners.set(f.typeName, new Set()).get(f.typeName)!).add(p.id);
      }
    }
    const links = new Map<string, LineageLink>();
    const add = (from: string, to: string, kind: LineageKind, entity: string | null, via: string | null) => {
      if (from === to || !this.products.has(to)) return;
      const id = `${from}\u0000${to}\u0000${kind}\u0000${entity}`;
      let link = links.get(id);
      if (!link) links.set(id, (link = { productId: to, kind, entity, key: entity ? (this.facts.entityKeys.get(entity) ?? null) : null, via: [] }));
      if (via && !link.via.includes(via)) link.via.push(via);
      const product = this.products.get(from)!;
      if (!product.lineage.references.includes(link)) product.lineage.references.push(link);
    };
    for (const p of this.products.values()) {
      if (p.status === 'RETIRED') continue;
      for (const f of p.fields) {
        const field = this.facts.field(f.coordinate);
        const returned = field ? getNamedType(field.type).name : null;
        for (const owner of (returned && owners.get(returned)) || []) add(p.id, owner, 'RETURNS', returned, f.coordinate);
        if (f.typeName !== queryType && this.facts.entityKeys.has(f.typeName) && !owners.get(f.typeName)?.has(p.id)) {
          for (const owner of owners.get(f.typeName) ?? []) add(p.id, owner, 'EXTENDS', f.typeName, f.coordinate);
        }
      }
      for (const port of p.inputPorts) if (port.contractId) add(p.id, port.contractId, 'INPUT_PORT', null, null);
    }
    for (const p of this.products.values()) {
      for (const link of p.lineage.references) {
        this.products.get(link.productId)!.lineage.referencedBy.push({ ...link, productId: p.id });
      }
    }
  }

  private indexUsage() {
    for (const p of this.products.values()) {
      if (p.status === 'RETIRED') continue;
      for (const f of p.fields) {
        let usage = this.usage.get(f.coordinate);
        if (!usage) this.usage.set(f.coordinate, (usage = { products: [], deprecationReason: f.deprecationReason, sunset: f.sunset }));
        usage.products.push({ id: p.id, version: p.version, status: p.status, sunset: p.sunset });
        usage.sunset ??= f.sunset;
      }
    }
    // Fields the supergraph deprecates that no product declares still warn (without a sunset date).
    for (const type of Object.values(this.facts.schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (!field.deprecationReason) continue;
        const coordinate = `${type.name}.${field.name}`;
        const usage = this.usage.get(coordinate);
        if (usage) usage.deprecationReason ??= field.deprecationReason;
        else this.usage.set(coordinate, { products: [], deprecationReason: field.deprecationReason, sunset: null });
      }
    }
  }
}


function target(sla: SlaProperty | undefined): SlaTarget | null {
  if (!sla || typeof sla.value !== 'number') return null;
  return { value: sla.value, unit: sla.unit ?? '', element: sla.element, description: sla.description };
}
