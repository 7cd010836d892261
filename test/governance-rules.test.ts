import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSubgraphs, loadSubgraphSchemas } from '../gateway/composition/compose-supergraph.js';
import { loadSupergraphConfig } from '../gateway/config/supergraph-config.js';
import { formatViolation, governanceInput, loadRuleSeverities, runGovernance, type Violation } from '../gateway/governance/governance.js';
import { RULES, type RuleSeverity } from '../gateway/governance/rules.js';
import { Supergraph } from '../gateway/supergraph/supergraph.js';
import { parseDescriptors } from '../subgraphs/mesh/data-products/descriptor-reader.js';
import { main as composeMain } from '../gateway/cli/compose.js';
import { ROOT, runMain } from './helpers/cli.js';
import { replaceOnce } from './helpers/data-products.js';

/** A small governed subgraph that passes every rule; each test breaks one thing. */
const SCHEMA = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@requiresScopes", "@composeDirective"])
  @link(url: "https://data-mesh.example.com/governance/v1.0", import: ["@classification"])
  @composeDirective(name: "@classification")

directive @classification(level: ClassificationLevel!, pii: Boolean! = false) on FIELD_DEFINITION
enum ClassificationLevel { PUBLIC INTERNAL CONFIDENTIAL RESTRICTED }

type Member @key(fields: "id") {
  id: ID! @classification(level: INTERNAL)
  "Contact e-mail."
  email: String! @requiresScopes(scopes: [["members:pii:read"]]) @classification(level: CONFIDENTIAL, pii: true)
  tier: Tier! @classification(level: INTERNAL)
}

enum Tier { GOLD SILVER }

type Query {
  member(id: ID!): Member @classification(level: INTERNAL)
}
`;
const DESCRIPTOR = `apiVersion: v1.0.0
kind: DataProduct
id: members
name: Members
version: 1.0.0
status: active
domain: shop
team:
  name: Shop Data
  members: [{ username: owner, role: owner, email: owner@example.com }]
support:
  - { channel: shop-data@example.com, tool: email }
slaProperties:
  - { property: availability, value: 99.5, unit: percent }
outputPorts:
  - name: graphql
    type: graphql
    schema:
      - name: Query
        properties:
          - { name: member, classification: internal }
      - name: Member
        properties:
          - { name: id, classification: internal }
          - { name: email, classification: confidential, pii: true }
          - { name: tier, classification: internal }
`;

const ALL_FAIL = new Map<string, RuleSeverity>(RULES.map((r) => [r.id, 'fail']));

function govern(schema = SCHEMA, descriptor: string | null = DESCRIPTOR, extra: { name: string; schema: string }[] = []): Violation[] {
  const subgraphs = [{ name: 'shop', schema, descriptor }, ...extra.map((e) => ({ ...e, descriptor: null }))];
  const { supergraphSdl } = composeSubgraphs(subgraphs.map((s, i) => ({ name: s.name, url: `http://localhost:${4100 + i}/graphql`, typeDefs: parse(s.schema) })));
  return runGovernance(
    {
      supergraph: Supergraph.fromSdl(supergraphSdl),
      today: '2026-11-21',
      subgraphs: subgraphs.map((s) => ({
        name: s.name,
        typeDefs: parse(s.schema),
        descriptorFile: s.descriptor ? `${s.name}/data-products.yaml` : null,
        products: s.descriptor ? parseDescriptors(s.descriptor, `${s.name}/data-products.yaml`) : [],
      })),
    },
    ALL_FAIL,
  ).violations;
}
const only = (violations: Violation[], rule: string) => violations.filter((v) => v.rule === rule);

