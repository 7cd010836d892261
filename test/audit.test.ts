import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalDir, recoverJournals } from '../gateway/audit/audit-log.js';
import { AuditStore, type AuditEventInput } from '../gateway/audit/audit-store.js';
import { main as auditMain } from '../gateway/cli/audit.js';
import { freePort, PROCESS_TEST_TIMEOUT_MS, runCli, runMain, startCli } from './helpers/cli.js';
import { postGraphQL, startMesh, token, type TestMesh } from './helpers/mesh.js';

const AUDIT_CLI = 'gateway/cli/audit.ts';
const tempStore = () => join(mkdtempSync(join(tmpdir(), 'audit-test-')), 'audit.db');
const event = (n: number, subject = 'alice'): AuditEventInput => ({
  id: `test-${n}`,
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  subject,
  purpose: 'operations',
  operationName: 'Profile',
  operationHash: 'a'.repeat(64),
  coordinates: ['Customer.email'],
  rowCount: 1,
  masked: false,
  maskedCoordinates: [],
  details: null,
});

describe('audit store: append-only, hash-chained', () => {
  it('chains events and finds the chain intact', () => {
    const store = AuditStore.open(tempStore());
    expect(store.append([event(1), event(2)])).toBe(2);
    expect(store.append([event(2), event(3)])).toBe(1); // an id already stored is skipped
    const { events } = store.query({ first: 10 });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[1]!.previousHash).toBe(events[0]!.hash);
    expect(store.verify()).toMatchObject({ ok: true, events: 3, head: { seq: 3, hash: events[2]!.hash } });
    store.close();
  });

  it('refuses UPDATE and DELETE on stored events', () => {
    const path = tempStore();
    AuditStore.open(path).append([event(1)]);
    const db = new Database(path);
    expect(() => db.prepare("UPDATE audit_events SET subject = 'mallory'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/);
    db.close();
  });

  it('npm run audit -- verify detects an edited event, a deleted one and events deleted from the end', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    const tampered = (change: (db: Database.Database) => void) => {
      const path = tempStore();
      const store = AuditStore.open(path);
      store.append([1, 2, 3, 4].map((n) => event(n)));
      store.close();
      const db = new Database(path);
      db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
      change(db);
      db.close();
      return path;
    };
    const intact = tempStore();
    AuditStore.open(intact).append([event(1), event(2)]);
    // The intact store through the real `npm run audit` process (its exit code is what a script sees);
    // the tampered ones through the same main in this process, meanwhile.
    const [ok, edited, deleted, truncated] = await Promise.all([
      runCli(AUDIT_CLI, ['verify', '--db', intact]),
      runMain(auditMain, ['verify', '--db', tampered((db) => db.prepare("UPDATE audit_events SET subject = 'bob' WHERE seq = 2").run())]),
      runMain(auditMain, ['verify', '--db', tampered((db) => db.prepare('DELETE FROM audit_events WHERE seq = 2').run())]),
      runMain(auditMain, ['verify', '--db', tampered((db) => db.prepare('DELETE FROM audit_events WHERE seq >= 3').run())]),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/2 events, chain intact; head #2 [0-9a-f]{64}/);

    expect(edited.code).toBe(1);
    expect(edited.stdout).toMatch(/chain BROKEN[\s\S]*#2 \(id test-2\) hash does not match the content: the event was edited/);

    expect(deleted.code).toBe(1);
    expect(deleted.stdout).toMatch(/#3 \(id test-3\) events 2…2 are missing \(deleted\)/);

    expect(truncated.code).toBe(1);
    expect(truncated.stdout).toMatch(/the head record says 4 events, the chain ends at 2: events were deleted from the end/);
  });

  it('replays the journal a killed gateway left, once', () => {
    const path = tempStore();
    const store = AuditStore.open(path);
    store.append([event(1)]);
    mkdirSync(journalDir(path), { recursive: true });
    // A pid that is not running: its journal is an orphan. The last line was cut short by the kill.
    const orphan = join(journalDir(path), '999999999-12345-abcd.jsonl');
    writeFileSync(orphan, `${JSON.stringify(event(1))}\n${JSON.stringify(event(2))}\n{"id":"test-3","at`);
    expect(recoverJournals(store)).toBe(1);
    expect(existsSync(orphan)).toBe(false);
    expect(store.query({ first: 10 }).events.map((e) => e.id)).toEqual(['test-1', 'test-2']);
    expect(store.verify().ok).toBe(true);
    store.close();
  });
});

describe('audit trail of sensitive reads, on the mesh', () => {
  let mesh: TestMesh;
  let path: string;
  const auditor = () => token(['governance:audit:read'], {}, 'auditor');
  const events = async (args = '') => {
    const { body } = await mesh.query(
      `{ auditEvents(${args || 'first: 500'}) { events { seq id at subject purpose operationName operationHash coordinates rowCount masked maskedCoordinates details previousHash hash } endCursor hasNextPage } }`,
      undefined,
      { authorization: `Bearer ${await auditor()}` },
    );
    expect(body.errors).toBeUndefined();
    return body.data.auditEvents as { events: any[]; endCursor: string | null; hasNextPage: boolean };
  };
  const last = async () => (await events()).events.filter((e) => e.operationName !== null && !e.coordinates.includes('Query.auditEvents')).at(-1);

  beforeAll(async () => {
    path = tempStore();
    mesh = await startMesh({ privacy: { audit: { path } } });
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it('records one event per response that returns personal data: who, purpose, operation, hash, coordinates, rows; never the token', async () => {
    const alice = await token(['customers:pii:read'], {}, 'alice');
    const query = 'query Profile { customer(id: "42") { id fullName email region orders(first: 2) { id total } } }';
    const { body } = await mesh.query(query, undefined, { authorization: `Bearer ${alice}`, 'x-data-purpose': 'operations' });
    expect(body.errors).toBeUndefined();
    const e = await last();
    expect(e).toMatchObject({
      subject: 'alice',
      purpose: 'operations',
      operationName: 'Profile',
      operationHash: createHash('sha256').update(query).digest('hex'),
      coordinates: ['Customer.email', 'Customer.fullName', 'Customer.orders', 'Order.total'],
      rowCount: 3,
      masked: false,
      maskedCoordinates: [],
    });
    expect(Date.now() - Date.parse(e.at)).toBeLessThan(60_000);
    expect(JSON.stringify(await events())).not.toContain(alice);
  });

  it('records nothing for a response without sensitive values (public fields, removed fields, no row, the catalog)', async () => {
    const reads = async () => (await events()).events.filter((e) => !e.coordinates.includes('Query.auditEvents')).length;
    const before = await reads();
    const bearer = { authorization: `Bearer ${await token(['sales:read'], {}, 'bob')}` };
    await mesh.query('query Public { customer(id: "42") { id region city } }', undefined, bearer);
    const filtered = await mesh.query('query Filtered { customer(id: "42") { region phone } }', undefined, bearer);
    expect(filtered.body.errors![0]!.extensions!.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    await mesh.query('{ dataProducts { id } }');
    await mesh.query('query NoSuchCustomer { customer(id: "999999") { email } }', undefined, { authorization: `Bearer ${await token(['customers:pii:read'])}` });
    expect(await reads()).toBe(before);
  });

  it('says when values were masked, and which', async () => {
    await mesh.query('query Support { customer(id: "42") { email phone region } }', undefined, { authorization: `Bearer ${await token(['customers:pii:masked'], {}, 'carol')}` });
    expect(await last()).toMatchObject({ subject: 'carol', operationName: 'Support', masked: true, maskedCoordinates: ['Customer.email', 'Customer.phone'] });
  });

  it('serves auditEvents only with governance:audit:read, filtered by subject and time, paged, and audits reading it', async () => {
    const denied = await mesh.query('{ auditEvents { events { seq } } }', undefined, { authorization: `Bearer ${await token(['customers:pii:read'])}` });
    expect(denied.body.data).toBeNull();
    expect(denied.body.errors![0]).toMatchObject({ path: ['auditEvents'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } });

    const alice = await events('subject: "alice"');
    expect(alice.events.length).toBeGreaterThan(0);
    expect(alice.events.every((e) => e.subject === 'alice')).toBe(true);
    expect((await events(`since: "${new Date(Date.now() + 60_000).toISOString()}"`)).events).toEqual([]);

    const all = (await events()).events;
    const first = await events('first: 1');
    expect(first).toMatchObject({ hasNextPage: true, endCursor: String(all[0].seq) });
    const second = await events(`first: 1, after: "${first.endCursor}"`);
    expect(second.events[0].seq).toBe(all[1].seq);

    const reads = (await events('subject: "auditor"')).events.filter((e) => e.coordinates.includes('Query.auditEvents'));
    expect(reads.length).toBeGreaterThan(0);
    const bad = await mesh.query('{ auditEvents(since: "yesterday") { events { seq } } }', undefined, { authorization: `Bearer ${await auditor()}` });
    expect(bad.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('keeps a chain that verifies', async () => {
    await events();
    const result = await runMain(auditMain, ['verify', '--db', path]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/chain intact/);
  });

  it('loses no event when the gateway is killed (SIGKILL) right after answering', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-kill-'));
    const supergraphFile = join(dir, 'supergraph.graphql');
    writeFileSync(supergraphFile, mesh.supergraphSdl);
    // Flushing into SQLite every 10 minutes: the event can only survive through the write-ahead journal.
    const settings = join(dir, 'gateway.yaml');
    writeFileSync(settings, 'audit:\n  flush_interval: 10m\n');
    const store = join(dir, 'audit.db');
    const port = await freePort();
    const gateway = startCli('gateway/cli/gateway.ts', ['--supergraph', supergraphFile, '--port', String(port)], {
      env: { MESH_AUDIT_DB: store, GATEWAY_CONFIG: settings, LOG_LEVEL: 'warn' },
    });
    try {
      await gateway.waitForOutput(/gateway ready/);
      const response = await postGraphQL(`http://127.0.0.1:${port}/graphql`, 'query BeforeTheKill { customer(id: "7") { email } }', undefined, {
        authorization: `Bearer ${await token(['customers:pii:read'], {}, 'dave')}`,
      });
      expect(response.body.data.customer.email).toMatch(/@example\.com$/);
      gateway.child.kill('SIGKILL');
      expect((await gateway.exited()).signal).toBe('SIGKILL');
    } finally {
      await gateway.stop('SIGKILL');
    }
    expect(readdirSync(journalDir(store)).length).toBe(1);
    const listed = await runMain(auditMain, ['list', '--db', store, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/replayed 1 event\(s\) from the journal/);
    const replayed = JSON.parse(listed.stdout.slice(listed.stdout.indexOf('['))) as any[];
    expect(replayed).toEqual([expect.objectContaining({ subject: 'dave', operationName: 'BeforeTheKill', coordinates: ['Customer.email'], rowCount: 1 })]);
    expect(readdirSync(journalDir(store))).toEqual([]);
    const verified = await runMain(auditMain, ['verify', '--db', store]);
    expect(verified.stdout).toMatch(/1 events, chain intact/);
  });
});
