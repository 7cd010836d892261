/**
 * The audit trail of sensitive reads, from the command line:
 *
 *   npm run audit -- verify                 checks the hash chain: exit 0 intact, 1 tampered with
 *   npm run audit -- list --subject alice --since 2026-01-01T00:00:00Z --first 20 [--json]
 *
 * Options: --db <file> (default: the gateway's audit.path setting, else $MESH_AUDIT_DB, else
 * <DATA_DIR or ./data>/audit.db); --read-only (do not replay the journals of gateways that were
 * killed before they flushed: by default they are added to the store first, so nothing they
 * answered is missing).
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { CliUsageError, parseCliOrThrow, type CliIo } from '../../subgraphs/mesh/cli-args.js';
import { auditPath, recoverJournals } from '../audit/audit-log.js';
import { AuditStore } from '../audit/audit-store.js';
import { ConfigError } from '../config/config-error.js';
import { DEFAULT_SETTINGS_FILE, loadGatewaySettings } from '../config/gateway-settings.js';
import { runCli } from './run-cli.js';

const USAGE = 'npm run audit -- [verify | list] [options]';

export async function main(args: string[], io: CliIo): Promise<number | void> {
  const { values, positionals } = parseCliOrThrow({
    usage: USAGE,
    summary: `The audit trail of sensitive reads (one event per response that returned PII, CONFIDENTIAL or
RESTRICTED values). verify walks the hash chain: exit 0 when intact, 1 when an event was edited,
deleted or the chain truncated. list prints events, oldest first.`,
    positionals: [{ name: 'command', description: 'verify (default) or list', optional: true }],
    options: {
      db: { type: 'string', value: 'FILE', description: "the audit store (default: gateway.yaml's audit.path, else $MESH_AUDIT_DB, else <DATA_DIR or ./data>/audit.db)" },
      'read-only': { type: 'boolean', default: false, description: 'do not first replay the journals of gateways killed before they flushed' },
      subject: { type: 'string', value: 'SUB', description: 'list: only events of this caller (token subject)' },
      since: { type: 'string', value: 'INSTANT', description: 'list: only events at or after this ISO-8601 instant' },
      first: { type: 'string', value: 'N', default: '20', description: 'list: at most this many events' },
      json: { type: 'boolean', default: false, description: 'print JSON' },
    },
    examples: ['npm run audit -- verify', 'npm run audit -- list --subject alice --since 2026-01-01T00:00:00Z --json'],
  }, args);
  const command = positionals[0] ?? 'verify';
  if (command !== 'verify' && command !== 'list') {
    throw new CliUsageError(`unknown command "${command}" (verify, list)`, USAGE);
  }
  const settingsFile = process.env.GATEWAY_CONFIG ?? (existsSync(DEFAULT_SETTINGS_FILE) ? DEFAULT_SETTINGS_FILE : null);
  const path = values.db ? auditPath(values.db) : auditPath(loadGatewaySettings(settingsFile).audit.path);
  const shown = relative(process.cwd(), path) || path;
  if (!existsSync(path)) throw new ConfigError(shown, null, 'no audit store here (the gateway creates it with its first sensitive read); choose another with --db');

  const store = AuditStore.open(path, { readonly: values['read-only'] });
  try {
    if (!values['read-only']) {
      const recovered = recoverJournals(store);
      if (recovered) io.out(`replayed ${recovered} event(s) from the journal of a gateway that stopped before flushing`);
    }
    if (command === 'list') {
      const first = Number(values.first);
      if (!Number.isInteger(first) || first < 1) throw new ConfigError('--first', values.first!, 'must be a positive integer');
      if (values.since && Number.isNaN(Date.parse(values.since))) throw new ConfigError('--since', values.since, 'must be an ISO-8601 instant');
      const { events } = store.query({ first, subject: values.subject ?? null, since: values.since ? new Date(values.since).toISOString() : null });
      if (values.json) return io.out(JSON.stringify(events, null, 2));
      for (const e of events) {
        const masked = e.masked ? ` masked: ${e.maskedCoordinates.join(', ')}` : '';
        io.out(`#${e.seq} ${e.at} ${e.subject ?? '(anonymous)'} ${e.operationName ?? '(unnamed)'}${e.purpose ? ` purpose=${e.purpose}` : ''} rows=${e.rowCount} ${e.coordinates.join(', ')}${masked}`);
      }
      return;
    }
    const report = store.verify();
    if (values.json) io.out(JSON.stringify(report, null, 2));
    else if (report.ok) io.out(`audit trail ${shown}: ${report.events} events, chain intact${report.head ? `; head #${report.head.seq} ${report.head.hash}` : ''}`);
    else {
      io.out(`audit trail ${shown}: ${report.events} events, chain BROKEN (${report.problems.length} problem(s)):`);
      for (const p of report.problems) io.out(`  ${p.seq === null ? '' : `#${p.seq} `}${p.id ? `(id ${p.id}) ` : ''}${p.problem}`);
    }
    if (!report.ok) return 1;
  } finally {
    store.close();
  }
}

runCli(main, import.meta.url);
