import type { IncomingMessage } from 'node:http';
import { canonicalJson } from '../../subgraphs/mesh/canonical-json.js';
import type { DocumentFacts } from '../limits/request-guard.js';

/**
 * The key under which a request may share an in-flight execution (InflightDedup), or null when it
 * must run alone. Two requests get the same key only when everything that can change the answer is
 * the same:
 * - who asks: the caller's verified claims (scopes, policy facts, row-level claims) and purpose —
 *   `identityKey`, from which the signed identity subgraphs see is derived — never the token text,
 *   so one caller's requests share, and nothing is shared between different callers;
 * - the request's headers that change the answer: Accept (incremental delivery) and
 *   X-Cost-Extensions (extensions.cost);
 * - the operation: the parsed document (whitespace, commas and comments do not count), the
 *   operation name, the variables as canonical JSON (key order does not count), and an APQ
 *   `persistedQuery` extension (its lookup or registration changes the answer).
 * Other `extensions` entries do not affect execution, so they do not prevent sharing.
 *
 * Requests the guard could not read (GET, batches, an unparsable or unresolved document) fall back
 * to their raw text, as before: they share only byte-identical requests, and never a mutation.
 */
export function sharingKey(req: IncomingMessage, identityKey: string, body: unknown, raw: string, facts: DocumentFacts | undefined): string | null {
  const h = req.headers;
  const head = `${req.method}\n${identityKey}\n${h.accept ?? ''}\n${h['x-cost-extensions'] ?? ''}\n`;
  if (facts && isRecord(body)) {
    // A malformed operationName or extensions (Apollo answers 400) must not share with an absent one.
    if (!facts.readOnly || (body.operationName != null && typeof body.operationName !== 'string')) return null;
    if (body.extensions != null && !isRecord(body.extensions)) return null;
    const variables = canonicalJson(body.variables ?? null);
    const persisted = isRecord(body.extensions) && body.extensions.persistedQuery !== undefined ? canonicalJson(body.extensions.persistedQuery) : '';
    if (variables === null || persisted === null) return null;
    const name = typeof body.operationName === 'string' ? body.operationName : '';
    return `${head}${facts.documentKey}\n${name}\n${variables}\n${persisted}`;
  }
  // Raw text: any `\u` escape could spell a keyword (`"\u006dutation { … }"`), so it is never shared.
  const mayWrite = raw.includes('\\u') || ((raw.includes('mutation') || raw.includes('subscription')) && /\b(mutation|subscription)\b/.test(raw));
  if (mayWrite || /^\s*\[/.test(raw)) return null;
  return `${head}raw\n${raw}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