describe('the mesh governance rules', () => {
  it('finds nothing wrong with a complete, consistent product', () => {
    expect(govern()).toEqual([]);
  });

  it('lists every rule with a description and a default, and the shipped rules.yaml sets each', () => {
    expect(RULES.map((r) => r.id)).toEqual([
      'descriptor-matches-schema',
      'output-classified',
      'sensitive-fields-protected',
      'pii-not-public',
      'product-has-owner',
      'product-has-sla',
      'product-has-status',
      'retired-not-served',
      'deprecated-has-sunset',
      'sunset-not-passed',
      'naming-convention',
      'output-owned',
      'subgraph-declares-products',
    ]);
    for (const rule of RULES) expect(rule.description.length, rule.id).toBeGreaterThan(20);
    const shipped = readFileSync(new URL('../gateway/governance/rules.yaml', import.meta.url), 'utf8');
    for (const rule of RULES) expect(shipped).toMatch(new RegExp(`^  ${rule.id}: (fail|warn|off)$`, 'm'));
  });

  it('descriptor-matches-schema: the descriptor and the @classification directive disagree', () => {
    const [v, ...rest] = govern(SCHEMA, replaceOnce(DESCRIPTOR, '{ name: email, classification: confidential, pii: true }', '{ name: email, classification: restricted, pii: true }'));
    expect(rest).toEqual([]);
    expect(v).toMatchObject({ rule: 'descriptor-matches-schema', coordinate: 'Member.email', subgraph: 'shop', product: 'members' });
    expect(formatViolation(v!)).toBe(
      "fail [descriptor-matches-schema] at Member.email (subgraph shop, product members): the descriptor says restricted (PII), the schema's @classification says confidential (PII) " +
        '(shop/data-products.yaml: members.outputPorts[0].schema[1].properties[1]). Fix: make them agree: change the descriptor or the directive.',
    );
  });

  it('output-classified: an output field without a classification anywhere', () => {
    const violations = govern(
      replaceOnce(SCHEMA, 'tier: Tier! @classification(level: INTERNAL)', 'tier: Tier!'),
      replaceOnce(DESCRIPTOR, '{ name: tier, classification: internal }', '{ name: tier }'),
    );
    expect(violations.map((v) => v.rule)).toEqual(['output-classified']);
    expect(formatViolation(violations[0]!)).toMatch(
      /^fail \[output-classified\] at Member\.tier \(subgraph shop, product members\): output of members, but not classified\. Fix: add @classification\(level: PUBLIC\|INTERNAL\|CONFIDENTIAL\|RESTRICTED\) to Member\.tier in subgraphs\/shop\/schema\.graphql/,
    );
  });

  it('sensitive-fields-protected: a PII field anyone can read, with the path that exposes it', () => {
    const [v, ...rest] = govern(replaceOnce(SCHEMA, ' @requiresScopes(scopes: [["members:pii:read"]])', ''));
    expect(rest).toEqual([]);
    expect(v).toMatchObject({ rule: 'sensitive-fields-protected', coordinate: 'Member.email', product: 'members' });
    expect(v!.message).toBe('PII field readable without any authorization (via Query.member → Member.email)');
    expect(v!.fix).toMatch(/^add @authenticated, @requiresScopes or @policy to Member\.email/);
  });

  it('sensitive-fields-protected: a restricted field is fine when every path to it is protected', () => {
    const schema = replaceOnce(
      replaceOnce(SCHEMA, 'tier: Tier! @classification(level: INTERNAL)', 'tier: Tier! @classification(level: INTERNAL)\n  card: Card @requiresScopes(scopes: [["billing"]]) @classification(level: RESTRICTED)'),
      'enum Tier',
      'type Card { number: String! @classification(level: RESTRICTED) }\n\nenum Tier',
    );
    const descriptor = DESCRIPTOR.replace(
      '          - { name: tier, classification: internal }\n',
      '          - { name: tier, classification: internal }\n          - { name: card, classification: restricted }\n      - name: Card\n        properties:\n          - { name: number, classification: restricted }\n',
    );
    expect(govern(schema, descriptor)).toEqual([]);
    const exposed = govern(schema.replace('card: Card @requiresScopes(scopes: [["billing"]])', 'card: Card'), descriptor);
    expect(exposed.map((v) => [v.rule, v.coordinate, v.message])).toEqual([
      ['sensitive-fields-protected', 'Card.number', 'restricted field readable without any authorization (via Query.member → Member.card → Card.number)'],
      ['sensitive-fields-protected', 'Member.card', 'restricted field readable without any authorization (via Query.member → Member.card)'],
    ]);
  });

  it('pii-not-public: personal data classified public', () => {
    const violations = govern(
      replaceOnce(SCHEMA, '@classification(level: CONFIDENTIAL, pii: true)', '@classification(level: PUBLIC, pii: true)'),
      replaceOnce(DESCRIPTOR, '{ name: email, classification: confidential, pii: true }', '{ name: email, classification: public, pii: true }'),
    );
    expect(violations.map((v) => [v.rule, v.coordinate])).toEqual([['pii-not-public', 'Member.email']]);
  });

  it('product-has-owner: no team and no contact', () => {
    const descriptor = DESCRIPTOR.replace(/team:\n.*\n.*\nsupport:\n.*\n/, '');
    expect(only(govern(SCHEMA, descriptor), 'product-has-owner').map((v) => v.message)).toEqual([
      'no owning team (team.name) (shop/data-products.yaml:1)',
      'no contact (support channel or a team member with an e-mail) (shop/data-products.yaml:1)',
    ]);
  });

  it('product-has-sla: no freshness, availability or latency target', () => {
    const violations = govern(SCHEMA, replaceOnce(DESCRIPTOR, 'slaProperties:\n  - { property: availability, value: 99.5, unit: percent }\n', ''));
    expect(violations.map((v) => [v.rule, v.product])).toEqual([['product-has-sla', 'members']]);
    expect(violations[0]!.fix).toMatch(/add slaProperties/);
  });

  it('product-has-status: no lifecycle status', () => {
    expect(govern(SCHEMA, replaceOnce(DESCRIPTOR, 'status: active\n', '')).map((v) => v.rule)).toEqual(['product-has-status']);
  });

  it('retired-not-served: a retired product whose fields are still in the supergraph', () => {
    const violations = only(govern(SCHEMA, replaceOnce(DESCRIPTOR, 'status: active', 'status: retired')), 'retired-not-served');
    expect(violations.map((v) => v.coordinate)).toEqual(['Query.member', 'Member.id', 'Member.email', 'Member.tier']);
    expect(formatViolation(violations[0]!)).toBe(
      'fail [retired-not-served] at Query.member (subgraph shop, product members): still served, but members is retired. ' +
        'Fix: remove Query.member from subgraphs/shop/schema.graphql (consumers were warned by its deprecation), or set the product back to deprecated.',
    );
  });

  it('deprecated-has-sunset: a deprecated product or field without a sunset date', () => {
    const deprecatedProduct = govern(SCHEMA, replaceOnce(DESCRIPTOR, 'status: active', 'status: deprecated'));
    expect(deprecatedProduct.map((v) => [v.rule, v.message])).toEqual([['deprecated-has-sunset', 'deprecated without a sunset date (shop/data-products.yaml:1)']]);
    const deprecatedField = govern(replaceOnce(SCHEMA, 'tier: Tier! @classification(level: INTERNAL)', 'tier: Tier! @classification(level: INTERNAL) @deprecated(reason: "Use status")'));
    expect(deprecatedField.map((v) => [v.rule, v.coordinate])).toEqual([['deprecated-has-sunset', 'Member.tier']]);
    const withDates = govern(
      replaceOnce(SCHEMA, 'tier: Tier! @classification(level: INTERNAL)', 'tier: Tier! @classification(level: INTERNAL) @deprecated(reason: "Use status")'),
      replaceOnce(
        replaceOnce(DESCRIPTOR, '{ name: tier, classification: internal }', '{ name: tier, classification: internal, sunset: 2027-01-31 }'),
        'status: active',
        'status: deprecated',
      ).replace('  - { property: availability', '  - { property: endOfLife, value: 2027-06-30 }\n  - { property: availability'),
    );
    expect(withDates).toEqual([]);
  });

  it('sunset-not-passed: a deprecated field still served after its sunset date', () => {
    const violations = govern(
      replaceOnce(SCHEMA, 'tier: Tier! @classification(level: INTERNAL)', 'tier: Tier! @classification(level: INTERNAL) @deprecated(reason: "Use status")'),
      replaceOnce(DESCRIPTOR, '{ name: tier, classification: internal }', '{ name: tier, classification: internal, sunset: 2026-01-31 }'),
    );
    expect(violations.map((v) => [v.rule, v.coordinate, v.message])).toEqual([['sunset-not-passed', 'Member.tier', 'sunset date 2026-01-31 has passed but the field is still served']]);
  });

  it('naming-convention: a product id that is not kebab-case, an enum value that is not SCREAMING_SNAKE_CASE', () => {
    const violations = govern(replaceOnce(SCHEMA, 'enum Tier { GOLD SILVER }', 'enum Tier { GOLD silver }'), replaceOnce(DESCRIPTOR, 'id: members', 'id: Members_V1'));
    expect(violations.map((v) => [v.rule, v.coordinate, v.message, v.fix])).toEqual([
      ['naming-convention', null, 'product id "Members_V1" is not kebab-case', 'rename it, e.g. members-v1'],
      ['naming-convention', 'Tier.silver', 'enum value silver is not SCREAMING_SNAKE_CASE', expect.stringMatching(/^rename it/)],
    ]);
  });

  it('output-owned: a field a governed subgraph serves outside any product', () => {
    const violations = govern(replaceOnce(SCHEMA, '  tier: Tier!', '  nickname: String @classification(level: INTERNAL)\n  tier: Tier!'));
    expect(violations.map((v) => [v.rule, v.coordinate, v.subgraph])).toEqual([['output-owned', 'Member.nickname', 'shop']]);
  });

  it('subgraph-declares-products: a subgraph without a descriptor (its fields are not output-owned findings)', () => {
    const violations = govern(SCHEMA, DESCRIPTOR, [{ name: 'reviews', schema: 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])\ntype Review { stars: Int! }\ntype Query { reviews: [Review!]! }' }]);
    expect(violations.map((v) => [v.rule, v.subgraph, v.message])).toEqual([['subgraph-declares-products', 'reviews', 'declares no data products: its fields are ungoverned']]);
  });
});

// The compose CLI's main in this process: the same parsing, rules, output and exit codes as
// `npm run compose` (compose.test.ts runs the real process too), without a process start per case.
describe('npm run compose runs the rules', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'governance-'));
    mkdirSync(join(dir, 'shop'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function project(schema: string, descriptor = DESCRIPTOR, rules?: string) {
    writeFileSync(join(dir, 'shop', 'schema.graphql'), schema);
    writeFileSync(join(dir, 'shop', 'data-products.yaml'), descriptor);
    writeFileSync(join(dir, 'supergraph.yaml'), 'subgraphs:\n  shop:\n    routing_url: http://localhost:4101/graphql\n    schema:\n      file: ./shop/schema.graphql\n');
    const args = ['--config', join(dir, 'supergraph.yaml'), '--output', join(dir, 'out.graphql')];
    if (rules !== undefined) {
      writeFileSync(join(dir, 'rules.yaml'), rules);
      args.push('--rules', join(dir, 'rules.yaml'));
    }
    rmSync(join(dir, 'out.graphql'), { force: true });
    return args;
  }

  it('fails the composition on a violation, with the coordinate, the rule and the fix, and writes nothing', async () => {
    const result = await runMain(composeMain, project(replaceOnce(SCHEMA, ' @requiresScopes(scopes: [["members:pii:read"]])', '')));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'fail [sensitive-fields-protected] at Member.email (subgraph shop, product members): PII field readable without any authorization (via Query.member → Member.email). Fix: add @authenticated, @requiresScopes or @policy to Member.email',
    );
    expect(result.stdout).toContain('governance: 13 rules checked, 1 failure(s), 0 warning(s)');
    expect(result.stderr).toContain(`${join(dir, 'supergraph.yaml')}: governance failed with 1 violation(s); ${join(dir, 'out.graphql')} was not written`);
    expect(existsSync(join(dir, 'out.graphql'))).toBe(false);
  });

  it('keeps the gateway from starting on a supergraph.yaml that violates a rule', async () => {
    project(replaceOnce(SCHEMA, ' @requiresScopes(scopes: [["members:pii:read"]])', ''));
    const { loadSupergraph } = await import('../gateway/supergraph/supergraph-source.js');
    const error = await loadSupergraph(join(dir, 'supergraph.yaml')).catch((e) => e);
    expect(error.message).toContain('governance failed with 1 violation(s)');
    expect(error.message).toContain('[sensitive-fields-protected] at Member.email');
  });

  it('only warns for a rule set to warn in the rules file, and writes the supergraph', async () => {
    const result = await runMain(composeMain, project(replaceOnce(SCHEMA, ' @requiresScopes(scopes: [["members:pii:read"]])', ''), DESCRIPTOR, 'rules:\n  sensitive-fields-protected: warn\n  naming-convention: off\n'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('warn [sensitive-fields-protected] at Member.email');
    expect(result.stdout).toContain('governance: 12 rules checked, 0 failure(s), 1 warning(s)');
    expect(existsSync(join(dir, 'out.graphql'))).toBe(true);
  });

  it('names the file and key of a mistake in the rules file or in a descriptor', async () => {
    const unknown = await runMain(composeMain, project(SCHEMA, DESCRIPTOR, 'rules:\n  classify-everything: fail\n'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/rules\.yaml: rules\.classify-everything: unknown rule \(known: descriptor-matches-schema, /);
    const severity = await runMain(composeMain, project(SCHEMA, DESCRIPTOR, 'rules:\n  output-owned: error\n'));
    expect(severity.stderr).toMatch(/rules\.yaml: rules\.output-owned: "error" is not one of fail, warn, off/);
    const descriptor = await runMain(composeMain, project(SCHEMA, replaceOnce(DESCRIPTOR, 'status: active', 'status: shipping')));
    expect(descriptor.code).toBe(1);
    expect(descriptor.stderr).toMatch(/shop\/data-products\.yaml:6: members\.status: "shipping" is not one of proposed, draft, active, deprecated, retired/);
    expect(descriptor.stderr).not.toMatch(/^\s+at /m);
  });

  it('finds nothing wrong with the real mesh (supergraph.yaml), every rule at its shipped severity', async () => {
    const config = loadSupergraphConfig(join(ROOT, 'supergraph.yaml'));
    const subgraphs = await loadSubgraphSchemas(config);
    const { supergraphSdl } = composeSubgraphs(subgraphs);
    const report = runGovernance(await governanceInput(config, subgraphs, supergraphSdl), loadRuleSeverities());
    expect(report.violations.map(formatViolation)).toEqual([]);
    expect(report.rules.filter((r) => r.severity === 'fail').length).toBe(11);
  });
});
