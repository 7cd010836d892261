import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import {
  CLASSIFICATIONS,
  COMPARATORS,
  DescriptorError,
  METRICS,
  SEVERITIES,
  SLA_PROPERTIES,
  STATUSES,
  TIME_UNITS,
  type Classification,
  type Comparator,
  type DataProduct,
  type InputPort,
  type OutputObject,
  type OutputPort,
  type OutputProperty,
  type QualityRule,
  type SlaProperty,
  type SupportChannel,
  type TeamMember,
  type TimeUnit,
} from './descriptor.js';
import { YamlReader, type Json } from './yaml-reader.js';
import { parseMask, type MaskSpec } from './masks.js';
import { PURPOSE } from './purposes.js';

/**
 * Reads `data-products.yaml` into the descriptor format (descriptor.ts), strictly: the first
 * mistake fails with its file, line, product and key path.
 */

/** Reads and validates a descriptor file; a missing file means "no products declared" (an empty list). */
export function loadDescriptorFile(path: string): DataProduct[] {
  if (!existsSync(path)) return [];
  return parseDescriptors(readFileSync(path, 'utf8'), relative(process.cwd(), path) || path);
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Keys of the standards that are accepted (and kept out of our way) without being interpreted. */
const PASSTHROUGH = ['tenant', 'authoritativeDefinitions', 'customProperties', 'productCreatedTs', 'contractCreatedTs', 'managementPorts'];
const PRODUCT_KEYS = ['apiVersion', 'kind', 'id', 'name', 'version', 'status', 'domain', 'tags', 'description', 'purposes', 'team', 'support', 'slaProperties', 'inputPorts', 'outputPorts', ...PASSTHROUGH];
const OBJECT_KEYS = ['name', 'physicalName', 'physicalType', 'logicalType', 'businessName', 'description', 'classification', 'pii', 'properties', 'quality', 'dataGranularityDescription', 'tags', 'authoritativeDefinitions', 'customProperties'];
const PROPERTY_KEYS = ['name', 'physicalName', 'physicalType', 'logicalType', 'businessName', 'description', 'classification', 'pii', 'primaryKey', 'primaryKeyPosition', 'required', 'unique', 'sunset', 'mask', 'quality', 'examples', 'criticalDataElement', 'tags', 'authoritativeDefinitions', 'customProperties'];
const QUALITY_KEYS = ['id', 'name', 'type', 'metric', 'query', 'arguments', 'unit', 'severity', 'dimension', 'description', 'businessImpact', ...COMPARATORS];

export function parseDescriptors(text: string, file: string): DataProduct[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(documents)) return [];
  const products: DataProduct[] = [];
  const ids = new Map<string, number>();
  documents.forEach((doc, index) => {
    const label = `document ${index + 1}`;
    const error = doc.errors[0];
    if (error) {
      const line = lineCounter.linePos(error.pos[0]).line;
      const problem = error.code === 'DUPLICATE_KEY' ? 'duplicate key' : `invalid YAML: ${error.message.split('\n')[0]}`;
      throw new DescriptorError(file, line, label, problem);
    }
    if (doc.contents === null) return; // an empty document (e.g. a trailing `---`)
    const reader = new DescriptorReader(file, doc, lineCounter, label);
    const product = reader.product(doc.toJS({ maxAliasCount: 100 }));
    const seen = ids.get(product.id);
    if (seen !== undefined) reader.fail(['id'], `duplicate product id "${product.id}" (also document ${seen + 1})`);
    ids.set(product.id, index);
    products.push(product);
  });
  return products;
}

/** Walks one product document, failing with the file, the line and the key path of the first mistake. */
class DescriptorReader extends YamlReader {
  constructor(file: string, doc: Document, lines: LineCounter, label: string) {
    // The standards' passthrough keys are accepted but not suggested in "unknown key" messages.
    super(file, doc, lines, label, PASSTHROUGH);
  }

