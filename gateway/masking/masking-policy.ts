import { Environment } from '@marcbachmann/cel-js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../config/config-error.js';
import type { FieldClassification } from '../../subgraphs/mesh/data-products/classification.js';

/**
 * The masking section of the governance (gateway/governance/masking.yaml): what a caller sees of a
 * classified field, from the field's classification and PII flag and the caller's grants.
 *
 *   rules:                                   # first matching rule wins; none = allow
 *     - id: personal-data-masked-for-support
 *       fields: { pii: true, classification: [CONFIDENTIAL] }   # which fields (all conditions hold)
 *       when: '"customers:pii:masked" in scopes'                # which callers (CEL over claims, scopes)
 *       decision: mask                                          # allow | mask | deny
 *
 * - `allow`: the schema's authorization decides alone (the value, or UNAUTHORIZED_FIELD_OR_TYPE);
 * - `mask`: the field's masked value (its descriptor's `mask`), whether or not the schema's
 *   directives would let this caller read the value; a field without a mask is denied;
 * - `deny`: refused like an unauthorized field, even when the directives allow it.
 *
 * `when` sees only what is verified: `claims` (the token's) and `scopes`. An expression that fails
 * to evaluate denies the fields its rule covers.
 */
export type MaskingDecision = 'allow' | 'mask' | 'deny';
const DECISIONS: readonly MaskingDecision[] = ['allow', 'mask', 'deny'];
const LEVELS = ['PUBLIC', 'INTERNAL', 'CONFIDENTIAL', 'RESTRICTED'] as const;
const COORDINATE = /^[_A-Za-z][_0-9A-Za-z]*\.[_A-Za-z][_0-9A-Za-z]*$/;

export interface MaskingRule {
  id: string;
  description: string;
  fields: { classification: string[] | null; pii: boolean | null; coordinates: string[] | null };
  when: string;
  decision: MaskingDecision;
  /** The rule's key in the file, for messages: `rules[1]`. */
  key: string;
  /** `:12`, the line of a key path in the file ('' when unknown). */
  lineOf(key: string): string;
  evaluate(input: { claims: Record<string, unknown>; scopes: string[] }): unknown;
}

/** What the masking rules give one caller: the decision for every governed field that is not `allow`. */
export interface CallerMasking {
  decisions: ReadonlyMap<string, 'mask' | 'deny'>;
  /** The coordinates decided `mask`. */
  masked: ReadonlySet<string>;
}

const NOTHING: CallerMasking = Object.freeze({ decisions: new Map(), masked: new Set<string>() }) as CallerMasking;

/** The default file: masking.yaml beside the policies file (none there = no masking rules). */
export const maskingFileBeside = (policiesFile: string): string => join(dirname(policiesFile), 'masking.yaml');

export class MaskingPolicy {
  /** Rules that may apply to each classified field, in order (from the supergraph, once). */
  private readonly candidates = new Map<string, MaskingRule[]>();
  private readonly perCaller = new WeakMap<ReadonlySet<string>, CallerMasking>();
  /** What is suspicious but not wrong, for the start-up log (e.g. a coordinate this supergraph lacks). */
  readonly warnings: string[] = [];

  private constructor(
    readonly file: string,
    readonly rules: readonly MaskingRule[],
    classifications: ReadonlyMap<string, FieldClassification>,
  ) {
    // A rule may name fields of another supergraph (the file is the mesh's): reported, not fatal.
    for (const rule of rules) {
      for (const [i, coordinate] of (rule.fields.coordinates ?? []).entries()) {
        const key = `${rule.key}.fields.coordinates[${i}]`;
        if (!classifications.has(coordinate)) this.warnings.push(`${file}${rule.lineOf(key)}: ${key}: ${coordinate} is not a classified field of this supergraph; the rule does not apply to it`);
      }
    }
    for (const [coordinate, c] of classifications) {
      const matching = rules.filter((r) => matches(r, coordinate, c));
      if (matching.length) this.candidates.set(coordinate, matching);
    }
  }

  /**
   * Reads and validates the rules (errors name the file and the key), and checks them against the
   * supergraph's classifications. A missing file means no rules: the schema's directives decide.
   */
  static load(file: string, classifications: ReadonlyMap<string, FieldClassification>): MaskingPolicy {
    const shown = relative(process.cwd(), file) || file;
    if (!existsSync(file)) return new MaskingPolicy(shown, [], classifications);
    return new MaskingPolicy(shown, parseRules(readFileSync(file, 'utf8'), shown), classifications);
  }

  static fromText(text: string, file: string, classifications: ReadonlyMap<string, FieldClassification>): MaskingPolicy {
    return new MaskingPolicy(file, parseRules(text, file), classifications);
  }

  /** Classified fields some rule may apply to: the ones authorization looks at per caller. */
  get governed(): ReadonlySet<string> {
    return new Set(this.candidates.keys());
  }

