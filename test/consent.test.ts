import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_HEADER, IdentitySigner } from '../subgraphs/mesh/identity.js';
import { startMesh, TEST_SIGNING_KEY, token, type TestMesh } from './helpers/mesh.js';

/**
 * The marketing-consent product's decisions apply to marketing-purpose reads, in every domain
 * (governance file `rowRules.marketing-consent`): a customer who withdrew consent for a channel is
 * left out of marketing-purpose results about that channel.
 */
let mesh: TestMesh;
let marketer: Record<string, string>;
let marketing: Record<string, string>;
interface Consent {
  customer_id: number;
  email_opt_in: number;
  sms_opt_in: number;
  profiling_opt_in: number;
}
const consentOf = new Map<number, Consent>();
const CHANNEL_FLAG: Record<string, keyof Consent> = { EMAIL: 'email_opt_in', SMS: 'sms_opt_in', SOCIAL: 'profiling_opt_in', DISPLAY: 'profiling_opt_in' };

beforeAll(async () => {
  mesh = await startMesh();
  marketer = { authorization: `Bearer ${await token(['customers:pii:read', 'sales:read', 'marketing:consent:read'], { department: 'marketing' })}` };
  marketing = { ...marketer, 'x-data-purpose': 'marketing' };
  for (const c of mesh.database('marketing').prepare('SELECT * FROM consents').all() as Consent[]) consentOf.set(c.customer_id, c);
});
afterAll(() => mesh?.close());