  product(raw: unknown): DataProduct {
    const value = this.record(raw, []);
    // The id names the product in every later message.
    const id = this.string(value.id, ['id'], { required: true })!;
    this.label = id;
    this.keys(value, [], PRODUCT_KEYS);
    const apiVersion = this.string(value.apiVersion, ['apiVersion']) ?? 'v1.0.0';
    const kind = this.oneOf(value.kind, ['kind'], ['DataProduct'] as const, 'DataProduct')!;
    const description = value.description === undefined ? {} : this.record(value.description, ['description']);
    this.keys(description, ['description'], ['purpose', 'usage', 'limitations']);
    const team = value.team === undefined ? null : this.record(value.team, ['team']);
    if (team) this.keys(team, ['team'], ['name', 'description', 'members']);
    const product: DataProduct = {
      apiVersion,
      kind,
      id,
      name: this.string(value.name, ['name'], { required: true })!,
      version: this.string(value.version, ['version'], { required: true, pattern: SEMVER, hint: 'a semantic version such as 1.4.0' })!,
      status: this.oneOf(value.status, ['status'], STATUSES),
      domain: this.string(value.domain, ['domain'], { required: true })!,
      tags: this.list(value.tags, ['tags']).map((t, i) => this.string(t, ['tags', i], { required: true })!),
      purposes: this.purposes(value.purposes),
      description: {
        purpose: this.string(description.purpose, ['description', 'purpose']),
        usage: this.string(description.usage, ['description', 'usage']),
        limitations: this.string(description.limitations, ['description', 'limitations']),
      },
      team: team && {
        name: this.string(team.name, ['team', 'name']),
        description: this.string(team.description, ['team', 'description']),
        members: this.list(team.members, ['team', 'members']).map((m, i) => this.member(m, ['team', 'members', i])),
      },
      support: this.list(value.support, ['support']).map((s, i) => this.support(s, ['support', i])),
      slaProperties: this.list(value.slaProperties, ['slaProperties']).map((s, i) => this.sla(s, ['slaProperties', i])),
      inputPorts: this.list(value.inputPorts, ['inputPorts']).map((p, i) => this.inputPort(p, ['inputPorts', i])),
      outputPorts: this.list(value.outputPorts, ['outputPorts']).map((p, i) => this.outputPort(p, ['outputPorts', i])),
      source: { file: this.file, line: this.lineOf([]) },
    };
    this.checkUnique(product);
    return product;
  }

  private member(raw: unknown, path: (string | number)[]): TeamMember {
    const value = this.record(raw, path);
    this.keys(value, path, ['username', 'name', 'role', 'email', 'dateIn', 'dateOut', 'replacedByUsername']);
    return {
      username: this.string(value.username, [...path, 'username'], { required: true })!,
      name: this.string(value.name, [...path, 'name']),
      role: this.string(value.role, [...path, 'role']),
      email: this.string(value.email, [...path, 'email'], { pattern: /^[^@\s]+@[^@\s]+$/, hint: 'an e-mail address' }),
    };
  }

  private support(raw: unknown, path: (string | number)[]): SupportChannel {
    const value = this.record(raw, path);
    this.keys(value, path, ['channel', 'tool', 'url', 'description', 'scope', 'invitationUrl']);
    return {
      channel: this.string(value.channel, [...path, 'channel'], { required: true })!,
      tool: this.string(value.tool, [...path, 'tool']),
      url: this.string(value.url, [...path, 'url']),
    };
  }

  private sla(raw: unknown, path: (string | number)[]): SlaProperty {
    const value = this.record(raw, path);
    this.keys(value, path, ['id', 'property', 'value', 'valueExt', 'unit', 'element', 'driver', 'description', 'scheduler', 'schedule']);
    const property = this.oneOf(value.property, [...path, 'property'], SLA_PROPERTIES);
    if (!property) this.fail([...path, 'property'], `missing (one of ${SLA_PROPERTIES.join(', ')})`);
    const sla: SlaProperty = {
      property,
      value: value.value as number | string,
      unit: this.string(value.unit, [...path, 'unit']),
      element: this.string(value.element, [...path, 'element'], { pattern: /^[A-Za-z_]\w*\.[A-Za-z_]\w*$/, hint: 'table.column' }),
      description: this.string(value.description, [...path, 'description']),
      path: this.pathText(path),
    };
    if (property === 'endOfLife' || property === 'endOfSupport') {
      this.string(value.value, [...path, 'value'], { required: true, pattern: DATE, hint: 'a date, YYYY-MM-DD' });
    } else if (property === 'freshness' || property === 'latency' || property === 'availability' || property === 'retention' || property === 'frequency') {
      if (typeof value.value !== 'number' || !(value.value > 0)) this.fail([...path, 'value'], 'must be a positive number');
      if (property === 'freshness') {
        this.oneOf(value.unit, [...path, 'unit'], Object.keys(TIME_UNITS) as TimeUnit[]);
        if (!sla.unit) this.fail([...path, 'unit'], `missing (one of ${Object.keys(TIME_UNITS).join(', ')})`);
      }
      if (property === 'latency' && sla.unit !== 'ms') this.fail([...path, 'unit'], 'must be ms');
      if (property === 'availability') {
        if (sla.unit !== 'percent') this.fail([...path, 'unit'], 'must be percent');
        if ((value.value as number) > 100) this.fail([...path, 'value'], 'a percentage cannot exceed 100');
      }
    }
    return sla;
  }

