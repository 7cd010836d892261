/**
 * A domain's data products, as declared in `data-products.yaml` next to its schema.
 *
 * One YAML document per product (documents separated by `---`), using the field names of the
 * Open Data Product Standard (ODPS v1.0: id, name, version, status, domain, description, team,
 * support, inputPorts, outputPorts) and, for what a product outputs and promises, of the Open Data
 * Contract Standard (ODCS v3.1: schema objects and properties, classification, quality,
 * slaProperties). Where the standards are silent, the extensions are few and named in the docs:
 * `pii`, property-level `sunset` and `mask`, the `freshness` quality metric and the `graphql` port type.
 *
 * Structure and values are validated strictly here (an unknown key is a typo until proven
 * otherwise); whether a product is *complete* (owner, SLA, status, classification) is for the
 * mesh's governance rules, which can be set to warn.
 *
 * This file is the format (types, allowed values, the error); descriptor-reader.ts reads and
 * validates a file into it, accessors.ts answers the usual questions about a product.
 */

import type { MaskSpec } from './masks.js';

export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];
export const STATUSES = ['proposed', 'draft', 'active', 'deprecated', 'retired'] as const;
export type ProductStatus = (typeof STATUSES)[number];
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const METRICS = ['nullValues', 'duplicateValues', 'invalidValues', 'rowCount', 'freshness'] as const;
export type Metric = (typeof METRICS)[number];
export const COMPARATORS = [
  'mustBe',
  'mustNotBe',
  'mustBeGreaterThan',
  'mustBeGreaterOrEqualTo',
  'mustBeLessThan',
  'mustBeLessOrEqualTo',
  'mustBeBetween',
  'mustNotBeBetween',
] as const;
export type ComparatorName = (typeof COMPARATORS)[number];
export const TIME_UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
export type TimeUnit = keyof typeof TIME_UNITS;
export const SLA_PROPERTIES = ['freshness', 'availability', 'latency', 'endOfLife', 'endOfSupport', 'retention', 'frequency'] as const;

export interface Comparator {
  name: ComparatorName;
  /** A number, or `[low, high]` (inclusive) for the two `Between` comparators. */
  value: number | [number, number];
}

/** One executable quality rule (ODCS `quality` entry), placed on an object (table) or property (column). */
export interface QualityRule {
  /** Unique within the product. */
  id: string;
  description: string | null;
  type: 'library' | 'sql';
  metric: Metric | null;
  /** SQL rules: one SELECT returning one number; `${object}` and `${property}` name the table and column. */
  query: string | null;
  arguments: {
    validValues?: (string | number | boolean | null)[];
    minimum?: number | string;
    maximum?: number | string;
    /** Object-level duplicateValues: the properties (GraphQL names) that together must be unique. */
    properties?: string[];
  };
  comparator: Comparator;
  unit: 'rows' | 'percent' | TimeUnit;
  severity: Severity;
  dimension: string | null;
  /** The GraphQL type and, for property rules, field the rule sits on. */
  object: string;
  property: string | null;
  /** Where it sits in the database. */
  table: string | null;
  column: string | null;
  /** Key path in the descriptor, for messages. */
  path: string;
}

export interface OutputProperty {
  /** GraphQL field name. */
  name: string;
  physicalName: string | null;
  description: string | null;
  /** As declared on the property (or inherited from its object). */
  classification: Classification | null;
  pii: boolean;
  primaryKey: boolean;
  /** Set when the field is deprecated: the date (YYYY-MM-DD) it will be removed. */
  sunset: string | null;
  /** What a caller who may only see the field masked gets (masks.ts); null = no mask, such a caller gets nothing. */
  mask: MaskSpec | null;
  quality: QualityRule[];
  path: string;
}

export interface OutputObject {
  /** GraphQL type name (`Query` lists the product's root fields). */
  name: string;
  physicalName: string | null;
  physicalType: string | null;
  description: string | null;
  properties: OutputProperty[];
  quality: QualityRule[];
  path: string;
}

export interface OutputPort {
  name: string;
  type: 'graphql';
  version: string | null;
  description: string | null;
  schema: OutputObject[];
}

export interface SlaProperty {
  property: (typeof SLA_PROPERTIES)[number];
  value: number | string;
  unit: string | null;
  /** `table.column` the property is measured on (freshness). */
  element: string | null;
  description: string | null;
  path: string;
}

export interface TeamMember {
  username: string;
  name: string | null;
  role: string | null;
  email: string | null;
}

export interface SupportChannel {
  channel: string;
  tool: string | null;
  url: string | null;
}

export interface InputPort {
  name: string;
  version: string | null;
  /** The id of the data product (or contract) this product consumes. */
  contractId: string | null;
}

export interface DataProduct {
  apiVersion: string;
  kind: 'DataProduct';
  id: string;
  name: string;
  /** Semantic version of the product's contract. */
  version: string;
  status: ProductStatus | null;
  domain: string;
  tags: string[];
  description: { purpose: string | null; usage: string | null; limitations: string | null };
  /**
   * The purposes the product may be used for (our extension: ODCS and ODPS describe usage in prose
   * only). A request declaring another purpose is refused its fields; empty = any purpose.
   */
  purposes: string[];
  team: { name: string | null; description: string | null; members: TeamMember[] } | null;
  support: SupportChannel[];
  slaProperties: SlaProperty[];
  inputPorts: InputPort[];
  outputPorts: OutputPort[];
  /** Where it was declared: file (relative to the working directory) and line. */
  source: { file: string; line: number };
}

/** A descriptor mistake: names the file, the line, the product and the key. */
export class DescriptorError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly key: string,
    readonly problem: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${key}: ${problem}`);
    this.name = 'DescriptorError';
  }
}

/** The descriptor file of a domain: `data-products.yaml` beside its schema. */
export const DESCRIPTOR_FILE = 'data-products.yaml';
