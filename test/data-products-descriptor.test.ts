import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { declaredFields } from '../subgraphs/mesh/data-products/classification.js';
import { outputFields } from '../subgraphs/mesh/data-products/accessors.js';
import { DescriptorError, DESCRIPTOR_FILE } from '../subgraphs/mesh/data-products/descriptor.js';
import { loadDescriptorFile, parseDescriptors } from '../subgraphs/mesh/data-products/descriptor-reader.js';
import { checkDescriptorsAgainstSchema } from '../subgraphs/mesh/data-products/schema-check.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { replaceOnce, startVariantMesh } from './helpers/data-products.js';

const descriptorOf = (domain: (typeof DOMAINS)[number]) => join(dirname(domain.schemaPath), DESCRIPTOR_FILE);
const MINIMAL = `apiVersion: v1.0.0
kind: DataProduct
id: widgets
name: Widgets
version: 1.0.0
status: active
domain: shop
outputPorts:
  - name: graphql
    type: graphql
    schema:
      - name: Widget
        physicalName: widgets
        properties:
          - name: id
            classification: internal
            quality:
              - { id: widget-id-unique, metric: duplicateValues, mustBe: 0, severity: critical }
`;

function descriptorError(text: string): DescriptorError {
  try {
    parseDescriptors(text, 'shop/data-products.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(DescriptorError);
    return error as DescriptorError;
  }
  throw new Error('expected a DescriptorError');
}

describe('the descriptors in this repository', () => {
  it.each(DOMAINS.map((d) => [d.name, d]))('%s declares at least one valid product, of its own domain', (name, domain) => {
    const products = loadDescriptorFile(descriptorOf(domain));
    expect(products.length).toBeGreaterThan(0);
    for (const p of products) {
      expect(p.domain).toBe(name);
      expect(p.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(p.status).toBe('active');
      expect(p.team?.name).toBeTruthy();
      expect(p.support.length).toBeGreaterThan(0);
    }
  });

  it('uses product ids that are unique across the mesh', () => {
    const ids = DOMAINS.flatMap((d) => loadDescriptorFile(descriptorOf(d)).map((p) => p.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['customer-profiles', 'product-catalog', 'order-history', 'sales-trends', 'invoices-payments', 'revenue-margin']));
  });

  it.each(DOMAINS.map((d) => [d.name, d]))('%s: descriptor and schema agree, and every output field is classified in both', (name, domain) => {
    const schema = parse(readFileSync(domain.schemaPath, 'utf8'));
    const products = loadDescriptorFile(descriptorOf(domain));
    expect(checkDescriptorsAgainstSchema(name, products, schema)).toEqual([]);
    const fields = declaredFields(schema);
    for (const p of products) {
      for (const { coordinate, property } of outputFields(p)) {
        expect(property.classification, coordinate).not.toBeNull();
        expect(fields.get(coordinate)?.classification, coordinate).toEqual({ level: property.classification, pii: property.pii });
      }
    }
  });

  it('classifies personal data as PII and finance figures as restricted', () => {
    const all = DOMAINS.flatMap((d) => loadDescriptorFile(descriptorOf(d)).flatMap(outputFields));
    const of = (coordinate: string) => all.find((f) => f.coordinate === coordinate)!.property;
    for (const c of ['Customer.lastName', 'Customer.fullName', 'Customer.email', 'Customer.phone', 'Customer.birthDate', 'Customer.consent']) {
      expect(of(c).pii, c).toBe(true);
    }
    expect(of('Customer.firstName').pii).toBe(false);
    for (const c of ['Invoice.total', 'Payment.amount', 'RevenueFigure.grossMargin', 'Product.unitCost', 'Customer.outstandingBalance']) {
      expect(of(c).classification, c).toBe('restricted');
    }
    expect(of('Order.total').classification).toBe('confidential');
    expect(of('Product.price').classification).toBe('public');
  });
});

describe('descriptor errors name the file, the line and the key', () => {
  it('accepts a minimal descriptor', () => {
    const [product] = parseDescriptors(MINIMAL, 'shop/data-products.yaml');
    expect(product).toMatchObject({ id: 'widgets', version: '1.0.0', status: 'active', source: { file: 'shop/data-products.yaml', line: 1 } });
  });

  it('rejects a misspelt key (clasification), with its path and line', () => {
    const error = descriptorError(replaceOnce(MINIMAL, 'classification: internal', 'clasification: internal'));
    expect(error.message).toMatch(/^shop\/data-products\.yaml:16: widgets\.outputPorts\[0\]\.schema\[0\]\.properties\[0\]\.clasification: unknown key/);
  });

  it('rejects a status outside the lifecycle', () => {
    expect(descriptorError(replaceOnce(MINIMAL, 'status: active', 'status: live')).message).toBe(
      'shop/data-products.yaml:6: widgets.status: "live" is not one of proposed, draft, active, deprecated, retired',
    );
  });

  it('rejects a version that is not semver', () => {
    expect(descriptorError(replaceOnce(MINIMAL, 'version: 1.0.0', 'version: v1')).message).toMatch(/widgets\.version: "v1" is not valid: a semantic version/);
  });

  it('rejects an unknown classification level', () => {
    expect(descriptorError(replaceOnce(MINIMAL, 'classification: internal', 'classification: secret')).message).toMatch(
      /:16: widgets\.outputPorts\[0\]\.schema\[0\]\.properties\[0\]\.classification: "secret" is not one of public, internal, confidential, restricted/,
    );
  });

  it('rejects a quality rule without a comparator, or with two', () => {
    expect(descriptorError(replaceOnce(MINIMAL, ', mustBe: 0', '')).message).toMatch(/quality\[0\]: needs one comparator/);
    expect(descriptorError(replaceOnce(MINIMAL, 'mustBe: 0', 'mustBe: 0, mustBeLessThan: 1')).message).toMatch(/has 2 comparators \(mustBe, mustBeLessThan\)/);
  });

  it('rejects a property-level metric placed on an object, and a library metric without a table', () => {
    const onObject = MINIMAL + '        quality:\n          - { id: no-nulls, metric: nullValues, mustBe: 0 }\n';
    expect(descriptorError(onObject).message).toMatch(/schema\[0\]\.quality\[0\]\.metric: nullValues is a property-level metric/);
    expect(descriptorError(replaceOnce(MINIMAL, '        physicalName: widgets\n', '')).message).toMatch(/needs the object's physicalName/);
  });

  it('rejects a duplicate key and a duplicate product id', () => {
    expect(descriptorError(replaceOnce(MINIMAL, 'name: Widgets\n', 'name: Widgets\nname: Gadgets\n')).message).toMatch(/^shop\/data-products\.yaml:5: document 1: duplicate key/);
    expect(descriptorError(`${MINIMAL}---\n${MINIMAL}`).message).toMatch(/widgets\.id: duplicate product id "widgets" \(also document 1\)/);
  });

  it('rejects a product without an id, naming the document', () => {
    expect(descriptorError(replaceOnce(MINIMAL, 'id: widgets\n', '')).message).toBe('shop/data-products.yaml:1: document 1.id: missing');
  });

  it('reports a YAML syntax error with its line', () => {
    expect(descriptorError(replaceOnce(MINIMAL, 'name: Widgets', 'name: [Widgets')).message).toMatch(/^shop\/data-products\.yaml:\d+: document 1: invalid YAML/);
  });
});

describe('descriptor and schema must not contradict each other', () => {
  const sales = DOMAINS.find((d) => d.name === 'sales')!;
  const salesSchema = parse(readFileSync(sales.schemaPath, 'utf8'));
  const salesYaml = readFileSync(descriptorOf(sales), 'utf8');
  const check = (yaml: string) => checkDescriptorsAgainstSchema('sales', parseDescriptors(yaml, 'sales.yaml'), salesSchema);

  it('finds a classification the descriptor and the directive disagree on', () => {
    const [c] = check(replaceOnce(salesYaml, '{ name: lifetimeValue, classification: confidential,', '{ name: lifetimeValue, classification: public,'));
    expect(c).toMatchObject({ product: 'order-history', coordinate: 'Customer.lifetimeValue' });
    expect(c!.problem).toBe("the descriptor says public, the schema's @classification says confidential");
  });

  it('finds an output the subgraph does not define, an @external one, and a domain that is not the subgraph', () => {
    expect(check(replaceOnce(salesYaml, '{ name: orderCount, classification: internal }', '{ name: orderTotal, classification: internal }'))[0]).toMatchObject({
      coordinate: 'Customer.orderTotal',
      problem: 'subgraph sales does not define Customer.orderTotal',
    });
    expect(check(replaceOnce(salesYaml, 'domain: sales\ntags: [orders', 'domain: orders\ntags: [orders'))[0]!.problem).toBe(
      'declares domain "orders" but is served by subgraph "sales"',
    );
    const finance = DOMAINS.find((d) => d.name === 'finance')!;
    const financeYaml = readFileSync(descriptorOf(finance), 'utf8');
    const external = checkDescriptorsAgainstSchema(
      'finance',
      parseDescriptors(replaceOnce(financeYaml, '          - { name: unitMargin }', '          - { name: unitMargin }\n          - { name: price }'), 'finance.yaml'),
      parse(readFileSync(finance.schemaPath, 'utf8')),
    );
    expect(external[0]).toMatchObject({ coordinate: 'Product.price', problem: 'Product.price is @external in finance: another subgraph resolves it' });
  });

  it('finds a sunset date on a field the schema does not deprecate', () => {
    const [c] = check(replaceOnce(salesYaml, '{ name: orderCount, classification: internal }', '{ name: orderCount, classification: internal, sunset: 2027-01-31 }'));
    expect(c!.problem).toMatch(/gives a sunset date \(2027-01-31\) but the schema does not deprecate the field/);
  });

  it('makes a subgraph refuse to start, naming the coordinate and how to fix it', async () => {
    await expect(
      startVariantMesh({ sales: { descriptor: (y) => replaceOnce(y, '{ name: lifetimeValue, classification: confidential,', '{ name: lifetimeValue, classification: internal,') } }),
    ).rejects.toThrow(/the data product descriptor of sales contradicts its schema:\n {2}- .*data-products\.yaml: order-history\.outputPorts\[0\]\.schema\[3\]\.properties\[2\]: Customer\.lifetimeValue: the descriptor says internal, the schema's @classification says confidential \(fix: make them agree/);
  });
});