  private inputPort(raw: unknown, path: (string | number)[]): InputPort {
    const value = this.record(raw, path);
    this.keys(value, path, ['name', 'version', 'contractId', 'description', 'tags', 'customProperties', 'authoritativeDefinitions']);
    return {
      name: this.string(value.name, [...path, 'name'], { required: true })!,
      version: this.string(value.version, [...path, 'version']),
      contractId: this.string(value.contractId, [...path, 'contractId']),
    };
  }

  private outputPort(raw: unknown, path: (string | number)[]): OutputPort {
    const value = this.record(raw, path);
    this.keys(value, path, ['name', 'type', 'version', 'description', 'contractId', 'schema', 'tags', 'customProperties', 'authoritativeDefinitions']);
    const type = this.oneOf(value.type, [...path, 'type'], ['graphql'] as const, 'graphql')!;
    const schema = this.list(value.schema, [...path, 'schema']).map((o, i) => this.object(o, [...path, 'schema', i]));
    const names = new Set<string>();
    schema.forEach((o, i) => {
      if (names.has(o.name)) this.fail([...path, 'schema', i, 'name'], `type ${o.name} is listed twice in this port`);
      names.add(o.name);
    });
    return {
      name: this.string(value.name, [...path, 'name'], { required: true })!,
      type,
      version: this.string(value.version, [...path, 'version'], { pattern: SEMVER, hint: 'a semantic version' }),
      description: this.string(value.description, [...path, 'description']),
      schema,
    };
  }

  private object(raw: unknown, path: (string | number)[]): OutputObject {
    const value = this.record(raw, path);
    this.keys(value, path, OBJECT_KEYS);
    const name = this.string(value.name, [...path, 'name'], { required: true, pattern: GRAPHQL_NAME, hint: 'a GraphQL type name' })!;
    const physicalName = this.string(value.physicalName, [...path, 'physicalName'], { pattern: IDENTIFIER, hint: 'a SQL table name' });
    // Object-level classification and pii are defaults for the object's properties.
    const classification = this.oneOf(value.classification, [...path, 'classification'], CLASSIFICATIONS);
    const pii = this.boolean(value.pii, [...path, 'pii']);
    const object: OutputObject = {
      name,
      physicalName,
      physicalType: this.string(value.physicalType, [...path, 'physicalType']),
      description: this.string(value.description, [...path, 'description']),
      properties: [],
      quality: [],
      path: this.pathText(path),
    };
    const rawProperties = this.list(value.properties, [...path, 'properties']);
    if (rawProperties.length === 0) this.fail([...path, 'properties'], `missing: list the fields of ${name} that this product outputs`);
    const seen = new Set<string>();
    rawProperties.forEach((p, i) => {
      const property = this.property(p, [...path, 'properties', i], object, { classification, pii });
      if (seen.has(property.name)) this.fail([...path, 'properties', i, 'name'], `${name}.${property.name} is listed twice`);
      seen.add(property.name);
      object.properties.push(property);
    });
    object.quality = this.list(value.quality, [...path, 'quality']).map((q, i) => this.quality(q, [...path, 'quality', i], object, null));
    return object;
  }

