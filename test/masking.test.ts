import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES_FILE } from '../gateway/config/gateway-config.js';
import { ConfigError } from '../gateway/config/config-error.js';
import { MaskingPolicy } from '../gateway/masking/masking-policy.js';
import { startGateway, type RunningGateway } from '../gateway/server/gateway-server.js';
import { Supergraph } from '../gateway/supergraph/supergraph.js';
import { parseDescriptors } from '../subgraphs/mesh/data-products/descriptor-reader.js';
import { applyMask, parseMask } from '../subgraphs/mesh/data-products/masks.js';
import { checkDescriptorsAgainstSchema } from '../subgraphs/mesh/data-products/schema-check.js';
import { IdentitySigner, IDENTITY_HEADER } from '../subgraphs/mesh/identity.js';
import { DOMAINS } from '../subgraphs/registry.js';
import { replaceOnce } from './helpers/data-products.js';
import { postGraphQL, startMesh, TEST_SIGNING_KEY, testConfig, token, type TestMesh } from './helpers/mesh.js';

const bearer = async (scopes: string[], claims: Record<string, unknown> = {}) => ({ authorization: `Bearer ${await token(scopes, claims)}` });
const PROFILE = '{ customer(id: "42") { id firstName lastName fullName email phone birthDate region } }';

describe('masks', () => {
  it('mask each kind of value and keep null, lists and the type', () => {
    const mask = (raw: unknown, value: unknown) => applyMask((parseMask(raw) as { spec: any }).spec, value);
    expect(mask('email', 'oliver.okafor42@example.com')).toBe('o***@example.com');
    expect(mask('phone-last4', '+1601434420')).toBe('+******4420');
    expect(mask('year-only', '1964-12-15')).toBe('1964');
    expect(mask('initials', 'Oliver Okafor')).toBe('O. O.');
    expect(mask('redact', 'anything at all')).toBe('[redacted]');
    expect(mask({ kind: 'round', step: 100 }, 4321.5)).toBe(4300);
    expect(mask({ kind: 'bucket', bounds: [0, 1000, 5000] }, 4321.5)).toBe(1000);
    expect(mask('email', null)).toBeNull();
    expect(mask('year-only', ['1964-12-15', null])).toEqual(['1964', null]);
  });

  it('refuse an unknown mask or bad options in a descriptor, naming the file, line and key', () => {
    const yaml = readFileSync(join('subgraphs/customers', 'data-products.yaml'), 'utf8');
    expect(() => parseDescriptors(replaceOnce(yaml, 'mask: email', 'mask: scramble'), 'customers.yaml')).toThrow(
      /^customers\.yaml:\d+: customer-profiles\.outputPorts\[0\]\.schema\[1\]\.properties\[\d+\]\.mask: "scramble" is not a mask \(one of email, phone-last4, year-only, initials, redact, round, bucket\)$/,
    );
    expect(() => parseDescriptors(replaceOnce(yaml, 'mask: email', 'mask: { kind: round, step: -5 }'), 'customers.yaml')).toThrow(/\.mask\.step: must be a positive number$/);
    expect(() => parseDescriptors(replaceOnce(yaml, 'mask: email', 'mask: { kind: bucket, bounds: [10, 5] }'), 'customers.yaml')).toThrow(/\.mask\.bounds: must be in ascending order/);
  });

  it('must fit the field: a text mask on a number, or a mask on a key, contradicts the schema', () => {
    const customers = DOMAINS.find((d) => d.name === 'customers')!;
    const schema = parse(readFileSync(customers.schemaPath, 'utf8'));
    const yaml = readFileSync(join('subgraphs/customers', 'data-products.yaml'), 'utf8');
    const check = (text: string) => checkDescriptorsAgainstSchema('customers', parseDescriptors(text, 'customers.yaml'), schema);
    expect(check(yaml)).toEqual([]);
    const [onRound] = check(replaceOnce(yaml, 'mask: email', 'mask: round'));
    expect(onRound).toMatchObject({ coordinate: 'Customer.email', problem: "mask round fits Float or Int fields, but the field's type is String" });
    const [onKey] = check(replaceOnce(yaml, '            primaryKey: true\n', '            primaryKey: true\n            mask: redact\n'));
    expect(onKey).toMatchObject({ coordinate: 'Customer.id', problem: 'mask redact on a key field: other subgraphs join the entity by it' });
  });
});