  /**
   * The caller's decisions, computed once per verified identity (keyed by its scopes set, which
   * the gateway derives once per token): each rule's `when` is evaluated once, not per field.
   */
  forCaller(caller: { scopes: ReadonlySet<string>; claims: Record<string, unknown> }): CallerMasking {
    if (this.candidates.size === 0) return NOTHING;
    let result = this.perCaller.get(caller.scopes);
    if (result) return result;
    const input = { claims: caller.claims, scopes: [...caller.scopes] };
    const verdicts = new Map<MaskingRule, 'yes' | 'no' | 'error'>();
    for (const rule of this.rules) {
      let verdict: 'yes' | 'no' | 'error';
      try {
        const value = rule.evaluate(input);
        verdict = value === true ? 'yes' : value === false ? 'no' : 'error';
      } catch {
        verdict = 'error';
      }
      verdicts.set(rule, verdict);
    }
    const decisions = new Map<string, 'mask' | 'deny'>();
    const masked = new Set<string>();
    for (const [coordinate, rules] of this.candidates) {
      for (const rule of rules) {
        const verdict = verdicts.get(rule)!;
        if (verdict === 'no') continue;
        const decision = verdict === 'error' ? 'deny' : rule.decision;
        if (decision !== 'allow') decisions.set(coordinate, decision);
        if (decision === 'mask') masked.add(coordinate);
        break;
      }
    }
    result = decisions.size ? { decisions, masked } : NOTHING;
    this.perCaller.set(caller.scopes, result);
    return result;
  }
}

function matches(rule: MaskingRule, coordinate: string, c: FieldClassification): boolean {
  const { classification, pii, coordinates } = rule.fields;
  if (classification && !classification.includes(c.level.toUpperCase())) return false;
  if (pii !== null && c.pii !== pii) return false;
  if (coordinates && !coordinates.includes(coordinate)) return false;
  return true;
}

function parseRules(text: string, file: string): MaskingRule[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length) throw new ConfigError(file, null, `invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const fail = (key: string, problem: string): never => {
    throw new ConfigError(`${file}${lineOf(doc, lines, key)}`, key, problem);
  };
  if (doc.contents === null) return [];
  if (!isMap(doc.contents)) fail('', 'must be a mapping with a `rules` list');
  const top = doc.toJS() as Record<string, unknown>;
  for (const key of Object.keys(top)) if (key !== 'rules') fail(key, 'unknown key (allowed: rules)');
  if (top.rules === undefined || top.rules === null) return [];
  if (!Array.isArray(top.rules)) fail('rules', 'must be a list of rules');
  const env = new Environment().registerVariable('claims', 'map').registerVariable('scopes', 'list<string>');
  const ids = new Set<string>();
  return (top.rules as unknown[]).map((raw, i): MaskingRule => {
    const key = `rules[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(key, 'must be a mapping (id, fields, when, decision)');
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!['id', 'description', 'fields', 'when', 'decision'].includes(k)) fail(`${key}.${k}`, 'unknown key (allowed here: id, description, fields, when, decision)');
    if (typeof r.id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(r.id)) fail(`${key}.id`, 'missing or not kebab-case (e.g. personal-data-masked)');
    const id = r.id as string;
    if (ids.has(id)) fail(`${key}.id`, `duplicate rule id "${id}"`);
    ids.add(id);
    if (!DECISIONS.includes(r.decision as MaskingDecision)) fail(`${key}.decision`, `${JSON.stringify(r.decision)} is not one of ${DECISIONS.join(', ')}`);
    if (typeof r.when !== 'string' || r.when.trim() === '') fail(`${key}.when`, "missing: a CEL expression over claims and scopes ('true' for every caller)");
    let compiled: (ctx: Record<string, unknown>) => unknown;
    try {
      compiled = env.parse(r.when as string) as unknown as (ctx: Record<string, unknown>) => unknown;
    } catch (error) {
      fail(`${key}.when`, `invalid CEL: ${(error as Error).message.split('\n')[0]}`);
    }
    return {
      id,
      description: typeof r.description === 'string' ? r.description : '',
      fields: parseFields(r.fields, `${key}.fields`, fail),
      when: r.when as string,
      decision: r.decision as MaskingDecision,
      key,
      lineOf: (k) => lineOf(doc, lines, k),
      evaluate: (input) => compiled!(input as unknown as Record<string, unknown>),
    };
  });
}

function parseFields(raw: unknown, key: string, fail: (key: string, problem: string) => never): MaskingRule['fields'] {
  if (raw === undefined || raw === null) return { classification: null, pii: null, coordinates: null };
  if (typeof raw !== 'object' || Array.isArray(raw)) return fail(key, 'must be a mapping (classification, pii, coordinates)');
  const f = raw as Record<string, unknown>;
  for (const k of Object.keys(f)) if (!['classification', 'pii', 'coordinates'].includes(k)) fail(`${key}.${k}`, 'unknown key (allowed here: classification, pii, coordinates)');
  const list = (value: unknown, at: string, check: (v: string) => string | null): string[] | null => {
    if (value === undefined) return null;
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0) fail(at, 'must not be empty');
    items.forEach((v, i) => {
      const problem = typeof v === 'string' ? check(v) : 'must be a string';
      if (problem) fail(`${at}[${i}]`, problem);
    });
    return items as string[];
  };
  if (f.pii !== undefined && typeof f.pii !== 'boolean') fail(`${key}.pii`, 'must be true or false');
  return {
    classification: list(f.classification, `${key}.classification`, (v) => ((LEVELS as readonly string[]).includes(v) ? null : `"${v}" is not one of ${LEVELS.join(', ')}`)),
    pii: (f.pii as boolean | undefined) ?? null,
    coordinates: list(f.coordinates, `${key}.coordinates`, (v) => (COORDINATE.test(v) ? null : `"${v}" is not a Type.field coordinate`)),
  };
}

/** `:12` for a key path like `rules[1].when`, when the document has it. */
function lineOf(doc: Document, lines: LineCounter, key: string): string {
  if (!key) return '';
  const path = key.split(/\.|\[|\]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && (isMap(node) || isSeq(node) || isScalar(node)) && node.range) return `:${lines.linePos(node.range[0]).line}`;
  }
  return '';
}