  private property(raw: unknown, path: (string | number)[], object: OutputObject, defaults: { classification: Classification | null; pii: boolean }): OutputProperty {
    const value = this.record(raw, path);
    this.keys(value, path, PROPERTY_KEYS);
    const property: OutputProperty = {
      name: this.string(value.name, [...path, 'name'], { required: true, pattern: GRAPHQL_NAME, hint: 'a GraphQL field name' })!,
      physicalName: this.string(value.physicalName, [...path, 'physicalName'], { pattern: IDENTIFIER, hint: 'a SQL column name' }),
      description: this.string(value.description, [...path, 'description']),
      classification: this.oneOf(value.classification, [...path, 'classification'], CLASSIFICATIONS) ?? defaults.classification,
      pii: value.pii === undefined ? defaults.pii : this.boolean(value.pii, [...path, 'pii']),
      primaryKey: this.boolean(value.primaryKey, [...path, 'primaryKey']),
      sunset: this.string(value.sunset, [...path, 'sunset'], { pattern: DATE, hint: 'a date, YYYY-MM-DD' }),
      mask: this.mask(value.mask, [...path, 'mask']),
      quality: [],
      path: this.pathText(path),
    };
    property.quality = this.list(value.quality, [...path, 'quality']).map((q, i) => this.quality(q, [...path, 'quality', i], object, property));
    return property;
  }

  /** `purposes: [operations, marketing]`: distinct purposes, lowercase words joined by `-`. */
  private purposes(raw: unknown): string[] {
    const purposes = this.list(raw, ['purposes']).map((p, i) => this.string(p, ['purposes', i], { required: true, pattern: PURPOSE, hint: 'a purpose is lowercase words joined by "-", e.g. marketing' })!);
    purposes.forEach((p, i) => {
      if (purposes.indexOf(p) !== i) this.fail(['purposes', i], `duplicate purpose "${p}"`);
    });
    return purposes;
  }

  /** `mask: email`, or `mask: { kind: round, step: 100 }` (masks.ts). */
  private mask(raw: unknown, path: (string | number)[]): MaskSpec | null {
    if (raw === undefined || raw === null) return null;
    const parsed = parseMask(raw);
    if ('problem' in parsed) this.fail(parsed.key ? [...path, parsed.key] : path, parsed.problem);
    return parsed.spec;
  }