describe('masking rules (gateway/governance/masking.yaml)', () => {
  const classifications = Supergraph.fromSdl(readFileSync('supergraph.graphql', 'utf8')).facts.classifications;
  const load = (text: string) => MaskingPolicy.fromText(text, 'masking.yaml', classifications);

  it('loads the mesh file and decides per caller, first matching rule first', () => {
    const policy = MaskingPolicy.load(join('gateway/governance/masking.yaml'), classifications);
    const support = policy.forCaller({ scopes: new Set(['customers:pii:masked']), claims: {} });
    expect([...support.masked].filter((c) => c.startsWith('Customer.')).sort()).toEqual(
      expect.arrayContaining(['Customer.birthDate', 'Customer.email', 'Customer.fullName', 'Customer.lastName', 'Customer.lifetimeValue', 'Customer.phone']),
    );
    const both = policy.forCaller({ scopes: new Set(['customers:pii:masked', 'customers:pii:read']), claims: {} });
    expect(both.masked.has('Customer.email')).toBe(false);
    const executive = policy.forCaller({ scopes: new Set(), claims: { role: 'executive' } });
    expect([...executive.masked]).toEqual(['Customer.outstandingBalance']);
    expect(policy.forCaller({ scopes: new Set(), claims: { role: 'executive', department: 'finance' } }).masked.size).toBe(0);
  });

  it('refuse mistakes, naming the file, line and key (a field this supergraph lacks is only a warning)', () => {
    const error = (text: string) => {
      try {
        load(text);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(error('rules:\n  - id: a\n    when: "true"\n    decision: hide\n')).toBe('masking.yaml:4: rules[0].decision: "hide" is not one of allow, mask, deny');
    expect(error('rules:\n  - id: a\n    when: "scopes in in"\n    decision: mask\n')).toMatch(/^masking\.yaml:3: rules\[0\]\.when: invalid CEL/);
    expect(load('rules:\n  - id: a\n    fields: { coordinates: [Customer.nope] }\n    when: "true"\n    decision: mask\n').warnings).toEqual([
      'masking.yaml:3: rules[0].fields.coordinates[0]: Customer.nope is not a classified field of this supergraph; the rule does not apply to it',
    ]);
    expect(error('rules:\n  - id: a\n    fields: { level: [PUBLIC] }\n    when: "true"\n    decision: mask\n')).toMatch(/rules\[0\]\.fields\.level: unknown key \(allowed here: classification, pii, coordinates\)$/);
    expect(error('rules:\n  - id: a\n    fields: { classification: [SECRET] }\n    when: "true"\n    decision: mask\n')).toMatch(/rules\[0\]\.fields\.classification\[0\]: "SECRET" is not one of PUBLIC/);
    expect(error('masks: []\n')).toBe('masking.yaml:1: masks: unknown key (allowed: rules)');
  });

  it('deny the fields of a rule whose expression fails to evaluate', () => {
    const policy = load('rules:\n  - id: a\n    fields: { pii: true }\n    when: \'claims.team == "x"\'\n    decision: allow\n');
    expect(policy.forCaller({ scopes: new Set(), claims: {} }).decisions.get('Customer.email')).toBe('deny');
  });
});

describe('masking on the mesh', () => {
  let mesh: TestMesh;
  const extra: RunningGateway[] = [];
  beforeAll(async () => {
    mesh = await startMesh();
  });
  afterAll(async () => {
    await Promise.all(extra.map((g) => g.close()));
    await mesh?.close();
  });
  const customer = () => mesh.database('customers').prepare('SELECT * FROM customers WHERE id = 42').get() as Record<string, string>;

  it('shows Customer.email, phone, birth date and names masked to customers:pii:masked, and lists them in extensions.masked', async () => {
    const { status, body } = await mesh.query(PROFILE, undefined, await bearer(['customers:pii:masked']));
    const row = customer();
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.customer).toEqual({
      id: '42',
      firstName: row.first_name,
      lastName: `${row.last_name[0]}.`,
      fullName: `${row.first_name[0]}. ${row.last_name[0]}.`,
      email: `${row.email[0]}***@example.com`,
      phone: `${row.phone.slice(0, 1)}${'*'.repeat(row.phone.length - 5)}${row.phone.slice(-4)}`,
      birthDate: row.birth_date.slice(0, 4),
      region: row.region,
    });
    expect(body.extensions?.masked).toEqual(['Customer.birthDate', 'Customer.email', 'Customer.fullName', 'Customer.lastName', 'Customer.phone']);
  });

  it('keeps them unauthorized without customers:pii:read or customers:pii:masked, and in full with customers:pii:read', async () => {
    const none = await mesh.query('{ customer(id: "42") { id phone birthDate } }', undefined, await bearer(['sales:read']));
    expect(none.body.data.customer).toEqual({ id: '42', phone: null, birthDate: null });
    expect(none.body.errors!.map((e: any) => e.extensions.code)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE', 'UNAUTHORIZED_FIELD_OR_TYPE']);
    expect(none.body.extensions?.masked).toBeUndefined();
    const full = await mesh.query('{ customer(id: "42") { email birthDate } }', undefined, await bearer(['customers:pii:read', 'customers:pii:masked']));
    expect(full.body.data.customer).toEqual({ email: customer().email, birthDate: customer().birth_date });
    expect(full.body.extensions?.masked).toBeUndefined();
  });

  it('masks inside the subgraph: asked directly with a masked identity, the customers subgraph never returns the value', async () => {
    const signer = new IdentitySigner(TEST_SIGNING_KEY);
    const header = await signer.header({ authenticated: true, subject: 'support', scopes: ['customers:pii:masked'], claims: {}, masked: new Set(['Customer.email', 'Customer.phone']) });
    const response = await postGraphQL(
      mesh.subgraphs.customers!.url,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { email phone birthDate } } }',
      { r: [{ __typename: 'Customer', id: '42' }] },
      { [IDENTITY_HEADER]: header },
    );
    const row = customer();
    expect(response.body.data._entities[0]).toEqual({ email: `${row.email[0]}***@example.com`, phone: expect.stringMatching(/^\+\*+\d{4}$/), birthDate: row.birth_date });
    expect(JSON.stringify(response.body)).not.toContain(row.email);
  });

  it('refuses, in the subgraph, a field it is told to mask but that declares no mask (MASK_NOT_DECLARED)', async () => {
    const header = await new IdentitySigner(TEST_SIGNING_KEY).header({ authenticated: true, subject: 's', scopes: [], claims: {}, masked: new Set(['Customer.city']) });
    const response = await postGraphQL(mesh.subgraphs.customers!.url, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { city } } }', { r: [{ __typename: 'Customer', id: '42' }] }, { [IDENTITY_HEADER]: header });
    expect(response.body.errors![0]!.extensions!.code).toBe('MASK_NOT_DECLARED');
    expect(JSON.stringify(response.body)).not.toContain(customer().city);
  });

  it('denies personal data without a mask to a masked-only caller (consent has none)', async () => {
    const { body } = await mesh.query('{ customer(id: "42") { email consent { emailOptIn } } }', undefined, await bearer(['customers:pii:masked', 'marketing:consent:read']));
    expect(body.data.customer.email).toMatch(/^o\*\*\*@example\.com$/);
    expect(body.data.customer.consent).toBeNull();
    expect(body.errors).toEqual([expect.objectContaining({ path: ['customer', 'consent'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } })]);
  });

  it('rounds the outstanding balance for executives outside finance, and gives finance the exact amount', async () => {
    const query = '{ customer(id: "42") { outstandingBalance } }';
    const finance = await mesh.query(query, undefined, await bearer([], { department: 'finance' }));
    const executive = await mesh.query(query, undefined, await bearer([], { role: 'executive' }));
    const exact = finance.body.data.customer.outstandingBalance as number;
    expect(finance.body.extensions?.masked).toBeUndefined();
    expect(executive.body.errors).toBeUndefined();
    expect(executive.body.data.customer.outstandingBalance).toBe(Math.round(exact / 100) * 100);
    expect(executive.body.extensions!.masked).toEqual(['Customer.outstandingBalance']);
    const other = await mesh.query(query, undefined, await bearer([], { role: 'analyst' }));
    expect(other.body.errors![0]!.extensions!.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
  });

  it('buckets the lifetime value for support staff', async () => {
    const query = '{ customer(id: "42") { lifetimeValue } }';
    const exact = (await mesh.query(query, undefined, await bearer([]))).body.data.customer.lifetimeValue as number;
    const support = await mesh.query(query, undefined, await bearer(['customers:pii:masked']));
    const bounds = [0, 1000, 5000, 10000, 25000, 50000];
    expect(support.body.data.customer.lifetimeValue).toBe(bounds.filter((b) => exact >= b).at(-1));
    expect(support.body.extensions!.masked).toEqual(['Customer.lifetimeValue']);
  });

  it('works the same in reject and dry_run modes', async () => {
    for (const mode of ['reject', 'dry_run'] as const) {
      const gateway = await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ authorizationMode: mode }) });
      extra.push(gateway);
      const masked = await postGraphQL(gateway.graphqlUrl, PROFILE, undefined, await bearer(['customers:pii:masked']));
      expect(masked.status, mode).toBe(200);
      expect(masked.body.errors, mode).toBeUndefined();
      expect(masked.body.data.customer.email, mode).toBe(`${customer().email[0]}***@example.com`);
      expect(masked.body.extensions!.masked, mode).toContain('Customer.email');
      const denied = await postGraphQL(gateway.graphqlUrl, PROFILE, undefined, await bearer([]));
      if (mode === 'reject') {
        expect(denied.status).toBe(403);
        expect(denied.body.data).toBeUndefined();
      } else {
        // dry_run: the value, and the error that filter mode would have raised.
        expect(denied.body.data.customer.email).toBe(customer().email);
        expect(denied.body.errors!.some((e: any) => e.path?.join('.') === 'customer.email')).toBe(true);
      }
    }
  });

  it('lets the governance deny a field the directives allow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'masking-'));
    copyFileSync(DEFAULT_POLICIES_FILE, join(dir, 'policies.yaml'));
    writeFileSync(join(dir, 'masking.yaml'), 'rules:\n  - id: phones-need-more\n    fields: { coordinates: [Customer.phone] }\n    when: "!(\\"phones:read\\" in scopes)"\n    decision: deny\n');
    const gateway = await startGateway({ supergraphSdl: mesh.supergraphSdl, port: 0, config: testConfig({ policiesFile: join(dir, 'policies.yaml') }) });
    extra.push(gateway);
    const denied = await postGraphQL(gateway.graphqlUrl, '{ customer(id: "42") { email phone } }', undefined, await bearer(['customers:pii:read']));
    expect(denied.body.data.customer).toEqual({ email: customer().email, phone: null });
    expect(denied.body.errors).toEqual([expect.objectContaining({ path: ['customer', 'phone'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } })]);
    const allowed = await postGraphQL(gateway.graphqlUrl, '{ customer(id: "42") { phone } }', undefined, await bearer(['customers:pii:read', 'phones:read']));
    expect(allowed.body.data.customer.phone).toBe(customer().phone);
  });

  it('shows each field mask in the catalog', async () => {
    const { body } = await mesh.query('{ dataProduct(id: "customer-profiles") { fields(pii: true) { coordinate mask { kind description example } } } }');
    const masks = Object.fromEntries(body.data.dataProduct.fields.map((f: any) => [f.coordinate, f.mask?.kind ?? null]));
    expect(masks).toEqual({ 'Customer.lastName': 'initials', 'Customer.fullName': 'initials', 'Customer.email': 'email', 'Customer.phone': 'phone-last4', 'Customer.birthDate': 'year-only' });
    const email = body.data.dataProduct.fields.find((f: any) => f.coordinate === 'Customer.email').mask;
    expect(email.example).toBe('ola.nordmann@example.com → o***@example.com');
    const finance = await mesh.query('{ dataProduct(id: "invoices-payments") { fields { coordinate mask { kind description } } } }');
    expect(finance.body.data.dataProduct.fields.find((f: any) => f.coordinate === 'Customer.outstandingBalance').mask).toEqual({ kind: 'round', description: 'Amount rounded to the nearest 100' });
  });
});