describe('marketing-purpose reads honour consent, channel by channel', () => {
  it('leaves out the responses of customers without consent for the campaign\'s channel (e-mail, SMS; social and display are profiling)', async () => {
    const db = mesh.database('marketing');
    const campaigns = db.prepare('SELECT id, channel FROM campaigns ORDER BY id').all() as { id: number; channel: string }[];
    const checked = new Set<string>();
    for (const channel of ['EMAIL', 'SMS', 'SOCIAL', 'DISPLAY']) {
      const campaign = campaigns.find((c) => c.channel === channel && (db.prepare('SELECT COUNT(*) AS n FROM campaign_responses WHERE campaign_id = ?').get(c.id) as { n: number }).n > 0);
      if (!campaign) continue;
      const all = (db.prepare('SELECT customer_id FROM campaign_responses WHERE campaign_id = ?').all(campaign.id) as { customer_id: number }[]).map((r) => r.customer_id);
      const consented = all.filter((id) => consentOf.get(id)![CHANNEL_FLAG[channel]!] === 1);
      const { body } = await mesh.query(`{ campaign(id: "${campaign.id}") { channel responses(first: 500) { customer { id } } } }`, undefined, marketing);
      expect(body.errors, channel).toBeUndefined();
      const returned = body.data.campaign.responses.map((r: { customer: { id: string } }) => Number(r.customer.id));
      expect(returned.sort((a: number, b: number) => a - b), channel).toEqual(consented.sort((a, b) => a - b));
      if (consented.length < all.length) checked.add(channel);
    }
    // Withdrawn consents were actually there to leave out, for the contact channels at least.
    expect(checked.has('EMAIL') && checked.has('SMS')).toBe(true);
  });

  it('leaves out a customer\'s responses to e-mail campaigns once e-mail consent is withdrawn, and keeps the others', async () => {
    const db = mesh.database('marketing');
    const row = db
      .prepare(
        `SELECT r.customer_id AS id FROM campaign_responses r JOIN campaigns c ON c.id = r.campaign_id JOIN consents k ON k.customer_id = r.customer_id
         WHERE k.email_opt_in = 0 AND k.profiling_opt_in = 1 GROUP BY r.customer_id
         HAVING SUM(c.channel = 'EMAIL') > 0 AND SUM(c.channel IN ('SOCIAL', 'DISPLAY')) > 0 LIMIT 1`,
      )
      .get() as { id: number };
    const { body } = await mesh.query(`{ customer(id: "${row.id}") { campaignResponses(first: 100) { campaign { channel } } } }`, undefined, marketing);
    expect(body.errors).toBeUndefined();
    const channels = body.data.customer.campaignResponses.map((r: { campaign: { channel: string } }) => r.campaign.channel);
    expect(channels).not.toContain('EMAIL');
    expect(channels.some((c: string) => c === 'SOCIAL' || c === 'DISPLAY')).toBe(true);
  });

  it('returns no e-mail address or phone number for a channel the customer withdrew (customers domain)', async () => {
    const pick = (where: string) => (mesh.database('marketing').prepare(`SELECT customer_id AS id FROM consents WHERE ${where} LIMIT 1`).get() as { id: number }).id;
    const noEmail = pick('email_opt_in = 0 AND sms_opt_in = 1');
    const noSms = pick('sms_opt_in = 0 AND email_opt_in = 1');
    const customers = mesh.database('customers');
    const phoneOf = (id: number) => (customers.prepare('SELECT phone FROM customers WHERE id = ?').get(id) as { phone: string | null }).phone;
    const q = `{ a: customer(id: "${noEmail}") { email phone } b: customer(id: "${noSms}") { email phone } }`;
    const forMarketing = await mesh.query(q, undefined, marketing);
    expect(forMarketing.body.errors).toBeUndefined();
    expect(forMarketing.body.data.a).toEqual({ email: null, phone: phoneOf(noEmail) });
    expect(forMarketing.body.data.b.email).toMatch(/@example\.com$/);
    expect(forMarketing.body.data.b.phone).toBeNull();
    // The same caller, for its default (operational) purpose: consent does not apply.
    const operations = await mesh.query(q, undefined, marketer);
    expect(operations.body.data.a.email).toMatch(/@example\.com$/);
  });

  it('leaves out the behaviour of a customer who refused profiling: orders, figures, segment (sales and marketing)', async () => {
    const sales = mesh.database('sales');
    const refused = [...consentOf.values()].find((c) => c.profiling_opt_in === 0 && (sales.prepare('SELECT COUNT(*) AS n FROM orders WHERE customer_id = ?').get(c.customer_id) as { n: number }).n > 2)!;
    const q = `{ customer(id: "${refused.customer_id}") { id orders(first: 5) { id } orderCount lifetimeValue consent { profilingOptIn } } }`;
    const forMarketing = await mesh.query(q, undefined, marketing);
    expect(forMarketing.body.errors).toBeUndefined();
    // The customer stays (master data is about no channel); the decision itself is not withheld.
    expect(forMarketing.body.data.customer).toEqual({ id: String(refused.customer_id), orders: [], orderCount: null, lifetimeValue: null, consent: { profilingOptIn: false } });
    const operations = await mesh.query(q, undefined, marketer);
    expect(operations.body.data.customer.orders.length).toBeGreaterThan(2);
    expect(operations.body.data.customer.orderCount).toBeGreaterThan(2);
  });

  it('applies in finance too: no invoices or balance of a customer who refused profiling, for a marketing-purpose read', async () => {
    const finance = mesh.database('finance');
    const refused = [...consentOf.values()].find((c) => c.profiling_opt_in === 0 && finance.prepare("SELECT 1 FROM invoices WHERE customer_id = ? AND status IN ('OPEN', 'OVERDUE')").get(c.customer_id))!;
    const consented = [...consentOf.values()].find((c) => c.profiling_opt_in === 1 && finance.prepare("SELECT 1 FROM invoices WHERE customer_id = ? AND status IN ('OPEN', 'OVERDUE')").get(c.customer_id))!;
    // Asked the way the gateway asks, with the identity it forwards for a marketing-purpose request.
    const identity = { authenticated: true, subject: 'tester', scopes: [], claims: { department: 'finance' }, purpose: 'marketing', rows: { Customer: { match: {}, consent: true } } };
    const header = await new IdentitySigner(TEST_SIGNING_KEY).header(identity);
    const ids = [refused.customer_id, consented.customer_id];
    const response = await fetch(mesh.subgraphs.finance!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: header },
      body: JSON.stringify({ query: `{ _entities(representations: [${ids.map((id) => `{ __typename: "Customer", id: "${id}" }`).join(', ')}]) { ... on Customer { invoices { id } outstandingBalance } } }` }),
    });
    const { data } = (await response.json()) as { data: any };
    expect(data._entities[0]).toEqual({ invoices: [], outstandingBalance: null });
    expect(data._entities[1].invoices.length).toBeGreaterThan(0);
    expect(data._entities[1].outstandingBalance).toBeGreaterThan(0);
  });

  it('does not apply to other purposes, nor to aggregates', async () => {
    const analyst = { authorization: `Bearer ${await token(['sales:read'], { department: 'analytics' })}`, 'x-data-purpose': 'analytics' };
    const refused = [...consentOf.values()].find((c) => c.profiling_opt_in === 0)!;
    const sales = mesh.database('sales');
    const n = (sales.prepare('SELECT COUNT(*) AS n FROM orders WHERE customer_id = ?').get(refused.customer_id) as { n: number }).n;
    const { body } = await mesh.query(`{ customer(id: "${refused.customer_id}") { orderCount } }`, undefined, analyst);
    expect(body.data.customer.orderCount).toBe(n);
    // Sales trends are statistics, not rows about a person: the same for both purposes.
    const trends = '{ salesTrends(period: YEAR) { period orders } }';
    const a = await mesh.query(trends, undefined, { ...analyst });
    const m = await mesh.query(trends, undefined, { authorization: analyst.authorization, 'x-data-purpose': 'marketing' });
    expect(m.body.data.salesTrends).toEqual(a.body.data.salesTrends);
  });
});