  private quality(raw: unknown, path: (string | number)[], object: OutputObject, property: OutputProperty | null): QualityRule {
    const value = this.record(raw, path);
    this.keys(value, path, QUALITY_KEYS);
    const type = this.oneOf(value.type, [...path, 'type'], ['library', 'sql', 'text', 'custom'] as const, value.query !== undefined ? 'sql' : 'library')!;
    if (type === 'text' || type === 'custom') this.fail([...path, 'type'], `"${type}" rules cannot be executed by the mesh; use a library metric or type: sql`);
    const where = property ? `${object.name}.${property.name}` : object.name;
    const id = this.string(value.id ?? value.name, [...path, 'id'], { required: true, pattern: /^[a-z0-9][a-z0-9_-]*$/, hint: 'kebab-case, e.g. orders-total-positive' })!;
    const rule: QualityRule = {
      id,
      description: this.string(value.description, [...path, 'description']),
      type,
      metric: null,
      query: null,
      arguments: {},
      comparator: this.comparator(value, path),
      unit: 'rows',
      severity: this.oneOf(value.severity, [...path, 'severity'], SEVERITIES, 'warning')!,
      dimension: this.string(value.dimension, [...path, 'dimension']),
      object: object.name,
      property: property?.name ?? null,
      table: object.physicalName,
      column: property ? (property.physicalName ?? property.name) : null,
      path: this.pathText(path),
    };
    if (type === 'sql') {
      rule.query = this.string(value.query, [...path, 'query'], { required: true });
      if (!/^\s*(select|with)\b/i.test(rule.query!)) this.fail([...path, 'query'], 'must be one SELECT statement returning one number');
      if (value.metric !== undefined) this.fail([...path, 'metric'], 'a sql rule has a query, not a metric');
      if (rule.query!.includes('${object}') && !rule.table) this.fail([...path, 'query'], `uses \${object} but ${object.name} has no physicalName`);
      rule.unit = this.oneOf(value.unit, [...path, 'unit'], ['rows', 'percent'] as const, 'rows')!;
      return rule;
    }
    const metric = this.oneOf(value.metric, [...path, 'metric'], METRICS);
    if (!metric) this.fail([...path, 'metric'], `missing (one of ${METRICS.join(', ')})`);
    rule.metric = metric;
    if (!rule.table) this.fail(path, `library metric ${metric} on ${where} needs the object's physicalName (the table it reads)`);
    const columnLevel = metric === 'nullValues' || metric === 'invalidValues' || metric === 'freshness';
    if (columnLevel && !property) this.fail([...path, 'metric'], `${metric} is a property-level metric: put it under a property's quality`);
    if (metric === 'rowCount' && property) this.fail([...path, 'metric'], 'rowCount is an object-level metric: put it under the object\'s quality');

    const args = value.arguments === undefined ? {} : this.record(value.arguments, [...path, 'arguments']);
    this.keys(args, [...path, 'arguments'], metric === 'invalidValues' ? ['validValues', 'minimum', 'maximum'] : metric === 'duplicateValues' && !property ? ['properties'] : []);
    if (metric === 'invalidValues') {
      if (args.validValues === undefined && args.minimum === undefined && args.maximum === undefined) {
        this.fail([...path, 'arguments'], 'invalidValues needs validValues, or a minimum and/or maximum');
      }
      if (args.validValues !== undefined) {
        const values = this.list(args.validValues, [...path, 'arguments', 'validValues']);
        values.forEach((v, i) => {
          if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) this.fail([...path, 'arguments', 'validValues', i], 'must be a scalar');
        });
        rule.arguments.validValues = values as (string | number | boolean | null)[];
      }
      for (const bound of ['minimum', 'maximum'] as const) {
        const b = args[bound];
        if (b === undefined) continue;
        if (typeof b !== 'number' && typeof b !== 'string') this.fail([...path, 'arguments', bound], 'must be a number or a string (ISO dates compare as text)');
        rule.arguments[bound] = b;
      }
    }
    if (metric === 'duplicateValues' && !property) {
      const names = this.list(args.properties, [...path, 'arguments', 'properties']);
      if (names.length === 0) this.fail([...path, 'arguments', 'properties'], 'an object-level duplicateValues rule lists the properties that together must be unique');
      rule.arguments.properties = names.map((n, i) => {
        const name = this.string(n, [...path, 'arguments', 'properties', i], { required: true, pattern: IDENTIFIER })!;
        return name;
      });
    }
    if (metric === 'freshness') {
      rule.unit = this.oneOf(value.unit, [...path, 'unit'], Object.keys(TIME_UNITS) as TimeUnit[]) ?? this.fail([...path, 'unit'], `missing (one of ${Object.keys(TIME_UNITS).join(', ')})`);
    } else if (metric === 'rowCount') {
      rule.unit = this.oneOf(value.unit, [...path, 'unit'], ['rows'] as const, 'rows')!;
    } else {
      rule.unit = this.oneOf(value.unit, [...path, 'unit'], ['rows', 'percent'] as const, 'rows')!;
    }
    return rule;
  }

  private comparator(value: Json, path: (string | number)[]): Comparator {
    const present = COMPARATORS.filter((c) => value[c] !== undefined);
    if (present.length !== 1) {
      this.fail(path, present.length === 0 ? `needs one comparator (${COMPARATORS.join(', ')})` : `has ${present.length} comparators (${present.join(', ')}); use exactly one`);
    }
    const name = present[0]!;
    const raw = value[name];
    if (name === 'mustBeBetween' || name === 'mustNotBeBetween') {
      if (!Array.isArray(raw) || raw.length !== 2 || raw.some((n) => typeof n !== 'number') || raw[0] > raw[1]) {
        this.fail([...path, name], 'must be [low, high], two numbers with low <= high');
      }
      return { name, value: [raw[0], raw[1]] };
    }
    if (typeof raw !== 'number') this.fail([...path, name], 'must be a number');
    return { name, value: raw };
  }

  /** Quality rule ids are unique within a product, and property names reference real properties. */
  private checkUnique(product: DataProduct) {
    const ids = new Map<string, string>();
    for (const port of product.outputPorts) {
      for (const object of port.schema) {
        for (const rule of [...object.quality, ...object.properties.flatMap((p) => p.quality)]) {
          const other = ids.get(rule.id);
          if (other) throw new DescriptorError(this.file, null, `${product.id}.${rule.path}.id`, `quality rule id "${rule.id}" is also used at ${other}`);
          ids.set(rule.id, rule.path);
        }
      }
    }
  }
}

